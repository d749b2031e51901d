namespace Konduktor.Storage;

/// <summary>
/// Reads a collective run's steps without changing anything: each step folder under <c>{run}/job/</c>, its step commit,
/// and which ranks have a part there. Each rank's parts are a <see cref="CheckpointCatalog"/> of their own
/// (<see cref="Part"/>), which judges a part as it judges any checkpoint.
/// </summary>
/// <remarks>Thread-safe. Data is not verified here: restores verify every byte.</remarks>
public sealed class CollectiveCatalog
{
    /// <summary>Creates a catalog of one run's collective steps on <paramref name="store"/>.</summary>
    /// <param name="store">Where the checkpoints live.</param>
    /// <param name="runId">The run.</param>
    /// <exception cref="ArgumentException">The run is not a valid name.</exception>
    public CollectiveCatalog(ICheckpointStore store, string runId)
    {
        ArgumentNullException.ThrowIfNull(store);
        // The public catalog checks the name; its steps are this run's collective steps.
        Steps = new CheckpointCatalog(store, runId, CollectiveLayout.RankScope(0));
        Store = store;
        RunId = runId;
    }

    /// <summary>The store read.</summary>
    public ICheckpointStore Store { get; }

    /// <summary>The run.</summary>
    public string RunId { get; }

    private CheckpointCatalog Steps { get; }

    /// <summary>One rank's parts, as a catalog whose checkpoints are that rank's part of each step.</summary>
    /// <param name="rank">The rank, 0 or more.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rank"/> is negative.</exception>
    public CheckpointCatalog Part(int rank)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        return new CheckpointCatalog(Store, RunId, CollectiveLayout.RankScope(rank), new Verdicts(), partOfJob: true);
    }

    /// <summary>
    /// Lists the run's step folders newest first, each with its step commit when it is committed and readable, why not
    /// otherwise, and the ranks that have a part manifest in it.
    /// </summary>
    /// <param name="cancellationToken">Cancels the listing.</param>
    public async Task<IReadOnlyList<CollectiveStepInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        var result = new List<CollectiveStepInfo>();
        foreach (var step in await ListStepsAsync(cancellationToken).ConfigureAwait(false))
        {
            var read = await ReadStepCommitAsync(step, cancellationToken).ConfigureAwait(false);
            var ranks = new List<int>();
            var folder = CollectiveLayout.StepFolder(RunId, step);
            await foreach (var entry in Store.ListAsync(folder, new ListOptions { Delimiter = "/" }, cancellationToken).ConfigureAwait(false))
            {
                if (entry.IsPrefix && CollectiveLayout.TryParseRank(entry.Key[folder.Length..].TrimEnd('/'), out var rank)
                    && await Store.StatAsync(entry.Key + CheckpointLayout.ManifestName, cancellationToken).ConfigureAwait(false) is not null)
                {
                    ranks.Add(rank);
                }
            }

            ranks.Sort();
            result.Add(new CollectiveStepInfo(step, read.Commit, read.Problem, ranks));
        }

        return result;
    }

    /// <summary>Reads one step's commit: <see langword="null"/> when the step has none; a commit that cannot be trusted is an error.</summary>
    /// <param name="step">The step.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="CheckpointStorageException">The step commit exists but cannot be trusted; the message says why.</exception>
    public async Task<StepCommit?> GetStepCommitAsync(long step, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        var read = await ReadStepCommitAsync(step, cancellationToken).ConfigureAwait(false);
        return read.Commit is null && read.Reason == SkipReason.InvalidManifest
            ? throw new CheckpointStorageException($"The step commit of step {step} in run '{RunId}' on {Store.Location} cannot be trusted: {read.Problem}.")
            : read.Commit;
    }

    /// <summary>The run's collective step folders, newest first.</summary>
    internal Task<List<long>> ListStepsAsync(CancellationToken cancellationToken) => Part(0).ListStepsAsync(cancellationToken);

    /// <summary>Reads and checks one step's commit.</summary>
    internal async Task<StepCommitRead> ReadStepCommitAsync(long step, CancellationToken cancellationToken)
    {
        var key = CollectiveLayout.StepCommitKey(RunId, step);
        if (await Store.StatAsync(key, cancellationToken).ConfigureAwait(false) is not { } info)
        {
            return new StepCommitRead(null, null, SkipReason.NotCommitted, "no step commit: the ranks' parts were never committed together");
        }

        if (info.Length > ManifestCodec.MaxBytes)
        {
            return new StepCommitRead(null, info.ETag, SkipReason.InvalidManifest, $"the step commit is {info.Length} bytes, over the limit of {ManifestCodec.MaxBytes}");
        }

        try
        {
            var bytes = await Steps.ReadSmallAsync(key, cancellationToken).ConfigureAwait(false);
            return new StepCommitRead(StepCommitCodec.Parse(bytes, RunId, step), info.ETag, null, null, bytes);
        }
        catch (Exception e) when (e is ObjectNotFoundException or PreconditionFailedException)
        {
            return new StepCommitRead(null, null, SkipReason.NotCommitted, "the step commit disappeared while it was read");
        }
        catch (InvalidManifestException e)
        {
            return new StepCommitRead(null, info.ETag, SkipReason.InvalidManifest, $"the step commit cannot be trusted: {e.Message}");
        }
    }
}

/// <summary>One step folder of a collective run, as <see cref="CollectiveCatalog.ListAsync"/> found it.</summary>
/// <param name="Step">The step.</param>
/// <param name="Commit">The step commit when it is there and readable; <see langword="null"/> otherwise.</param>
/// <param name="Problem">Why there is no usable step commit; <see langword="null"/> when there is one.</param>
/// <param name="PartRanks">The ranks with a part manifest in the step folder (committed together or not), in order.</param>
public sealed record CollectiveStepInfo(long Step, StepCommit? Commit, string? Problem, IReadOnlyList<int> PartRanks)
{
    /// <summary>Whether a readable step commit makes this step a checkpoint (its data is not verified by a listing).</summary>
    public bool IsCommitted => Commit is not null;
}

/// <summary>A step commit as read, with its version and bytes, or why there is none.</summary>
internal sealed record StepCommitRead(StepCommit? Commit, string? ETag, SkipReason? Reason, string? Problem, byte[]? Bytes = null);
