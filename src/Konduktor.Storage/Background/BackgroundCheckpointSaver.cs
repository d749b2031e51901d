using System.Diagnostics;

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Konduktor.Storage;

/// <summary>
/// Saves checkpoints in the background: a save returns once the step's content is captured into staging this saver owns
/// (pooled memory up to a limit, then a local staging folder; local files as hard links or copies), while the upload, the
/// create-only commit and retention continue behind it. At most <see cref="BackgroundSaveOptions.MaxInFlight"/> saves are
/// in flight; the next one waits for a slot. A failure is never lost: it is logged, counted and thrown by the next save,
/// by <see cref="FlushAsync"/> or by <see cref="DisposeAsync"/>, whichever comes first.
/// </summary>
/// <remarks>
/// A kill at any moment leaves what a synchronous save leaves: the previous commit or the new one, never a torn one.
/// Thread-safe. Dispose it (or flush it) before the process exits, or the last saves may not be committed.
/// </remarks>
public sealed class BackgroundCheckpointSaver : IAsyncDisposable
{
    private static readonly TimeSpan StagingPoll = TimeSpan.FromMilliseconds(100);

    private readonly ILogger _logger;
    private readonly SemaphoreSlim _slots;
    private readonly Lock _gate = new();
    private readonly List<(BackgroundSave Save, Task Upload)> _inFlight = [];
    private readonly Queue<BackgroundSaveException> _failures = new();
    private long? _newestDurable;
    private long? _newestCaptured;
    private int _disposed;

    /// <summary>Creates a saver for the checkpoints of <paramref name="manager"/>.</summary>
    /// <param name="manager">The manager whose save protocol (create-only commit, retention) every save goes through.</param>
    /// <param name="options">Slots and staging limits; defaults when <see langword="null"/>.</param>
    /// <param name="logger">Where to log; nowhere when <see langword="null"/>.</param>
    /// <exception cref="CheckpointConfigurationException">The options are invalid; the message names every invalid value.</exception>
    public BackgroundCheckpointSaver(CheckpointManager manager, BackgroundSaveOptions? options = null, ILogger<BackgroundCheckpointSaver>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(manager);
        Manager = manager;
        Options = options ?? new BackgroundSaveOptions();
        BackgroundSavesValidator.ThrowIfInvalid(Options);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _slots = new SemaphoreSlim(Options.MaxInFlight, Options.MaxInFlight);
        Staging = new StagingArea(Options);
    }

    /// <summary>The manager every save goes through.</summary>
    public CheckpointManager Manager { get; }

    /// <summary>The options in force.</summary>
    public BackgroundSaveOptions Options { get; }

    /// <summary>Saves handed over and not yet durable or failed.</summary>
    public int InFlight
    {
        get
        {
            lock (_gate)
            {
                return _inFlight.Count;
            }
        }
    }

    /// <summary>The newest step this saver committed; <see langword="null"/> before its first commit.</summary>
    public long? NewestDurableStep
    {
        get
        {
            lock (_gate)
            {
                return _newestDurable;
            }
        }
    }

    /// <summary>The newest step handed over to the background (durable or still in flight).</summary>
    public long? NewestCapturedStep
    {
        get
        {
            lock (_gate)
            {
                return _newestCaptured;
            }
        }
    }

    /// <summary>Bytes of memory holding captured content now.</summary>
    public long StagedMemoryBytes => Staging.MemoryBytes;

    /// <summary>Bytes of staging files holding captured content now (hard-linked local files take none).</summary>
    public long StagedDiskBytes => Staging.DiskBytes;

    /// <summary>The most memory captured content held at once since this saver was created.</summary>
    public long PeakStagedMemoryBytes => Staging.PeakMemoryBytes;

    /// <summary>The most staging disk captured content held at once since this saver was created.</summary>
    public long PeakStagedDiskBytes => Staging.PeakDiskBytes;

    internal StagingArea Staging { get; }

    /// <summary>
    /// Begins a background save of <paramref name="step"/>, first waiting for a free slot when
    /// <see cref="BackgroundSaveOptions.MaxInFlight"/> saves are in flight (back-pressure).
    /// </summary>
    /// <param name="step">The step, a non-negative number; larger is newer.</param>
    /// <param name="cancellationToken">Cancels the wait for a slot.</param>
    /// <returns>The save: add files to it, then commit it.</returns>
    /// <exception cref="BackgroundSaveException">An earlier background save failed (reported once); no new save was begun.</exception>
    /// <exception cref="ObjectDisposedException">The saver was disposed.</exception>
    public async Task<BackgroundSave> BeginSaveAsync(long step, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ThrowIfFailed();
        var started = Stopwatch.GetTimestamp();
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);

