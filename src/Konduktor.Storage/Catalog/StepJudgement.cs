namespace Konduktor.Storage;

/// <summary>A manifest as read; <paramref name="Vanished"/>: it was there when listed and gone (or replaced) when read.</summary>
internal sealed record ManifestRead(CheckpointManifest? Manifest, string? ETag, byte[]? Bytes, SkipReason? Reason, string? Problem, bool Vanished = false);

/// <summary>A step judged for a restore: its manifest and version, why it is passed over, or that it disappeared meanwhile.</summary>
internal sealed record Candidate(CheckpointManifest? Manifest, string? ETag, SkippedCheckpoint? Skip, bool Vanished = false, byte[]? Bytes = null)
{
    /// <summary>A step that was listed but holds nothing any more, or whose manifest went while it was read.</summary>
    public static Candidate Gone(long step) =>
        new(null, null, new SkippedCheckpoint(step, SkipReason.NotCommitted, "nothing is stored under it any more (deleted while it was read, or never saved)"), Vanished: true);
}
