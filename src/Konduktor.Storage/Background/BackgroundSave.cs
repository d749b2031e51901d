using System.Diagnostics;

namespace Konduktor.Storage;

/// <summary>
/// One background save, begun with <see cref="BackgroundCheckpointSaver.BeginSaveAsync"/>: add files (each is captured into
/// staging the saver owns before the call returns, so the caller may change or delete its source right after), then
/// <see cref="CommitAsync"/>, which returns at once while the upload, the commit and retention continue in the background.
/// <see cref="Durable"/> completes when the step is committed.
/// </summary>
/// <remarks>Files may be added concurrently. Disposing a save that was not committed drops what it captured.</remarks>
public sealed class BackgroundSave : IAsyncDisposable
{
    private readonly BackgroundCheckpointSaver _saver;
    private readonly Lock _gate = new();
    private readonly List<StagedFile> _files = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource<CheckpointManifest> _durable = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _blockedTicks;
    private int _state; // 0 capturing, 1 committed, 2 dropped

    internal BackgroundSave(BackgroundCheckpointSaver saver, long step, TimeSpan waited)
    {
        _saver = saver;
        Step = step;
        _blockedTicks = waited.Ticks;
    }

    /// <summary>The step being saved.</summary>
    public long Step { get; }

    /// <summary>
    /// Completes with the committed manifest once the step is durable; faults with <see cref="BackgroundSaveException"/>
    /// when the upload or the commit failed, or the save was abandoned at shutdown (nothing of it is then visible).
    /// </summary>
    public Task<CheckpointManifest> Durable => _durable.Task;

    /// <summary>The time the caller spent blocked in this save's calls: waiting for a slot, capturing, handing over.</summary>
    public TimeSpan BlockedTime => TimeSpan.FromTicks(Interlocked.Read(ref _blockedTicks));

    /// <summary>Bytes captured so far, over all files.</summary>
    public long CapturedBytes
    {
        get
        {
            lock (_gate)
            {
                return _files.Sum(f => f.Length);
            }
        }
    }

    internal IReadOnlyDictionary<string, string>? Metadata { get; private set; }

    internal CancellationTokenSource Abandon { get; } = new();

    internal long TimestampCaptured { get; private set; }

    /// <summary>Captures <paramref name="content"/> (from its position to its end; not disposed) as <paramref name="name"/>.</summary>
    /// <param name="name">The file's name in the checkpoint: a relative '/'-separated path.</param>
    /// <param name="content">The bytes.</param>
    /// <param name="cancellationToken">Cancels the capture.</param>
    /// <exception cref="ArgumentException">The name is invalid or already used in this save.</exception>
    /// <exception cref="CheckpointStorageException">The content does not fit in the staging limits.</exception>
    public Task AddFileAsync(string name, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        return AddFileAsync(name, (stream, ct) => content.CopyToAsync(stream, StagingArea.ChunkSize, ct), cancellationToken);
    }

