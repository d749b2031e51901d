using System.Diagnostics;
using System.Text;

using Microsoft.Win32.SafeHandles;

namespace Konduktor.Storage;

/// <summary>
/// One save of one step, begun with <see cref="CheckpointManager.BeginSaveAsync"/>: add files (each streamed and hashed
/// on the way to the store), then <see cref="CommitAsync"/>. Until the commit nothing is visible to restores; disposing an
/// uncommitted save removes what it wrote (what it cannot remove, garbage collection finds later).
/// </summary>
/// <remarks>Files may be added concurrently.</remarks>
public sealed class CheckpointSave : IAsyncDisposable
{
    private readonly CheckpointSaver _saver;
    private readonly IProgress<TransferProgress>? _progress;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ManifestFile?> _files = new(StringComparer.Ordinal);

    // The names in Unicode normal form C (with the name each was added as) and how many of them lie under each folder, so a
    // new name is checked against all earlier ones in time proportional to its own length, not to the number of files.
    private readonly Dictionary<string, string> _normalNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _normalFolders = new(StringComparer.Ordinal);
    private readonly Stopwatch _elapsed = Stopwatch.StartNew();
    private long _totalBytes;
    private int _state; // 0 open, 1 committing/committed, 2 abandoned

    internal CheckpointSave(CheckpointSaver saver, long step, string writerId, IProgress<TransferProgress>? progress)
    {
        _saver = saver;
        _progress = progress;
        Step = step;
        WriterId = writerId;
    }

    /// <summary>The step being saved.</summary>
    public long Step { get; }

    /// <summary>This save's writer id; its files go under <c>step-…/{WriterId}/</c>.</summary>
    public string WriterId { get; }

    /// <summary>Bytes written so far, over all files.</summary>
    public long BytesWritten => Interlocked.Read(ref _totalBytes);

    internal TimeSpan Elapsed => _elapsed.Elapsed;

    internal string StepFolder => _saver.StepFolder(Step);

    /// <summary>Streams <paramref name="content"/> (from its position to its end) into the checkpoint as <paramref name="name"/>.</summary>
    /// <param name="name">The file's name in the checkpoint: a relative '/'-separated path.</param>
    /// <param name="content">
    /// The bytes; not disposed. A seekable <see cref="FileStream"/> is read up to the length its file had when this call
    /// began, however the file grows meanwhile, and its position is left after what was read.
    /// </param>
    /// <param name="cancellationToken">Cancels the upload; the save then cannot be committed.</param>
    /// <returns>The file's manifest entry (length and checksum).</returns>
    /// <exception cref="ArgumentException">The name is invalid or already used in this save.</exception>
    /// <exception cref="IOException">A <see cref="FileStream"/>'s file shrank below that length while it was read.</exception>
    public Task<ManifestFile> AddFileAsync(string name, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (content is FileStream { CanRead: true, CanSeek: true } file)
        {
            var start = file.Position;
            var end = file.Length;
            return AddAsync(
                name,
                async (writer, hash, report, ct) =>
                {
                    var copied = await CopyLocalFileAsync(writer, file.SafeFileHandle, file.Name, start, end, hash, report, ct).ConfigureAwait(false);
                    file.Position = start + copied;
                    return copied;
                },
                cancellationToken);
        }

        return AddAsync(
            name,
            (writer, hash, report, ct) => HashingCopy.CopyAsync(content, writer, hash, _saver.Options.BufferSize, _saver.Options.Resilience.StallTimeout, report, ct),
            cancellationToken);
    }

    /// <summary>
    /// Adds a file whose bytes <paramref name="write"/> produces into a stream (e.g. a serializer writing a model);
    /// nothing is held whole in memory.
    /// </summary>
    /// <param name="name">The file's name in the checkpoint: a relative '/'-separated path.</param>
    /// <param name="write">Writes the file's bytes into the stream it is given, then returns. It must not dispose the stream.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    /// <returns>The file's manifest entry.</returns>
    /// <exception cref="ArgumentException">The name is invalid or already used in this save.</exception>
    public Task<ManifestFile> AddFileAsync(string name, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        return AddAsync(
            name,
            async (writer, hash, report, ct) =>
            {
                var hashing = new HashingWriteStream(writer, hash, report);
                await using (hashing.ConfigureAwait(false))
                {
                    await write(hashing, ct).ConfigureAwait(false);
                }

                return hash.Length;
            },
            cancellationToken);
    }

