using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Konduktor.Storage;

/// <summary>
/// Saves, lists, restores and prunes the checkpoints of one run and scope on one store.
/// A save streams each file into its own writer folder and commits it with a create-only manifest; a restore returns
/// the newest checkpoint whose every file is present and intact, falling back past torn or corrupt ones.
/// </summary>
/// <remarks>
/// A front over its parts: the <see cref="Catalog"/> (listing and judging steps), the saver (the commit protocol), the
/// restorer (with fallback) and retention with garbage collection; docs/architecture.md describes them.
/// Thread-safe. One instance per process and scope is the intended use (it remembers what it restored and judged corrupt).</remarks>
public sealed class CheckpointManager
{
    private readonly CheckpointSaver _saver;
    private readonly CheckpointRestorer _restorer;
    private readonly CheckpointRetention _retention;
    private readonly GarbageCollector _garbage;
    private readonly CollectiveGarbage? _collectiveGarbage;

    /// <summary>Creates a manager.</summary>
    /// <param name="store">
    /// Where checkpoints live. The manager adds its own retry pipeline around it, unless the store retries by itself
    /// (<see cref="StoreCapabilities.RetriesTransientFailures"/>).
    /// </param>
    /// <param name="job">Who this pod is; names the run (unless <see cref="CheckpointManagerOptions.RunId"/> is set) and the scope.</param>
    /// <param name="options">Naming, retention and resilience; defaults when <see langword="null"/>.</param>
    /// <param name="logger">Where to log; nowhere when <see langword="null"/>.</param>
    /// <param name="timeProvider">The clock; the system clock when <see langword="null"/>.</param>
    /// <exception cref="CheckpointConfigurationException">The options are invalid, or neither a run id nor a job name is set.</exception>
    public CheckpointManager(
        ICheckpointStore store,
        JobContext job,
        CheckpointManagerOptions? options = null,
        ILogger<CheckpointManager>? logger = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(job);
        Options = options ?? new CheckpointManagerOptions();
        CheckpointManagerOptionsValidator.ThrowIfInvalid(Options);
        var log = (ILogger?)logger ?? NullLogger.Instance;
        var time = timeProvider ?? TimeProvider.System;
        Job = job;
        RunId = Options.RunId ?? job.JobName
            ?? throw new CheckpointConfigurationException(
                "Konduktor:Checkpoints:RunId", null, "a run id that stays the same across restarts (or run under Konduktor, which sets KONDUKTOR_JOB_NAME)");
        if (CheckpointLayout.CheckSegment(RunId) is { } runProblem)
        {
            throw new CheckpointConfigurationException(
                Options.RunId is null ? "KONDUKTOR_JOB_NAME" : "Konduktor:Checkpoints:RunId", RunId, $"a run id: {CheckpointLayout.NameRule} ({runProblem})");
        }

        // Unset: collective with several nodes, unless a fixed scope says every pod writes there on its own.
        Mode = Options.Mode ?? (job.NodeCount > 1 && CheckpointLayout.IsRankKeyword(Options.Scope) ? CheckpointMode.Collective : CheckpointMode.PerRank);
        var collective = Mode == CheckpointMode.Collective && job.NodeCount > 1;
        Scope = collective || CheckpointLayout.IsRankKeyword(Options.Scope) ? job.DefaultScope : Options.Scope;
        // One retry layer only: the manager's, unless the store already retries with the library's policy.
        Store = store is ResilientCheckpointStore || store.Capabilities.RetriesTransientFailures
            ? store
            : new ResilientCheckpointStore(store, Options.Resilience, log, time);
        if (!Store.Capabilities.CreateOnly)
        {
            Log.NoCreateOnly(log, Store.Location);
        }

        // The parts, each in its own folder; the verdicts are the only state they share, and the manager owns them.
        var verdicts = new Verdicts();
        Catalog = new CheckpointCatalog(Store, RunId, Scope, verdicts, partOfJob: collective);
        // A collective job's parts are this rank's catalog; the collective parts add the step commit and the agreement.
        var job0 = collective ? new CollectiveJob(Store, RunId, job, Options, log, time) : null;
        Collective = job0?.Catalog;
        _restorer = new CheckpointRestorer(Catalog, verdicts, Options, log, job0 is null ? null : new CollectiveAgreement(job0));
        _retention = new CheckpointRetention(
            Catalog, verdicts, Options, () => _restorer.RestoredStep, log, job0 is null ? null : new CollectiveRetention(job0, () => _restorer.RestoredStep));
        _saver = new CheckpointSaver(Catalog, verdicts, _retention, Options, job, log, time, job0 is null ? null : new CollectiveCommit(job0));
        _garbage = new GarbageCollector(Catalog, _saver.ActiveWriters, Options, log, time);
        _collectiveGarbage = job0 is null ? null : new CollectiveGarbage(job0, _saver.ActiveWriters);
        if (collective)
        {
            Log.CollectiveCreated(log, RunId, job.Rank, job.NodeCount);
        }

        Log.ManagerCreated(log, RunId, Scope, Store.Location, Store.Capabilities);
    }

