using System.Globalization;

using Microsoft.Extensions.Logging;

namespace Konduktor.Storage;

/// <summary>
/// What a rank of a collective job knows and does through the store alone: when it started, which parts are current (of
/// this incarnation of the job, not left over from a crashed one), the ranks' verdicts, and waiting with the deadline
/// <see cref="CollectiveOptions.Timeout"/>. Its save side is <see cref="CollectiveCommit"/>, its restore side
/// <see cref="CollectiveAgreement"/>.
/// </summary>
internal sealed class CollectiveJob
{
    private readonly TimeSpan _poll;

    public CollectiveJob(ICheckpointStore store, string run, JobContext job, CheckpointManagerOptions options, ILogger logger, TimeProvider time)
    {
        Catalog = new CollectiveCatalog(store, run);
        Job = job;
        Options = options;
        Logger = logger;
        Time = time;
        Timeout = options.Collective.Timeout;
        Started = time.GetUtcNow();
        _poll = TimeSpan.FromTicks(Math.Clamp(Timeout.Ticks / 20, TimeSpan.FromMilliseconds(20).Ticks, TimeSpan.FromMilliseconds(500).Ticks));
    }

    public CollectiveCatalog Catalog { get; }

    public ICheckpointStore Store => Catalog.Store;

    public string Run => Catalog.RunId;

    public JobContext Job { get; }

    public CheckpointManagerOptions Options { get; }

    public ILogger Logger { get; }

    public TimeProvider Time { get; }

    public TimeSpan Timeout { get; }

    /// <summary>When this rank's manager was created: parts and answers older than this are from an earlier incarnation.</summary>
    public DateTimeOffset Started { get; }

    public int Rank => Job.Rank;

    public int Nodes => Job.NodeCount;

    /// <summary>
    /// Whether something a rank wrote (a part, an answer) belongs to this incarnation of the job: the same restart attempt, and
    /// written after this rank started (a preemption restarts the pods without raising the attempt). A part left over from a
    /// crashed incarnation is never mixed into a new step commit.
    /// </summary>
    public bool IsCurrent(int restartAttempt, DateTimeOffset createdUtc) => restartAttempt == Job.RestartAttempt && createdUtc >= Started;

    /// <summary>Why <paramref name="part"/> is not of this incarnation, or <see langword="null"/> when it is.</summary>
    public string? WhyStale(CheckpointManifest part) => part.Job is not { } job
        ? "it names no restart attempt"
        : IsCurrent(job.RestartAttempt, part.CreatedUtc)
            ? null
            : string.Create(CultureInfo.InvariantCulture, $"its part is from an earlier incarnation (restart attempt {job.RestartAttempt}, written {part.CreatedUtc:O}; this rank has attempt {Job.RestartAttempt}, started {Started:O})");

