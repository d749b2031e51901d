using System.Diagnostics.CodeAnalysis;

namespace Konduktor.Storage;

/// <summary>The outcome of <see cref="CheckpointManager.LoadLatestAsync{T}"/>.</summary>
/// <typeparam name="T">What the caller's load function made of the checkpoint.</typeparam>
/// <param name="Value">The loaded value; <see langword="default"/> when no intact checkpoint was found.</param>
/// <param name="Manifest">The checkpoint it came from; <see langword="null"/> when none was found (start fresh).</param>
/// <param name="Skipped">Newer checkpoints that were passed over, newest first, and why.</param>
public sealed record LoadResult<T>(T? Value, CheckpointManifest? Manifest, IReadOnlyList<SkippedCheckpoint> Skipped)
{
    /// <summary>Whether an intact checkpoint was found and loaded.</summary>
    [MemberNotNullWhen(true, nameof(Manifest), nameof(Step))]
    public bool Found => Manifest is not null;

    /// <summary>The loaded checkpoint's step; <see langword="null"/> when none was found.</summary>
    public long? Step => Manifest?.Step;
}
