using System.Diagnostics.CodeAnalysis;

namespace Konduktor.Storage;

/// <summary>Why a restore passed over a checkpoint.</summary>
public enum SkipReason
{
    /// <summary>The step folder has data but no manifest: the save was never committed (torn).</summary>
    NotCommitted,

    /// <summary>The manifest cannot be parsed, is too large, names files outside its step, or disagrees with where it was found.</summary>
    InvalidManifest,

    /// <summary>A file the manifest lists is missing from the store.</summary>
    MissingFile,

    /// <summary>A file on the store has another length than the manifest says.</summary>
    LengthMismatch,

    /// <summary>A file's bytes do not match its checksum, or the file was replaced while it was read.</summary>
    ChecksumMismatch,

    /// <summary>This manager found the checkpoint corrupt earlier (e.g. while a caller read it as a stream).</summary>
    KnownCorrupt,
}

/// <summary>A checkpoint a restore passed over, and why. It is never deleted for that.</summary>
/// <param name="Step">The step.</param>
/// <param name="Reason">Why it was skipped.</param>
/// <param name="Detail">What exactly was wrong (which file, expected vs actual).</param>
public sealed record SkippedCheckpoint(long Step, SkipReason Reason, string Detail);

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

/// <summary>
/// The newest checkpoint whose manifest and file lengths check out, opened for reading as streams. Every stream
/// verifies its file's checksum as it is read and throws <see cref="CheckpointCorruptException"/> before handing over
/// the file's final bytes unverified; the manager then remembers the step as corrupt, and the next
/// <see cref="CheckpointManager.OpenLatestAsync"/> passes over it. Bytes delivered before the end are not yet verified:
/// trust what was read only once the stream has reached its end without an exception (or restore to a directory,
/// which swaps in only verified files).
/// </summary>
public sealed class CheckpointReader
{
    private readonly CheckpointManager? _manager;
    private readonly string? _manifestETag;

    internal CheckpointReader(CheckpointManager? manager, CheckpointManifest? manifest, string? manifestETag, IReadOnlyList<SkippedCheckpoint> skipped)
    {
        _manager = manager;
        _manifestETag = manifestETag;
        Manifest = manifest;
        Skipped = skipped;
    }

    /// <summary>Whether a checkpoint was found.</summary>
    [MemberNotNullWhen(true, nameof(Manifest), nameof(Step))]
    public bool Found => Manifest is not null;

    /// <summary>The checkpoint's step; <see langword="null"/> when none was found.</summary>
    public long? Step => Manifest?.Step;

    /// <summary>The checkpoint's manifest.</summary>
    public CheckpointManifest? Manifest { get; }

    /// <summary>Newer checkpoints that were passed over, newest first, and why.</summary>
    public IReadOnlyList<SkippedCheckpoint> Skipped { get; }

    /// <summary>
    /// Opens one file of the checkpoint as a verifying stream. It resumes reads interrupted by transient failures; synchronous
    /// reads work too (a model loader that takes a <see cref="Stream"/>), blocking on the same path.
    /// </summary>
    /// <param name="name">The file's name in the checkpoint.</param>
    /// <param name="cancellationToken">Cancels opening the file.</param>
    /// <exception cref="InvalidOperationException">No checkpoint was found.</exception>
    /// <exception cref="KeyNotFoundException">The checkpoint has no file of that name.</exception>
    public Task<Stream> OpenFileAsync(string name, CancellationToken cancellationToken = default)
    {
        if (!Found || _manager is null)
        {
            throw new InvalidOperationException("No checkpoint was found, so there is no file to open.");
        }

        var file = Manifest.Files.FirstOrDefault(f => f.Name == name)
            ?? throw new KeyNotFoundException($"Checkpoint step {Step} has no file '{ObjectKey.Printable(name)}'; it has: {string.Join(", ", Manifest.Files.Select(f => f.Name))}.");
        return _manager.OpenVerifiedAsync(Manifest, _manifestETag, file, cancellationToken);
    }
}
