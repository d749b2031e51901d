using System.Collections.Concurrent;
using System.Diagnostics;

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Konduktor.Storage;

/// <summary>
/// Mirrors a local directory to <c>{location}/{run}/outputs/{scope}/</c>: each pass uploads new and changed files only
/// (an unchanged file costs no request), a growing file only its new bytes, as a snapshot of what it held when the pass
/// read it; local deletions never delete anything in the store. <see cref="FinalSyncAsync"/> leaves every file one plain
/// object at its path. The hosted service registered by <c>AddKonduktorOutputs</c> runs the passes on its interval, before
/// every checkpoint commit and at host stop; without DI, call the passes yourself.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The pass lock's wait handle is never created, so it holds nothing to dispose.")]
public sealed partial class OutputSync
{
    private readonly ConcurrentDictionary<string, SyncedFile> _files = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _reported = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _pass = new(1, 1);
    private readonly string _writer = Guid.NewGuid().ToString("N")[..8];
    private readonly ILogger _logger;
    private long _generation;

    /// <summary>Creates a sync of <paramref name="localDirectory"/> into <paramref name="run"/>'s outputs under <paramref name="scope"/>.</summary>
    /// <param name="store">The store the outputs go to.</param>
    /// <param name="run">The run id.</param>
    /// <param name="scope">The scope folder (e.g. <c>rank-00000</c>): concurrent ranks sync into their own.</param>
    /// <param name="localDirectory">The local directory to mirror; it must exist when a pass runs.</param>
    /// <param name="options">The merge size and concurrency; <see langword="null"/> for the defaults.</param>
    /// <param name="logger">Receives skipped files and failed passes.</param>
    /// <param name="timeProvider">The clock; <see langword="null"/> for the system clock.</param>
    /// <exception cref="ArgumentException">The run or scope is not one valid path segment (not starting with '.').</exception>
    public OutputSync(
        ICheckpointStore store, string run, string scope, string localDirectory, OutputSyncOptions? options = null, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(localDirectory);
        ArgumentNullException.ThrowIfNull(scope);
        if (CheckpointLayout.CheckSegment(scope) is { } problem)
        {
            throw new ArgumentException($"'{ObjectKey.Printable(scope)}' is not a valid scope: {problem}; expected {CheckpointLayout.NameRule}.", nameof(scope));
        }

        Outputs = new RunOutputs(store, run, timeProvider);
        Scope = scope;
        LocalDirectory = Path.GetFullPath(localDirectory);
        Options = options ?? new OutputSyncOptions();
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The run's outputs, to read back, pull or publish artifacts.</summary>
    public RunOutputs Outputs { get; }

    /// <summary>The scope folder this sync writes under.</summary>
    public string Scope { get; }

    /// <summary>The absolute local directory being mirrored.</summary>
    public string LocalDirectory { get; }

    /// <summary>The options in force.</summary>
    public OutputSyncOptions Options { get; }

    private ICheckpointStore Store => Outputs.Store;

    private long MergeBytes => (long)Options.MergeMiB * 1024 * 1024;

    /// <summary>
    /// Uploads what changed since the last pass. Passes never overlap: a call made during a pass waits for it and then
    /// runs its own, so everything written before the call is covered when it returns.
    /// </summary>
    /// <param name="cancellationToken">Cancels the pass; files not finished keep their previous content in the store.</param>
    /// <returns>What the pass did, with the local files it skipped and why.</returns>
    /// <exception cref="DirectoryNotFoundException">The local directory does not exist.</exception>
    public Task<OutputSyncResult> SyncAsync(CancellationToken cancellationToken = default) => RunPassAsync(final: false, cancellationToken);

    /// <summary>
    /// A last pass, after which every synced file is one plain object at <c>{run}/outputs/{scope}/{path}</c> (readable
    /// with <c>aws s3 cp</c>) and the pieces of growing files are deleted. Runs at host stop.
    /// </summary>
    /// <param name="cancellationToken">Cancels the pass; files not consolidated stay readable through the library.</param>
    /// <returns>What the pass did.</returns>
    /// <exception cref="DirectoryNotFoundException">The local directory does not exist.</exception>
    public Task<OutputSyncResult> FinalSyncAsync(CancellationToken cancellationToken = default) => RunPassAsync(final: true, cancellationToken);

    private async Task<OutputSyncResult> RunPassAsync(bool final, CancellationToken cancellationToken)
    {
        await _pass.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!Directory.Exists(LocalDirectory))
            {
                throw new DirectoryNotFoundException($"The output directory to sync does not exist: {LocalDirectory} ({OutputSyncOptions.SectionName}:LocalDirectory).");
            }

            var started = Stopwatch.GetTimestamp();
            var (files, problems) = OutputDirectoryScan.Scan(LocalDirectory, cancellationToken);
            var tally = new Tally();
            var synced = new ConcurrentBag<OutputSyncProblem>(problems);
            await Parallel.ForEachAsync(
                files,
                new ParallelOptions { MaxDegreeOfParallelism = Options.Concurrency, CancellationToken = cancellationToken },
                async (file, ct) =>
                {
                    if (await SyncFileAsync(file, final, tally, ct).ConfigureAwait(false) is { } problem)
                    {
                        synced.Add(problem);
                    }
                }).ConfigureAwait(false);

            if (final)
            {
                // Files deleted locally since they were synced are put together from their pieces in the store.
                var present = files.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
                foreach (var gone in _files.Keys.Where(k => !present.Contains(k)).ToList())
                {
                    if (await ConsolidateFromStoreAsync(gone, tally, cancellationToken).ConfigureAwait(false) is { } problem)
                    {
                        synced.Add(problem);
                    }
                }
            }

            var result = new OutputSyncResult(tally.Files, tally.Unchanged, tally.Bytes, [.. synced.OrderBy(p => p.Path, StringComparer.Ordinal)]);
            Report(result.Problems);
            var kind = new KeyValuePair<string, object?>("konduktor.pass", final ? "final" : "periodic");
            StorageTelemetry.OutputBytesWritten.Add(result.BytesUploaded, kind);
            StorageTelemetry.OutputPassDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, kind);
            Log.OutputSynced(_logger, final ? "final" : "periodic", result.FilesUploaded, result.FilesUnchanged, result.BytesUploaded, result.Problems.Count, Stopwatch.GetElapsedTime(started).TotalSeconds);
            return result;
        }
        finally
        {
            _pass.Release();
        }
    }

    /// <summary>Logs each skipped file once per reason, not on every pass.</summary>
    private void Report(IReadOnlyList<OutputSyncProblem> problems)
    {
        foreach (var problem in problems)
        {
            if (!_reported.TryGetValue(problem.Path, out var reason) || reason != problem.Reason)
            {
                _reported[problem.Path] = problem.Reason;
                Log.OutputSkipped(_logger, problem.Path, problem.Reason);
            }
        }
    }

    private string OutputPath(string name) => Scope + "/" + name;

    // Short names keep the records small (a record lists every piece); the record holds each piece's offset and length.
    private string NewPieceKey(string path) => $"{OutputLayout.PiecesFolder(path)}{_writer}-{Interlocked.Increment(ref _generation)}";

    /// <summary>Counts of one pass, added to from parallel uploads.</summary>
    private sealed class Tally
    {
        private int _files;
        private int _unchanged;
        private long _bytes;

        public int Files => _files;

        public int Unchanged => _unchanged;

        public long Bytes => Interlocked.Read(ref _bytes);

        public void Uploaded() => Interlocked.Increment(ref _files);

        public void Same() => Interlocked.Increment(ref _unchanged);

        public void Sent(long bytes) => Interlocked.Add(ref _bytes, bytes);
    }
}