    /// <summary>
    /// How this job's ranks checkpoint: <see cref="CheckpointMode.Collective"/> when <see cref="CheckpointManagerOptions.Mode"/>
    /// says so or, unset, when <c>NUM_NODES</c> is more than 1 and the scope is <c>rank</c>; otherwise <see cref="CheckpointMode.PerRank"/>.
    /// </summary>
    public CheckpointMode Mode { get; }

    /// <summary>
    /// The run's collective steps when this manager saves collectively (more than one node in <see cref="CheckpointMode.Collective"/>
    /// mode), else <see langword="null"/>. Then <see cref="Catalog"/> holds this rank's parts, and a save returns once the
    /// whole step is committed.
    /// </summary>
    public CollectiveCatalog? Collective { get; }

    /// <summary>The store, with the manager's retry pipeline around it unless the store retries by itself.</summary>
    public ICheckpointStore Store { get; }

    /// <summary>Who this pod is.</summary>
    public JobContext Job { get; }

    /// <summary>The options in force.</summary>
    public CheckpointManagerOptions Options { get; }

    /// <summary>The run whose checkpoints this manager handles.</summary>
    public string RunId { get; }

    /// <summary>The scope whose checkpoints this manager handles (e.g. <c>rank-00000</c>).</summary>
    public string Scope { get; }

    /// <summary>What runs right before each commit: the output sync registers here.</summary>
    internal CommitHooks CommitHooks => _saver.Hooks;

    /// <summary>The step this manager last restored, which retention never deletes; <see langword="null"/> before any restore.</summary>
    public long? RestoredStep => _restorer.RestoredStep;

    /// <summary>The run and scope's checkpoints as a read-only catalog, which knows what this manager found corrupt.</summary>
    public CheckpointCatalog Catalog { get; }

    /// <summary>
    /// Lists the scope's step folders, newest first, with each one's manifest when it is committed and readable.
    /// Data is not verified here; <see cref="RestoreLatestAsync"/> and <see cref="OpenLatestAsync"/> do that.
    /// </summary>
    /// <param name="cancellationToken">Cancels the listing.</param>
    public Task<IReadOnlyList<CheckpointInfo>> ListAsync(CancellationToken cancellationToken = default) => Catalog.ListAsync(cancellationToken);

    /// <summary>
    /// Begins saving <paramref name="step"/>: add files to the returned <see cref="CheckpointSave"/>, then commit it.
    /// </summary>
    /// <param name="step">The step, a non-negative number; larger is newer.</param>
    /// <param name="progress">Receives progress as bytes move.</param>
    /// <param name="cancellationToken">Cancels nothing yet; pass tokens to the save's methods.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative.</exception>
    public Task<CheckpointSave> BeginSaveAsync(long step, IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(_saver.Begin(step, progress));
    }

    /// <summary>Saves and commits one step from named streams (each read from its position to its end, not disposed).</summary>
    /// <param name="step">The step; larger is newer.</param>
    /// <param name="files">The checkpoint's files by name (relative '/'-separated paths).</param>
    /// <param name="metadata">Small user values for the manifest (metrics, epoch…).</param>
    /// <param name="progress">Receives progress as bytes move.</param>
    /// <param name="cancellationToken">Cancels the save; a cancelled save leaves no visible checkpoint.</param>
    /// <returns>The committed manifest.</returns>
    /// <exception cref="CheckpointConflictException">Another writer committed this step.</exception>
    /// <exception cref="ArgumentException">A file name is invalid or repeated, or the metadata has a null key or value (refused before any upload).</exception>
    /// <exception cref="CheckpointStorageException">The manifest would be refused by readers, e.g. over 16 MiB (refused before any upload when the metadata alone makes it so).</exception>
    public Task<CheckpointManifest> SaveAsync(
        long step,
        IReadOnlyDictionary<string, Stream> files,
        IReadOnlyDictionary<string, string>? metadata = null,
        IProgress<TransferProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        return _saver.SaveAsync(step, files, metadata, progress, cancellationToken);
    }