    /// <summary>
    /// Streams a local file into the checkpoint: the length it had when this call began (however it grows meanwhile), read
    /// from a regular file only (a symbolic link to one is followed).
    /// </summary>
    /// <param name="name">The file's name in the checkpoint.</param>
    /// <param name="path">The local file.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    /// <returns>The file's manifest entry.</returns>
    /// <exception cref="FileNotFoundException">The local file does not exist.</exception>
    /// <exception cref="IOException">
    /// The path names a special file (a pipe, a socket, a device: reading it may never end) or a directory, or the file
    /// shrank while it was copied; the message names it.
    /// </exception>
    public async Task<ManifestFile> AddLocalFileAsync(string name, string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        cancellationToken.ThrowIfCancellationRequested();
        using var file = LocalFileSource.Open(path);
        return await AddAsync(
            name,
            (writer, hash, report, ct) => CopyLocalFileAsync(writer, file.Handle, file.Path, 0, file.Length, hash, report, ct),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Commits the checkpoint: writes its manifest create-only. Then, if configured, applies retention.
    /// </summary>
    /// <param name="metadata">Small user values stored in the manifest (metrics for best-k retention, the epoch…).</param>
    /// <param name="cancellationToken">Cancels the commit; if the manifest was not written, nothing is visible.</param>
    /// <returns>The committed manifest.</returns>
    /// <exception cref="CheckpointConflictException">Another writer committed this step; nothing of theirs was overwritten.</exception>
    /// <exception cref="InvalidOperationException">A file is still being added, or the save was committed or abandoned already.</exception>
    public async Task<CheckpointManifest> CommitAsync(IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        List<ManifestFile> files;
        lock (_gate)
        {
            if (_state != 0)
            {
                throw new InvalidOperationException($"The save of step {Step} was already committed or abandoned.");
            }

            if (_files.Values.Any(f => f is null))
            {
                throw new InvalidOperationException($"The save of step {Step} still has files being added; await them before committing.");
            }

            _state = 1;
            files = [.. _files.Values.Select(f => f!).OrderBy(f => f.Name, StringComparer.Ordinal)];
        }

        try
        {
            return await _saver.CommitAsync(this, files, metadata, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            lock (_gate)
            {
                _state = 2;
            }

            await _saver.DeleteUncommittedAsync(this, files.Select(f => f.Key)).ConfigureAwait(false);
            _saver.EndSave(this, "failed");
            throw;
        }
    }

    /// <summary>Abandons the save unless it was committed, removing the data it wrote.</summary>
    public async ValueTask DisposeAsync()
    {
        List<string> keys;
        lock (_gate)
        {
            if (_state != 0)
            {
                return;
            }

            _state = 2;
            keys = [.. _files.Values.Where(f => f is not null).Select(f => f!.Key)];
        }

        await _saver.DeleteUncommittedAsync(this, keys).ConfigureAwait(false);
        _saver.EndSave(this, "abandoned");
    }

    private async Task<ManifestFile> AddAsync(
        string name,
        Func<ObjectWriteStream, ContentHash, Action<long>, CancellationToken, Task<long>> copy,
        CancellationToken cancellationToken)
    {
        if (CheckpointLayout.CheckFileName(name) is { } problem)
        {
            throw new ArgumentException($"'{ObjectKey.Printable(name)}' is not a valid checkpoint file name: {problem}.", nameof(name));
        }

        var relativeKey = $"{WriterId}/{name}";
        var key = StepFolder + relativeKey;
        ObjectKey.Validate(key, nameof(name));
        var normal = name.Normalize(NormalizationForm.FormC);
        lock (_gate)
        {
            if (_state != 0)
            {
                throw new InvalidOperationException($"The save of step {Step} was already committed or abandoned.");
            }

            // Compared in Unicode normal form C: names that differ only in composition collide on normalising file systems.
            if (FindClash(normal) is { } other)
            {
                var otherNormal = other.Normalize(NormalizationForm.FormC);
                throw new ArgumentException($"The save of step {Step} already has a file '{other}', which '{name}' would duplicate or nest with{(other == otherNormal && name == normal ? "" : " (after Unicode normalisation)")}.", nameof(name));
            }

            _files.Add(name, null);
            Track(normal, name);
        }

        try
        {
            var hash = new ContentHash();
            long reported = 0;
            void Report(long fileBytes)
            {
                var total = Interlocked.Add(ref _totalBytes, fileBytes - reported);
                reported = fileBytes;
                _progress?.Report(new TransferProgress(Step, name, fileBytes, null, total));
            }

            var writer = await _saver.Store.OpenWriteAsync(key, null, cancellationToken).ConfigureAwait(false);
            ObjectInfo stored;
            await using (writer.ConfigureAwait(false))
            {
                await copy(writer, hash, Report, cancellationToken).ConfigureAwait(false);
                stored = await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }

            // The store must hold exactly what was sent.
            if (stored.Length != hash.Length)
            {
                throw new CheckpointStorageException(
                    $"The store at {_saver.Store.Location} reports {stored.Length} bytes for '{key}', but {hash.Length} bytes were sent.");
            }

            StorageTelemetry.BytesWritten.Add(hash.Length);
            var entry = new ManifestFile(name, relativeKey, hash.Length, hash.Current());
            lock (_gate)
            {
                _files[name] = entry;
            }

            return entry;
        }
        catch
        {
            lock (_gate)
            {
                _files.Remove(name);
                Track(normal, null);
            }

            await _saver.DeleteUncommittedAsync(this, [relativeKey]).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The file already added that <paramref name="normal"/> (a name in normal form C) would equal, or be a folder or a file of.</summary>
    private string? FindClash(string normal)
    {
        if (_normalNames.TryGetValue(normal, out var same))
        {
            return same;
        }

        if (_normalFolders.ContainsKey(normal))
        {
            // Only when refusing: name one of the files under it.
            return _normalNames.First(n => n.Key.StartsWith(normal + "/", StringComparison.Ordinal)).Value;
        }

        for (var slash = normal.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = normal.IndexOf('/', slash + 1))
        {
            if (_normalNames.TryGetValue(normal[..slash], out var folder))
            {
                return folder;
            }
        }

        return null;
    }

    /// <summary>Records a normalised name (added as <paramref name="name"/>), or forgets it when <paramref name="name"/> is null.</summary>
    private void Track(string normal, string? name)
    {
        if (name is null)
        {
            _normalNames.Remove(normal);
        }
        else
        {
            _normalNames.Add(normal, name);
        }

        for (var slash = normal.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = normal.IndexOf('/', slash + 1))
        {
            var folder = normal[..slash];
            var count = _normalFolders.GetValueOrDefault(folder) + (name is null ? -1 : 1);
            if (count == 0)
            {
                _normalFolders.Remove(folder);
            }
            else
            {
                _normalFolders[folder] = count;
            }
        }
    }

    /// <summary>
    /// Copies a local file from <paramref name="start"/> to <paramref name="end"/>, the length it had when its save began:
    /// into a store that keeps local files (<see cref="ILocalFileStore"/>, decorators included) inside the kernel, like <c>cp</c>, and hashed as stored; into any other store streamed.
    /// </summary>
    /// <exception cref="IOException">The file ended before <paramref name="end"/>.</exception>
    private async Task<long> CopyLocalFileAsync(
        ObjectWriteStream writer, SafeFileHandle file, string path, long start, long end, ContentHash hash, Action<long> report, CancellationToken cancellationToken)
    {
        var length = Math.Max(0, end - start);
        var copied = (_saver.LocalFiles is { } local
                ? await local.AppendLocalFileAsync(writer, file, start, length, hash, report, cancellationToken).ConfigureAwait(false)
                : null)
            ?? await HashingCopy.CopyAsync(
                new LocalFileReadStream(file, start, length), writer, hash, _saver.Options.BufferSize, _saver.Options.Resilience.StallTimeout, report, cancellationToken).ConfigureAwait(false);
        if (copied < length)
        {
            throw LocalFileSource.Shrank(path, end, RandomAccess.GetLength(file));
        }

        return copied;
    }
}