    /// <summary>
    /// Calls <paramref name="done"/> until it returns true or the deadline passes.
    /// </summary>
    /// <returns>Whether <paramref name="done"/> returned true in time.</returns>
    public async Task<bool> WaitAsync(Func<CancellationToken, Task<bool>> done, CancellationToken cancellationToken)
    {
        var deadline = Time.GetUtcNow() + Timeout;
        while (true)
        {
            if (await done(cancellationToken).ConfigureAwait(false))
            {
                return true;
            }

            if (Time.GetUtcNow() >= deadline)
            {
                return false;
            }

            await Task.Delay(_poll, Time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Rank <paramref name="rank"/>'s part of <paramref name="step"/> when it is committed, current and valid; otherwise what is
    /// wrong with it (while the rank may still save it).
    /// </summary>
    /// <exception cref="CheckpointStorageException">The part cannot be trusted (e.g. from another run).</exception>
    /// <exception cref="CheckpointConfigurationException">The part was saved with another <c>NUM_NODES</c>.</exception>
    public async Task<(Candidate? Part, string? Problem)> ReadPartAsync(long step, int rank, CancellationToken cancellationToken)
    {
        var candidate = await Catalog.Part(rank).JudgeAsync(step, cancellationToken).ConfigureAwait(false);
        if (candidate.Manifest is null)
        {
            return candidate.Skip?.Reason == SkipReason.InvalidManifest
                ? throw new CheckpointStorageException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"Rank {rank}'s part of step {step} in run '{Run}' on {Store.Location} cannot be trusted: {candidate.Skip.Detail}. Nothing was committed."))
                : (null, rank == Rank ? "this rank's own part is not committed" : "it has committed no part yet");
        }

        if (WhyStale(candidate.Manifest) is { } stale)
        {
            return (null, stale);
        }

        if (candidate.Manifest.Job!.Nodes != Nodes)
        {
            throw new CheckpointConfigurationException(
                "NUM_NODES",
                candidate.Manifest.Job.Nodes.ToString(CultureInfo.InvariantCulture),
                string.Create(CultureInfo.InvariantCulture, $"the same node count on every rank: rank {rank}'s part of step {step} was saved with NUM_NODES = {candidate.Manifest.Job.Nodes}, rank {Rank} has {Nodes}; nothing was committed"));
        }

        return candidate.Skip is { } skip ? (null, $"its part is not valid: {skip.Detail}") : (candidate, null);
    }

    /// <summary>The answers of the ranks on one step commit, by rank: the permanent corrupt verdicts, and the current intact answers.</summary>
    public async Task<(Dictionary<int, RankVerdict> Corrupt, HashSet<int> Intact)> ReadVerdictsAsync(long step, string commitId, CancellationToken cancellationToken)
    {
        var corrupt = new Dictionary<int, RankVerdict>();
        var intact = new HashSet<int>();
        var prefix = CollectiveLayout.VerdictPrefix(Run, step, commitId);
        await foreach (var entry in Store.ListAsync(prefix, null, cancellationToken).ConfigureAwait(false))
        {
            var name = entry.Key[prefix.Length..];
            var isCorrupt = name.EndsWith(".corrupt.json", StringComparison.Ordinal);
            var isIntact = name.EndsWith(string.Create(CultureInfo.InvariantCulture, $".a{Job.RestartAttempt}.intact.json"), StringComparison.Ordinal);
            if (entry.Info is null || !(isCorrupt || isIntact) || !CollectiveLayout.TryParseRank(name[..name.IndexOf('.', StringComparison.Ordinal)], out var rank))
            {
                continue;
            }

            RankVerdict? verdict;
            try
            {
                verdict = StepCommitCodec.ParseVerdict(await Catalog.Part(rank).ReadSmallAsync(entry.Key, cancellationToken).ConfigureAwait(false));
            }
            catch (ObjectNotFoundException)
            {
                continue;
            }

            if (verdict is null || verdict.Rank != rank)
            {
                continue;
            }

            if (isCorrupt)
            {
                corrupt[rank] = verdict;
            }
            else if (verdict.Intact && IsCurrent(verdict.RestartAttempt, verdict.CreatedUtc))
            {
                intact.Add(rank);
            }
        }

        return (corrupt, intact);
    }

    /// <summary>Publishes this rank's answer on a step commit: a permanent verdict (create-only) or this attempt's intact answer.</summary>
    public async Task PublishAsync(long step, string commitId, bool intact, string? detail, CancellationToken cancellationToken)
    {
        var key = CollectiveLayout.VerdictKey(Run, step, commitId, Rank, intact, Job.RestartAttempt);
        var bytes = StepCommitCodec.Serialize(new RankVerdict(Rank, intact, Job.RestartAttempt, Time.GetUtcNow(), detail, Job.HostName));
        try
        {
            await Store.PutAsync(key, new MemoryStream(bytes, writable: false), intact ? null : ObjectWriteOptions.CreateOnlyWrite, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (PreconditionFailedException)
        {
            // This rank's permanent verdict on that commit is already there: it stays as first written.
        }
    }

    /// <summary>Whether a rank recorded a permanent corrupt verdict on <paramref name="commit"/>.</summary>
    public async Task<bool> IsJudgedCorruptAsync(long step, StepCommit commit, CancellationToken cancellationToken) =>
        (await ReadVerdictsAsync(step, commit.Id, cancellationToken).ConfigureAwait(false)).Corrupt.Count > 0;

    /// <summary>Describes each rank in <paramref name="ranks"/> with what was found of it.</summary>
    public static string Describe(IEnumerable<KeyValuePair<int, string>> ranks) =>
        string.Join("; ", ranks.OrderBy(r => r.Key).Select(r => string.Create(CultureInfo.InvariantCulture, $"rank {r.Key}: {r.Value}")));
}
