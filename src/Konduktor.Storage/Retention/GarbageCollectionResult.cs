namespace Konduktor.Storage;

/// <summary>What garbage collection found (and, unless it was a dry run, deleted).</summary>
/// <param name="DryRun">Whether this was a dry run (nothing deleted).</param>
/// <param name="Objects">The uncommitted objects found (deleted, unless a dry run).</param>
/// <param name="Bytes">Their total length.</param>
/// <param name="PendingUploads">Stale interrupted uploads found (aborted, unless a dry run), on stores that keep them (S3).</param>
public sealed record GarbageCollectionResult(bool DryRun, IReadOnlyList<ObjectInfo> Objects, long Bytes, IReadOnlyList<PendingUpload> PendingUploads);
