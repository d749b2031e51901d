using System.Diagnostics.CodeAnalysis;

namespace Konduktor.Storage;

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
    private readonly CheckpointRestorer? _restorer;
    private readonly string? _manifestETag;

    internal CheckpointReader(CheckpointRestorer? restorer, CheckpointManifest? manifest, string? manifestETag, IReadOnlyList<SkippedCheckpoint> skipped)
    {
        _restorer = restorer;
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
        if (!Found || _restorer is null)
        {
            throw new InvalidOperationException("No checkpoint was found, so there is no file to open.");
        }

        var file = Manifest.Files.FirstOrDefault(f => f.Name == name)
            ?? throw new KeyNotFoundException($"Checkpoint step {Step} has no file '{ObjectKey.Printable(name)}'; it has: {string.Join(", ", Manifest.Files.Select(f => f.Name))}.");
        return _restorer.OpenVerifiedAsync(Manifest, _manifestETag, file, cancellationToken);
    }
}
