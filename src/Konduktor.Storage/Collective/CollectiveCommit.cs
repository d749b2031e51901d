using System.Globalization;
using System.Security.Cryptography;

namespace Konduktor.Storage;

/// <summary>
/// The save side of a collective checkpoint, called by the saver around its part commit: whether this rank's old part of a
/// step may be superseded, and after the part commit, the step commit — rank 0 waits for every rank's current, valid part
/// and writes the step commit create-only; the other ranks wait until it lists their part.
/// </summary>
internal sealed class CollectiveCommit(CollectiveJob job)
{
    /// <summary>
    /// Whether this rank's existing part of <paramref name="step"/> may be superseded by a new save: it is from an earlier
    /// incarnation of the job (a copy of this rank saving now is a split brain: a conflict), and the step is not committed with
    /// it — no step commit, or one that lists another part of this rank, or one a rank found corrupt.
    /// </summary>
    public async Task<bool> MaySupersedePartAsync(long step, ManifestRead existing, CancellationToken cancellationToken)
    {
        if (existing.Manifest is not { } part || job.WhyStale(part) is null)
        {
            return false;
        }

        var read = await job.Catalog.ReadStepCommitAsync(step, cancellationToken).ConfigureAwait(false);
        if (read.Commit is not { } commit)
        {
            return read.Reason == SkipReason.NotCommitted;
        }

        return commit.Parts[job.Rank].Writer != part.Writer || await job.IsJudgedCorruptAsync(step, commit, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Commits the step this rank's part (just committed) belongs to, or waits until rank 0 has.</summary>
    /// <exception cref="CollectiveTimeoutException">The other ranks did not all commit their part (or rank 0 the step) in time.</exception>
    /// <exception cref="CheckpointConflictException">Another step commit holds the step and no rank found it corrupt.</exception>
    public async Task CommitStepAsync(long step, CheckpointManifest part, CancellationToken cancellationToken)
    {
        if (job.Rank == 0)
        {
            var parts = await GatherPartsAsync(step, cancellationToken).ConfigureAwait(false);
            await WriteStepCommitAsync(step, parts, cancellationToken).ConfigureAwait(false);
            return;
        }

        var committed = await job.WaitAsync(
            async ct => (await job.Catalog.ReadStepCommitAsync(step, ct).ConfigureAwait(false)).Commit is { } commit
                && commit.Nodes == job.Nodes
                && commit.Parts[job.Rank].Writer == part.Writer,
            cancellationToken).ConfigureAwait(false);
        if (!committed)
        {
            // Name the ranks whose part is missing; when every part is there, rank 0 never committed the step.
            var problems = await ProblemsAsync(step, cancellationToken).ConfigureAwait(false);
            if (problems.Count == 0)
            {
                problems[0] = "every part is committed, but rank 0 never committed the step";
            }

            throw Timeout(step, problems, "the step commit");
        }

        Log.StepJoined(job.Logger, step, job.Rank);
    }

    /// <summary>Waits until every rank's part of <paramref name="step"/> is committed, current and valid.</summary>
    private async Task<StepCommitPart[]> GatherPartsAsync(long step, CancellationToken cancellationToken)
    {
        var parts = new StepCommitPart?[job.Nodes];
        var problems = new Dictionary<int, string>();
        var complete = await job.WaitAsync(
            async ct =>
            {
                for (var rank = 0; rank < job.Nodes; rank++)
                {
                    if (parts[rank] is not null)
                    {
                        continue;
                    }

                    var (candidate, problem) = await job.ReadPartAsync(step, rank, ct).ConfigureAwait(false);
                    if (candidate is null)
                    {
                        problems[rank] = problem!;
                        continue;
                    }

                    problems.Remove(rank);
                    var bytes = candidate.Bytes!;
                    parts[rank] = new StepCommitPart(rank, CollectiveLayout.PartKey(rank), bytes.Length, ContentHash.Of(bytes), candidate.Manifest!.Writer);
                }

                return problems.Count == 0;
            },
            cancellationToken).ConfigureAwait(false);
        return complete ? parts.Select(p => p!).ToArray() : throw Timeout(step, problems, "every rank's part");
    }

    private async Task WriteStepCommitAsync(long step, StepCommitPart[] parts, CancellationToken cancellationToken)
    {
        var commit = new StepCommit
        {
            Run = job.Run,
            Step = step,
            Nodes = job.Nodes,
            Id = NewCommitId(),
            CreatedUtc = job.Time.GetUtcNow(),
            RestartAttempt = job.Job.RestartAttempt,
            Parts = parts,
        };
        var bytes = StepCommitCodec.Serialize(commit);
        var key = CollectiveLayout.StepCommitKey(job.Run, step);
        for (var superseded = false; ; superseded = true)
        {
            try
            {
                if (!job.Store.Capabilities.CreateOnly && await job.Store.StatAsync(key, cancellationToken).ConfigureAwait(false) is not null)
                {
                    throw new PreconditionFailedException(job.Store.Location, key, "it already exists");
                }

                await job.Store.PutAsync(key, new MemoryStream(bytes, writable: false), ObjectWriteOptions.CreateOnlyWrite, cancellationToken).ConfigureAwait(false);
                Log.StepCommitted(job.Logger, step, job.Nodes, commit.Id);
                return;
            }
            catch (PreconditionFailedException)
            {
                var existing = await job.Catalog.ReadStepCommitAsync(step, cancellationToken).ConfigureAwait(false);
                if (existing.Commit?.Id == commit.Id)
                {
                    return; // Our own earlier attempt got through; only its answer was lost.
                }

                if (!superseded && existing.Commit is { } old && await job.IsJudgedCorruptAsync(step, old, cancellationToken).ConfigureAwait(false))
                {
                    await QuarantineAsync(step, key, existing, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                StorageTelemetry.Conflicts.Add(1);
                throw new CheckpointConflictException(
                    step,
                    null,
                    existing.Commit is { } winner
                        ? $"step commit {winner.Id} (restart attempt {winner.RestartAttempt}, {winner.CreatedUtc:O}) holds the step and no rank found it corrupt; nothing was overwritten"
                        : $"a step commit that cannot be read holds the step ({existing.Problem}); nothing was overwritten");
            }
        }
    }

    /// <summary>Moves a step commit a rank found corrupt aside (kept for inspection), so a new one can take the step.</summary>
    private async Task QuarantineAsync(long step, string key, StepCommitRead bad, CancellationToken cancellationToken)
    {
        var quarantineKey = $"{CollectiveLayout.StepQuarantinePrefix(job.Run, step)}{bad.Commit!.Id}.manifest.json";
        Log.StepSuperseded(job.Logger, step, bad.Commit.Id, quarantineKey);
        try
        {
            await job.Store.PutAsync(quarantineKey, new MemoryStream(bad.Bytes!, writable: false), ObjectWriteOptions.CreateOnlyWrite, cancellationToken).ConfigureAwait(false);
        }
        catch (PreconditionFailedException)
        {
            // Already kept by an earlier attempt that lost its answer.
        }

        try
        {
            var ifMatch = job.Store.Capabilities.ConditionalDelete ? bad.ETag : null;
            await job.Store.DeleteAsync(key, ifMatch, cancellationToken).ConfigureAwait(false);
        }
        catch (PreconditionFailedException)
        {
            // Replaced since it was judged; the create-only retry reports the conflict.
        }
    }

    /// <summary>What is wrong with each rank's part of <paramref name="step"/> right now (ranks whose part is fine are left out).</summary>
    private async Task<Dictionary<int, string>> ProblemsAsync(long step, CancellationToken cancellationToken)
    {
        var problems = new Dictionary<int, string>();
        for (var rank = 0; rank < job.Nodes; rank++)
        {
            if ((await job.ReadPartAsync(step, rank, cancellationToken).ConfigureAwait(false)).Problem is { } problem)
            {
                problems[rank] = problem;
            }
        }

        return problems;
    }

    private CollectiveTimeoutException Timeout(long step, Dictionary<int, string> problems, string what)
    {
        Log.CollectiveTimedOut(job.Logger, step, job.Rank, string.Join(",", problems.Keys.Order()));
        return new CollectiveTimeoutException(
            step,
            [.. problems.Keys.Order()],
            string.Create(CultureInfo.InvariantCulture, $"{what} of step {step} (rank {job.Rank} of {job.Nodes}, run '{job.Run}')"),
            job.Timeout,
            CollectiveJob.Describe(problems));
    }

    private static string NewCommitId()
    {
        Span<byte> random = stackalloc byte[8];
        RandomNumberGenerator.Fill(random);
        return "c-" + Convert.ToHexStringLower(random);
    }
}
