namespace Konduktor.Storage;

/// <summary>One step folder of a scope, as <see cref="CheckpointCatalog.ListAsync"/> found it.</summary>
/// <param name="Step">The step.</param>
/// <param name="Manifest">The manifest when it is committed and readable; <see langword="null"/> otherwise.</param>
/// <param name="Problem">Why the manifest is missing or cannot be trusted; <see langword="null"/> when it is fine.</param>
public sealed record CheckpointInfo(long Step, CheckpointManifest? Manifest, string? Problem)
{
    /// <summary>Whether a readable manifest commits this step (its data is not verified by a listing).</summary>
    public bool IsCommitted => Manifest is not null;
}
