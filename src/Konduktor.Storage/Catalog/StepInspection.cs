namespace Konduktor.Storage;

/// <summary>What <see cref="CheckpointCatalog.InspectAsync"/> found in one step folder (no data was read).</summary>
/// <param name="Step">The step.</param>
/// <param name="State">Whether the step is a committed checkpoint, uncommitted, or corrupt.</param>
/// <param name="Manifest">The manifest when one was read and parsed (also for a corrupt step whose files are missing or of the wrong length).</param>
/// <param name="Problem">Why the step is not a committed checkpoint; <see langword="null"/> when it is.</param>
/// <param name="StoredObjects">How many objects the step folder holds (manifest, data of every writer, quarantine).</param>
/// <param name="StoredBytes">Their total length.</param>
/// <param name="LastModified">When the newest of them was written; <see langword="null"/> when the folder is empty.</param>
public sealed record StepInspection(
    long Step, StepState State, CheckpointManifest? Manifest, string? Problem, int StoredObjects, long StoredBytes, DateTimeOffset? LastModified);

/// <summary>The state of a step folder, as a listing sees it.</summary>
public enum StepState
{
    /// <summary>A manifest commits the step and every file it lists is there with the right length (checksums are not read).</summary>
    Committed,

    /// <summary>No manifest: a save in progress, or one that never committed.</summary>
    Uncommitted,

    /// <summary>A manifest that cannot be trusted, or a file it lists is missing or of the wrong length (torn).</summary>
    Corrupt,
}

/// <summary>A running count of the objects in a step folder.</summary>
internal readonly record struct StepStorage(int Objects, long Bytes, DateTimeOffset? LastModified)
{
    public StepStorage Add(ObjectInfo info) =>
        new(Objects + 1, Bytes + info.Length, LastModified is { } newest && newest >= info.LastModified ? newest : info.LastModified);
}