    /// <summary>Saves and commits one step from every file under a local directory (names are paths relative to it).</summary>
    /// <param name="step">The step; larger is newer.</param>
    /// <param name="directory">
    /// The local directory. Symbolic links in it are followed or refused as <see cref="CheckpointManagerOptions.SymbolicLinks"/>
    /// says, never left out; special files (pipes, sockets, devices) fail the save. Each file is saved with the length it had
    /// when its copy began.
    /// </param>
    /// <param name="metadata">Small user values for the manifest.</param>
    /// <param name="progress">Receives progress as bytes move.</param>
    /// <param name="cancellationToken">Cancels the save; a cancelled save leaves no visible checkpoint.</param>
    /// <returns>The committed manifest.</returns>
    /// <exception cref="ArgumentException">The directory contains a file-system store's root or lies inside it; nothing is saved.</exception>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="IOException">
    /// A symbolic link the rule refuses, a link that points nowhere or loops, a special file, or a file that shrank while it
    /// was copied; the message names it, and nothing is committed.
    /// </exception>
    /// <exception cref="CheckpointConflictException">Another writer committed this step.</exception>
    public Task<CheckpointManifest> SaveDirectoryAsync(
        long step,
        string directory,
        IReadOnlyDictionary<string, string>? metadata = null,
        IProgress<TransferProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        return _saver.SaveDirectoryAsync(step, directory, metadata, progress, cancellationToken);
    }

    /// <summary>
    /// Restores the newest intact checkpoint into <paramref name="directory"/>: every file is downloaded into a hidden
    /// staging folder (inside the directory when it exists, else beside it) and verified while streaming, and only a fully
    /// verified checkpoint replaces the directory's content (its previous content is removed; the directory itself is
    /// never renamed, so a mount point or the target of a symbolic link works). Torn or corrupt checkpoints are passed over
    /// (never deleted) and reported.
    /// </summary>
    /// <remarks>
    /// A checkpoint that disappears while it is read (a writer's retention deleted it after committing a newer one) is not
    /// reported: the scope is listed again and the newest committed checkpoint is taken.
    /// </remarks>
    /// <exception cref="CheckpointStorageException">Checkpoints kept disappearing while they were read, listing after listing.</exception>
    /// <param name="directory">The local directory to fill.</param>
    /// <param name="progress">Receives progress as bytes move.</param>
    /// <param name="cancellationToken">Cancels the restore; the directory is then unchanged.</param>
    /// <returns>Which step was restored (or that none was found) and which were skipped.</returns>
    /// <exception cref="ArgumentException">
    /// The directory is a file, a file-system root, holds a mount point, or overlaps a file-system store's root; nothing is
    /// downloaded.
    /// </exception>
    public Task<RestoreResult> RestoreLatestAsync(string directory, IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        return _restorer.RestoreLatestAsync(directory, progress, cancellationToken);
    }

    /// <summary>Restores one particular step into <paramref name="directory"/>, verified and atomically like <see cref="RestoreLatestAsync"/>.</summary>
    /// <param name="step">The step.</param>
    /// <param name="directory">The local directory to fill.</param>
    /// <param name="progress">Receives progress as bytes move.</param>
    /// <param name="cancellationToken">Cancels the restore; the directory is then unchanged.</param>
    /// <returns>The restored checkpoint.</returns>
    /// <exception cref="CheckpointNotFoundException">The step has no intact checkpoint; the message says why.</exception>
    /// <exception cref="ArgumentException">The directory is refused as by <see cref="RestoreLatestAsync"/>; nothing is downloaded.</exception>
    public Task<RestoreResult> RestoreAsync(long step, string directory, IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        return _restorer.RestoreAsync(step, directory, progress, cancellationToken);
    }

    /// <summary>
    /// Opens one particular step for reading as verifying streams (see <see cref="CheckpointReader"/>): its manifest must be
    /// valid and every file it lists present with the right length. A tool verifies a checkpoint by reading every file to its end.
    /// </summary>
    /// <param name="step">The step.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>A reader of that step (<see cref="CheckpointReader.Found"/> is true).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative.</exception>
    /// <exception cref="CheckpointNotFoundException">The step is not an intact checkpoint (not committed, untrusted manifest, a file missing or of the wrong length); the message says why.</exception>
    public Task<CheckpointReader> OpenAsync(long step, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        return _restorer.OpenAsync(step, cancellationToken);
    }