        // A save that finished while this one waited may have failed: report it before starting anew.
        try
        {
            ThrowIfFailed();
        }
        catch
        {
            _slots.Release();
            throw;
        }

        return new BackgroundSave(this, step, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>Captures named streams (each read from its position to its end, not disposed) as one step and hands it over.</summary>
    /// <param name="step">The step; larger is newer.</param>
    /// <param name="files">The checkpoint's files by name.</param>
    /// <param name="metadata">Small user values for the manifest.</param>
    /// <param name="cancellationToken">Cancels the wait and the capture.</param>
    /// <returns>The save, handed over; await its <see cref="BackgroundSave.Durable"/> to know it is committed.</returns>
    /// <exception cref="BackgroundSaveException">An earlier background save failed (reported once).</exception>
    /// <exception cref="ArgumentException">A file name is invalid or repeated, or the metadata has a null key or value.</exception>
    public Task<BackgroundSave> SaveAsync(
        long step, IReadOnlyDictionary<string, Stream> files, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        return CaptureAsync(step, metadata, (save, ct) => Task.WhenAll(files.Select(f => save.AddFileAsync(f.Key, f.Value, ct))), cancellationToken);
    }

    /// <summary>Captures every file under a local directory as one step (names relative to it) and hands it over.</summary>
    /// <param name="step">The step; larger is newer.</param>
    /// <param name="directory">The local directory; symbolic links follow <see cref="CheckpointManagerOptions.SymbolicLinks"/>.</param>
    /// <param name="metadata">Small user values for the manifest.</param>
    /// <param name="cancellationToken">Cancels the wait and the capture.</param>
    /// <returns>The save, handed over.</returns>
    /// <exception cref="BackgroundSaveException">An earlier background save failed (reported once).</exception>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="IOException">A link the rule refuses, a special file, or a file that shrank while it was copied.</exception>
    public Task<BackgroundSave> SaveDirectoryAsync(
        long step, string directory, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var root = new DirectoryInfo(Path.GetFullPath(directory));
        if (!root.Exists)
        {
            throw new DirectoryNotFoundException($"The directory to save as step {step} does not exist: {root.FullName}");
        }

        var files = LocalDirectoryWalk.Files(root.FullName, Manager.Options.SymbolicLinks, cancellationToken);
        return CaptureAsync(step, metadata, async (save, ct) =>
        {
            foreach (var (name, path) in files)
            {
                await save.AddLocalFileAsync(name, path, ct).ConfigureAwait(false);
            }
        }, cancellationToken);
    }

    /// <summary>Waits until every save handed over so far is durable or failed, then reports a failure if there was one.</summary>
    /// <param name="cancellationToken">Cancels the wait (not the saves).</param>
    /// <exception cref="BackgroundSaveException">A background save failed (reported once).</exception>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        Task[] uploads;
        lock (_gate)
        {
            uploads = [.. _inFlight.Select(f => f.Upload)];
        }

        await Task.WhenAll(uploads).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfFailed();
    }

