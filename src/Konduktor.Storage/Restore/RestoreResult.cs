using System.Diagnostics.CodeAnalysis;

namespace Konduktor.Storage;

/// <summary>The outcome of restoring the newest intact checkpoint into a local directory.</summary>
public sealed class RestoreResult
{
    internal RestoreResult(CheckpointManifest? manifest, string? directory, IReadOnlyList<SkippedCheckpoint> skipped)
    {
        Manifest = manifest;
        Directory = directory;
        Skipped = skipped;
    }

    /// <summary>Whether an intact checkpoint was found and restored.</summary>
    [MemberNotNullWhen(true, nameof(Manifest), nameof(Directory), nameof(Step))]
    public bool Found => Manifest is not null;

    /// <summary>The restored checkpoint's step; <see langword="null"/> when none was found (start fresh).</summary>
    public long? Step => Manifest?.Step;

    /// <summary>The restored checkpoint's manifest (files, metadata).</summary>
    public CheckpointManifest? Manifest { get; }

    /// <summary>The directory the files were restored into.</summary>
    public string? Directory { get; }

    /// <summary>Newer checkpoints that were passed over, newest first, and why.</summary>
    public IReadOnlyList<SkippedCheckpoint> Skipped { get; }
}
