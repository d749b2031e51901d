using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Konduktor.Storage;

/// <summary>Writes manifests, and reads them back refusing anything a restore must not trust.</summary>
internal static class ManifestCodec
{
    /// <summary>Manifests larger than this are refused unread: a sane checkpoint lists far fewer files.</summary>
    public const int MaxBytes = 16 * 1024 * 1024;

    public static byte[] Serialize(CheckpointManifest manifest) =>
        JsonSerializer.SerializeToUtf8Bytes(manifest, ManifestJsonContext.Default.CheckpointManifest);

    /// <summary>Parses and checks a manifest found at <c>{run}/{scope}/step-{step}/manifest.json</c>.</summary>
    /// <exception cref="InvalidManifestException">The manifest cannot be trusted; the message says why.</exception>
    public static CheckpointManifest Parse(ReadOnlySpan<byte> json, string run, string scope, long step)
    {
        if (json.Length > MaxBytes)
        {
            throw new InvalidManifestException($"it is larger than {MaxBytes} bytes");
        }

        CheckpointManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(json, ManifestJsonContext.Default.CheckpointManifest);
        }
        catch (JsonException e)
        {
            throw new InvalidManifestException($"it is not valid manifest JSON ({e.Message})");
        }

        if (manifest is null)
        {
            throw new InvalidManifestException("it is JSON null");
        }

        Check(manifest, run, scope, step);
        return manifest;
    }

    private static void Check(CheckpointManifest m, string run, string scope, long step)
    {
        if (m.Format != CheckpointManifest.CurrentFormat)
        {
            throw new InvalidManifestException($"its format is '{m.Format}', this version reads '{CheckpointManifest.CurrentFormat}'");
        }

        if (m.Run != run || m.Scope != scope || m.Step != step)
        {
            throw new InvalidManifestException(
                $"it says run '{m.Run}', scope '{m.Scope}', step {m.Step.ToString(CultureInfo.InvariantCulture)} but was found at run '{run}', scope '{scope}', step {step.ToString(CultureInfo.InvariantCulture)}");
        }

        if (CheckpointLayout.CheckSegment(m.Writer) is { } writerProblem)
        {
            throw new InvalidManifestException($"its writer '{ObjectKey.Printable(m.Writer)}' is not valid: {writerProblem}");
        }

        if (m.Files is null || m.Metadata is null)
        {
            throw new InvalidManifestException("it has no files or metadata list");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in m.Files)
        {
            if (file is null)
            {
                throw new InvalidManifestException("it lists a null file");
            }

            if (CheckpointLayout.CheckFileName(file.Name) is { } nameProblem)
            {
                throw new InvalidManifestException($"file name '{ObjectKey.Printable(file.Name)}' is not valid: {nameProblem}");
            }

            // A key is relative to its step folder; one that is not a plain relative key could point outside it.
            var keyProblem = ObjectKey.Check(file.Key) ?? (CheckpointLayout.IsReservedInStep(file.Key) ? "not inside a writer folder" : null);
            if (keyProblem is not null)
            {
                throw new InvalidManifestException(
                    $"file '{file.Name}' names key '{ObjectKey.Printable(file.Key)}' outside its step's data: {keyProblem}");
            }

            if (file.Length < 0)
            {
                throw new InvalidManifestException($"file '{file.Name}' has a negative length");
            }

            if (!ContentHash.IsSupported(file.Checksum))
            {
                throw new InvalidManifestException($"file '{file.Name}' has checksum '{ObjectKey.Printable(file.Checksum)}', not one this version verifies");
            }

            // Names that differ only in Unicode composition would collide on normalising file systems.
            if (!names.Add(file.Name.Normalize(NormalizationForm.FormC)))
            {
                throw new InvalidManifestException($"file '{file.Name}' is listed twice (names are compared in Unicode normal form C)");
            }
        }

        // "a" and "a/b" cannot both be files of one directory.
        foreach (var name in names)
        {
            for (var slash = name.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = name.IndexOf('/', slash + 1))
            {
                if (names.Contains(name[..slash]))
                {
                    throw new InvalidManifestException($"file '{name[..slash]}' is also a folder of '{name}'");
                }
            }
        }

        if (m.Metadata.Any(kv => kv.Key is null || kv.Value is null))
        {
            throw new InvalidManifestException("its metadata has a null key or value");
        }
    }
}

/// <summary>A manifest that cannot be trusted; restores skip it.</summary>
internal sealed class InvalidManifestException(string reason) : Exception(reason);