    /// <summary>Captures the bytes <paramref name="write"/> produces (e.g. a serializer writing a model) as <paramref name="name"/>.</summary>
    /// <param name="name">The file's name in the checkpoint.</param>
    /// <param name="write">Writes the file's bytes into the stream it is given; it must not dispose the stream.</param>
    /// <param name="cancellationToken">Cancels the capture.</param>
    /// <exception cref="ArgumentException">The name is invalid or already used in this save.</exception>
    /// <exception cref="CheckpointStorageException">The content does not fit in the staging limits.</exception>
    public async Task AddFileAsync(string name, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        var started = Stopwatch.GetTimestamp();
        Reserve(name);
        var (file, writer) = StagedFile.Create(_saver.Staging, name, ct => _saver.WaitForStagingAsync(this, ct));
        try
        {
            await using (writer.ConfigureAwait(false))
            {
                await write(writer, cancellationToken).ConfigureAwait(false);
            }

            Captured(file, started);
        }
        catch
        {
            await Unreserve(name, file).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Captures a local file: as a hard link when <see cref="BackgroundSaveOptions.LinkLocalFiles"/> allows (the program must
    /// then replace the file rather than rewrite it in place), else as a copy of the length it has now.
    /// </summary>
    /// <param name="name">The file's name in the checkpoint.</param>
    /// <param name="path">The local file; a symbolic link to a regular file is followed.</param>
    /// <param name="cancellationToken">Cancels the capture.</param>
    /// <exception cref="ArgumentException">The name is invalid or already used in this save.</exception>
    /// <exception cref="FileNotFoundException">The local file does not exist.</exception>
    /// <exception cref="IOException">The path names a special file or a directory, or the file shrank while it was copied.</exception>
    public async Task AddLocalFileAsync(string name, string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var started = Stopwatch.GetTimestamp();
        Reserve(name);
        try
        {
            var file = await StagedFile.CaptureLocalAsync(_saver.Staging, name, path, ct => _saver.WaitForStagingAsync(this, ct), cancellationToken).ConfigureAwait(false);
            Captured(file, started);
        }
        catch
        {
            await Unreserve(name, null).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Hands the captured step over to the background: upload, commit (create-only, as a synchronous save) and retention
    /// continue after this returns. Await <see cref="Durable"/> (or <see cref="BackgroundCheckpointSaver.FlushAsync"/>) to
    /// know it is committed.
    /// </summary>
    /// <param name="metadata">Small user values stored in the manifest.</param>
    /// <param name="cancellationToken">Cancels the hand-over only; once it returns, the save goes on.</param>
    /// <exception cref="ArgumentException">The metadata has a null key or value.</exception>
    /// <exception cref="InvalidOperationException">The save was committed or disposed already.</exception>
    public Task CommitAsync(IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        cancellationToken.ThrowIfCancellationRequested();
        if (metadata is not null)
        {
            ManifestCodec.ThrowIfInvalidMetadata(Step, metadata);
        }

        lock (_gate)
        {
            if (_state != 0)
            {
                throw new InvalidOperationException($"The background save of step {Step} was already committed or dropped.");
            }

            _state = 1;
            Metadata = metadata is null ? null : new Dictionary<string, string>(metadata, StringComparer.Ordinal);
        }

        TimestampCaptured = Stopwatch.GetTimestamp();
        AddBlocked(started);
        _saver.StartUpload(this);
        return Task.CompletedTask;
    }

    /// <summary>Drops the save unless it was committed: its staging is released and nothing is uploaded.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_state != 0)
            {
                return;
            }

            _state = 2;
        }

        await ReleaseStagingAsync().ConfigureAwait(false);
        _durable.TrySetException(new BackgroundSaveException(Step, new OperationCanceledException("The save was disposed before it was committed.")));
        _ = _durable.Task.Exception; // observed: the caller dropped it on purpose
        _saver.Dropped(this);
    }

    internal IReadOnlyList<StagedFile> Files
    {
        get
        {
            lock (_gate)
            {
                return [.. _files];
            }
        }
    }

    internal void Complete(CheckpointManifest manifest) => _durable.TrySetResult(manifest);

    internal void Fail(BackgroundSaveException exception) => _durable.TrySetException(exception);

    internal async Task ReleaseStagingAsync()
    {
        foreach (var file in Files)
        {
            await file.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void Reserve(string name)
    {
        if (CheckpointLayout.CheckFileName(name) is { } problem)
        {
            throw new ArgumentException($"'{ObjectKey.Printable(name)}' is not a valid checkpoint file name: {problem}.", nameof(name));
        }

        lock (_gate)
        {
            if (_state != 0)
            {
                throw new InvalidOperationException($"The background save of step {Step} was already committed or dropped.");
            }

            if (!_names.Add(name))
            {
                throw new ArgumentException($"The background save of step {Step} already has a file '{ObjectKey.Printable(name)}'.", nameof(name));
            }
        }
    }

    private async Task Unreserve(string name, StagedFile? file)
    {
        lock (_gate)
        {
            _names.Remove(name);
        }

        if (file is not null)
        {
            await file.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void Captured(StagedFile file, long started)
    {
        lock (_gate)
        {
            _files.Add(file);
        }

        AddBlocked(started);
    }

    private void AddBlocked(long started) => Interlocked.Add(ref _blockedTicks, Stopwatch.GetElapsedTime(started).Ticks);
}
