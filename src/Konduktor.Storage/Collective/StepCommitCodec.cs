using System.Globalization;
using System.Text.Json;

namespace Konduktor.Storage;

/// <summary>Writes step commits and verdicts, and reads step commits back refusing anything a restore must not trust.</summary>
internal static class StepCommitCodec
{
    public static byte[] Serialize(StepCommit commit) => JsonSerializer.SerializeToUtf8Bytes(commit, DocumentJsonContext.Default.StepCommit);

    public static byte[] Serialize(RankVerdict verdict) => JsonSerializer.SerializeToUtf8Bytes(verdict, DocumentJsonContext.Default.RankVerdict);

    /// <summary>Parses a verdict; <see langword="null"/> when it is not one.</summary>
    public static RankVerdict? ParseVerdict(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, DocumentJsonContext.Default.RankVerdict);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Parses and checks a step commit found at <c>{run}/job/step-{step}/manifest.json</c>.</summary>
    /// <exception cref="InvalidManifestException">It cannot be trusted; the message says why.</exception>
    public static StepCommit Parse(ReadOnlySpan<byte> json, string run, long step)
    {
        var commit = TrustedJson.Parse(json, DocumentJsonContext.Default.StepCommit, "step-commit");
        if (commit.Format != StepCommit.CurrentFormat)
        {
            throw new InvalidManifestException($"its format is '{ObjectKey.Printable(commit.Format)}', this version reads '{StepCommit.CurrentFormat}'");
        }

        if (commit.Run != run || commit.Step != step)
        {
            throw new InvalidManifestException(string.Create(
                CultureInfo.InvariantCulture,
                $"it says run '{ObjectKey.Printable(commit.Run)}', step {commit.Step} but was found at run '{run}', step {step}"));
        }

        if (CheckpointLayout.CheckSegment(commit.Id) is { } idProblem)
        {
            throw new InvalidManifestException($"its commit id '{ObjectKey.Printable(commit.Id)}' is not valid: {idProblem}");
        }

        if (commit.Nodes < 1 || commit.Parts is null || commit.Parts.Count != commit.Nodes)
        {
            throw new InvalidManifestException(string.Create(
                CultureInfo.InvariantCulture, $"it says {commit.Nodes} node(s) but lists {commit.Parts?.Count ?? 0} part(s): one part per rank is required"));
        }

        for (var rank = 0; rank < commit.Parts.Count; rank++)
        {
            var part = commit.Parts[rank];
            if (part is null || part.Rank != rank || part.Key != CollectiveLayout.PartKey(rank) || part.Length < 0
                || !ContentHash.IsSupported(part.Checksum) || CheckpointLayout.CheckSegment(part.Writer) is not null)
            {
                throw new InvalidManifestException(string.Create(
                    CultureInfo.InvariantCulture, $"its part #{rank} is not rank {rank}'s part ({CollectiveLayout.PartKey(rank)}) with a length, a checksum and a writer"));
            }
        }

        return commit;
    }
}
