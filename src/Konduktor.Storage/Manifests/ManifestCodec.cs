using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Konduktor.Storage;

/// <summary>Writes manifests, and reads them back refusing anything a restore must not trust.</summary>
internal static class ManifestCodec
{
    /// <summary>
    /// Manifests larger than this (16 MiB) are refused unread: a sane checkpoint lists far fewer files. Saves refuse to commit
    /// a larger one (<see cref="SerializeForCommit"/>).
    /// </summary>
    public const int MaxBytes = 16 * 1024 * 1024;

    public static byte[] Serialize(CheckpointManifest manifest) =>
        JsonSerializer.SerializeToUtf8Bytes(manifest, DocumentJsonContext.Default.CheckpointManifest);

    /// <summary>
    /// Serializes a manifest a save is about to commit and runs every reader check (<see cref="Parse"/>, with the same limits)
    /// on those very bytes, so a save never commits what its own readers would skip.
    /// </summary>
    /// <exception cref="ArgumentException">The metadata has a null key or value.</exception>
    /// <exception cref="CheckpointStorageException">Readers would refuse the manifest (e.g. it is over <see cref="MaxBytes"/>); the message says why, with the sizes.</exception>
    public static byte[] SerializeForCommit(CheckpointManifest manifest)
    {
        ThrowIfInvalidMetadata(manifest.Step, manifest.Metadata);
        var bytes = Serialize(manifest);
        try
        {
            Parse(bytes, manifest.Run, manifest.Scope, manifest.Step);
        }
        catch (InvalidManifestException e)
        {
            throw new CheckpointStorageException(
                $"The manifest of step {manifest.Step.ToString(CultureInfo.InvariantCulture)} would be {bytes.Length.ToString(CultureInfo.InvariantCulture)} bytes ({manifest.Files.Count.ToString(CultureInfo.InvariantCulture)} files, {manifest.Metadata.Count.ToString(CultureInfo.InvariantCulture)} metadata values), and every reader would refuse it: {e.Message}. Nothing was committed.");
        }

        return bytes;
    }

    /// <summary>Refuses metadata readers would refuse, as an <see cref="ArgumentException"/> naming the parameter <c>metadata</c>.</summary>
    public static void ThrowIfInvalidMetadata(long step, IEnumerable<KeyValuePair<string, string>> metadata)
    {
        if (CheckMetadata(metadata) is { } problem)
        {
            throw new ArgumentException(
                $"The metadata of step {step.ToString(CultureInfo.InvariantCulture)} cannot be saved: {problem} (manifest readers refuse null metadata keys and values).", nameof(metadata));
        }
    }

    /// <summary>Why <paramref name="metadata"/> cannot be in a manifest (a null key or value), or null: the one rule for readers and savers.</summary>
    public static string? CheckMetadata(IEnumerable<KeyValuePair<string, string>> metadata)
    {
        foreach (var (key, value) in metadata)
        {
            if (key is null)
            {
                return "it has a null key";
            }

            if (value is null)
            {
                return $"the value of '{ObjectKey.Printable(key)}' is null";
            }
        }

        return null;
    }

    /// <summary>Parses and checks a manifest found at <c>{run}/{scope}/step-{step}/manifest.json</c>.</summary>
    /// <exception cref="InvalidManifestException">The manifest cannot be trusted; the message says why.</exception>
    public static CheckpointManifest Parse(ReadOnlySpan<byte> json, string run, string scope, long step)
    {
        if (json.Length > MaxBytes)
        {
            throw new InvalidManifestException($"it is larger than {MaxBytes} bytes");
        }

        var manifest = TrustedJson.Parse(json, DocumentJsonContext.Default.CheckpointManifest, "manifest");
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

        if (CheckMetadata(m.Metadata) is { } metadataProblem)
        {
            throw new InvalidManifestException($"its metadata is not valid: {metadataProblem}");
        }
    }
}

/// <summary>A manifest that cannot be trusted; restores skip it.</summary>
internal sealed class InvalidManifestException(string reason) : Exception(reason);