    /// <summary>Waits for every save in flight (<see cref="FlushAsync"/>), then removes the staging folder.</summary>
    /// <exception cref="BackgroundSaveException">A background save failed and was not reported yet.</exception>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            Staging.Dispose();
        }
    }

    /// <summary>Abandons every save in flight: uploads stop, nothing more is committed, their data is removed.</summary>
    /// <returns>The steps abandoned without a commit.</returns>
    internal async Task<IReadOnlyList<long>> AbandonAsync(string reason)
    {
        List<(BackgroundSave Save, Task Upload)> inFlight;
        lock (_gate)
        {
            inFlight = [.. _inFlight];
        }

        foreach (var (save, _) in inFlight)
        {
            await save.Abandon.CancelAsync().ConfigureAwait(false);
        }

        await Task.WhenAll(inFlight.Select(f => f.Upload)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        var abandoned = inFlight.Where(f => !f.Save.Durable.IsCompletedSuccessfully).Select(f => f.Save.Step).ToList();
        foreach (var step in abandoned)
        {
            Log.Abandoned(_logger, step, reason);
        }

        return abandoned;
    }

    /// <summary>Waits for staging to be freed by another save in flight; fails when no other save holds any.</summary>
    internal async Task WaitForStagingAsync(BackgroundSave waiting, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_inFlight.Any(f => f.Save != waiting))
            {
                throw new CheckpointStorageException(
                    $"Step {waiting.Step} does not fit in background staging ({Options.MemoryLimitMiB} MiB of memory, then {Options.DiskLimitMiB} MiB " +
                    $"in {Staging.ParentDirectory}); raise {BackgroundSaveOptions.SectionName}:DiskLimitMiB or :MemoryLimitMiB, or save this step synchronously.");
            }
        }

        // Polled as well: a release between the failed reservation and this wait must not be missed.
        await Staging.WhenReleasedAsync(cancellationToken).WaitAsync(StagingPoll, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        cancellationToken.ThrowIfCancellationRequested();
    }

    internal void StartUpload(BackgroundSave save)
    {
        lock (_gate)
        {
            _newestCaptured = Math.Max(_newestCaptured ?? save.Step, save.Step);
            Log.Captured(_logger, save.Step, save.CapturedBytes, Staging.MemoryBytes, save.BlockedTime.TotalSeconds);
            StorageTelemetry.BackgroundBlocked.Record(save.BlockedTime.TotalSeconds);

            // Registered under the lock before it runs, so a flush right after the hand-over waits for it.
            var upload = new Task<Task>(() => UploadAsync(save));
            _inFlight.Add((save, upload.Unwrap()));
            upload.Start(TaskScheduler.Default);
        }
    }

    internal void Dropped(BackgroundSave save) => _slots.Release();

    private async Task<BackgroundSave> CaptureAsync(
        long step, IReadOnlyDictionary<string, string>? metadata, Func<BackgroundSave, CancellationToken, Task> capture, CancellationToken cancellationToken)
    {
        if (metadata is not null)
        {
            ManifestCodec.ThrowIfInvalidMetadata(step, metadata);
        }

        var save = await BeginSaveAsync(step, cancellationToken).ConfigureAwait(false);
        await using (save.ConfigureAwait(false))
        {
            await capture(save, cancellationToken).ConfigureAwait(false);
            await save.CommitAsync(metadata, cancellationToken).ConfigureAwait(false);
            return save;
        }
    }

    private async Task UploadAsync(BackgroundSave save)
    {
        var token = save.Abandon.Token;
        try
        {
            var checkpoint = await Manager.BeginSaveAsync(save.Step, cancellationToken: token).ConfigureAwait(false);
            CheckpointManifest manifest;
            await using (checkpoint.ConfigureAwait(false))
            {
                await Parallel.ForEachAsync(
                    save.Files,
                    new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = token },
                    async (file, ct) => await file.UploadAsync(checkpoint, ct).ConfigureAwait(false)).ConfigureAwait(false);
                manifest = await checkpoint.CommitAsync(save.Metadata, token).ConfigureAwait(false);
            }

            var seconds = Stopwatch.GetElapsedTime(save.TimestampCaptured).TotalSeconds;
            lock (_gate)
            {
                _newestDurable = Math.Max(_newestDurable ?? save.Step, save.Step);
            }

            StorageTelemetry.BackgroundNotDurable.Record(seconds);
            Log.Durable(_logger, save.Step, seconds);
            save.Complete(manifest);
        }
        catch (Exception e)
        {
            var failure = new BackgroundSaveException(save.Step, e);
            var abandoned = token.IsCancellationRequested;
            StorageTelemetry.BackgroundFailures.Add(1, new KeyValuePair<string, object?>("outcome", abandoned ? "abandoned" : "failed"));
            if (!abandoned)
            {
                Log.Failed(_logger, e, save.Step);
                lock (_gate)
                {
                    _failures.Enqueue(failure);
                }
            }

            save.Fail(failure);
            _ = save.Durable.Exception; // reported through the saver; awaiting Durable is optional
        }
        finally
        {
            await save.ReleaseStagingAsync().ConfigureAwait(false);
            lock (_gate)
            {
                _inFlight.RemoveAll(f => f.Save == save);
            }

            _slots.Release();
        }
    }

    private void ThrowIfFailed()
    {
        lock (_gate)
        {
            if (_failures.TryDequeue(out var failure))
            {
                throw failure;
            }
        }
    }
}