    /// <summary>
    /// Finds the newest checkpoint whose manifest is valid and whose files all exist with the right lengths, and opens it
    /// for reading as verifying streams (see <see cref="CheckpointReader"/>). <see cref="LoadLatestAsync"/> adds the
    /// fallback past a file that fails its checksum while it is read.
    /// </summary>
    /// <param name="cancellationToken">Cancels the search.</param>
    /// <returns>A reader; <see cref="CheckpointReader.Found"/> is false when no checkpoint qualifies.</returns>
    /// <exception cref="CheckpointStorageException">Checkpoints kept disappearing while they were checked, listing after listing.</exception>
    public Task<CheckpointReader> OpenLatestAsync(CancellationToken cancellationToken = default) => _restorer.OpenLatestAsync(cancellationToken);

    /// <summary>
    /// Loads the newest intact checkpoint through <paramref name="load"/>, which reads its files from the reader it is given
    /// (every stream verifies its checksum). When a file turns out corrupt while it is read
    /// (<see cref="CheckpointCorruptException"/>), that checkpoint is passed over and <paramref name="load"/> is called
    /// again with the next older one, so what it returns always comes from a fully verified checkpoint. When a file
    /// disappears while it is read (a writer's retention deleted the checkpoint after committing a newer one),
    /// <paramref name="load"/> is called again with the newest committed checkpoint.
    /// </summary>
    /// <typeparam name="T">What <paramref name="load"/> makes of a checkpoint (e.g. the training state).</typeparam>
    /// <param name="load">Reads the checkpoint's files; it should read each file to its end before trusting it.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    /// <returns>The loaded value and its checkpoint, or <see cref="LoadResult{T}.Found"/> false; and what was skipped, and why.</returns>
    /// <exception cref="CheckpointStorageException">Checkpoints kept disappearing while they were read, listing after listing.</exception>
    public Task<LoadResult<T>> LoadLatestAsync<T>(Func<CheckpointReader, CancellationToken, Task<T>> load, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(load);
        return _restorer.LoadLatestAsync(load, cancellationToken);
    }

    /// <summary>
    /// Deletes the scope's valid checkpoints that no retention policy keeps. Never deleted: the newest valid checkpoint,
    /// the one this manager restored from, pinned steps, corrupt or unreadable checkpoints (kept for inspection, and never
    /// counted among the newest valid ones), other runs and scopes — and nothing at all while the newest step folder that
    /// is not known to be corrupt is not a committed checkpoint (a save in progress, or a torn one).
    /// Each deletion removes the manifest first (the checkpoint disappears at once), then its data.
    /// </summary>
    /// <param name="cancellationToken">Cancels the clean-up; what is deleted stays deleted, the rest stays intact.</param>
    /// <returns>The deleted steps, newest first.</returns>
    public Task<IReadOnlyList<long>> ApplyRetentionAsync(CancellationToken cancellationToken = default) => _retention.ApplyAsync(null, cancellationToken);

    /// <summary>
    /// Lists what <see cref="ApplyRetentionAsync"/> would delete now, by the same rules, without deleting anything (a dry run).
    /// A save or another writer's retention may change the answer before a later <see cref="ApplyRetentionAsync"/>.
    /// </summary>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The steps that would be deleted, newest first.</returns>
    public async Task<IReadOnlyList<long>> PlanRetentionAsync(CancellationToken cancellationToken = default) =>
        await _retention.PlanStepsAsync(null, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Finds the scope's uncommitted data — writer folders no manifest (live or quarantined) points at, whose newest object
    /// is older than the grace period, and that no save of this process is writing — and deletes it.
    /// Steps whose manifest cannot be read are left alone. On stores that keep interrupted uploads apart
    /// (<see cref="IPendingUploadStore"/>), uploads under the scope started before the grace period are aborted too.
    /// </summary>
    /// <param name="dryRun">List what would be deleted without deleting anything.</param>
    /// <param name="gracePeriod">Overrides <see cref="CheckpointManagerOptions.GarbageGracePeriod"/>.</param>
    /// <param name="cancellationToken">Cancels the collection.</param>
    /// <returns>The objects found (and deleted unless <paramref name="dryRun"/>).</returns>
    public Task<GarbageCollectionResult> CollectGarbageAsync(bool dryRun = false, TimeSpan? gracePeriod = null, CancellationToken cancellationToken = default) =>
        _collectiveGarbage?.CollectAsync(dryRun, gracePeriod, cancellationToken) ?? _garbage.CollectAsync(dryRun, gracePeriod, cancellationToken);
}
