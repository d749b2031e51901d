using System.Globalization;

namespace Konduktor.Storage;

/// <summary>
/// The restore side of a collective checkpoint, called by the restorer for each step it tries: the step must have a valid
/// step commit that no rank found corrupt and that lists this rank's very part; once this rank has restored its part it
/// publishes its answer and waits until every rank has answered. A rank that finds its part corrupt publishes a permanent
/// verdict, and every rank passes over the step in the same attempt. The agreement goes through the store alone.
/// </summary>
internal sealed class CollectiveAgreement(CollectiveJob job)
{
    /// <summary>The step's commit, or why the step is passed over by every rank.</summary>
    /// <exception cref="CheckpointConfigurationException">The step was committed by a job with another node count.</exception>
    public async Task<(StepCommit? Commit, SkippedCheckpoint? Skip)> JudgeStepAsync(long step, CancellationToken cancellationToken)
    {
        var read = await job.Catalog.ReadStepCommitAsync(step, cancellationToken).ConfigureAwait(false);
        if (read.Commit is not { } commit)
        {
            return (null, new SkippedCheckpoint(step, read.Reason!.Value, read.Problem!));
        }

        if (commit.Nodes != job.Nodes)
        {
            throw new CheckpointConfigurationException(
                "NUM_NODES",
                job.Nodes.ToString(CultureInfo.InvariantCulture),
                string.Create(CultureInfo.InvariantCulture, $"{commit.Nodes}, the node count that committed step {step} of run '{job.Run}' (a job resumes with the node count it saved with)"));
        }

        var (corrupt, _) = await job.ReadVerdictsAsync(step, commit.Id, cancellationToken).ConfigureAwait(false);
        return corrupt.Count > 0 ? (commit, Corrupt(step, corrupt)) : (commit, null);
    }

    /// <summary><paramref name="candidate"/>, or a skip when this rank's part is not the one <paramref name="commit"/> lists.</summary>
    public Candidate CheckListed(StepCommit commit, Candidate candidate)
    {
        var rank = job.Rank;
        if (candidate.Manifest is null || candidate.Skip is not null)
        {
            return candidate;
        }

        var listed = commit.Parts[rank];
        return candidate.Manifest.Writer == listed.Writer && candidate.Bytes is { } bytes && bytes.Length == listed.Length && ContentHash.Of(bytes) == listed.Checksum
            ? candidate
            : candidate with
            {
                Skip = new SkippedCheckpoint(
                    commit.Step,
                    SkipReason.PartCorrupt,
                    $"rank {rank}'s part manifest is not the one step commit {commit.Id} lists (writer {listed.Writer}, {listed.Checksum})"),
            };
    }

    /// <summary>Records this rank's permanent verdict: its part of the step is torn or corrupt.</summary>
    public async Task ReportCorruptAsync(StepCommit commit, SkippedCheckpoint skip, CancellationToken cancellationToken)
    {
        Log.PartCorrupt(job.Logger, commit.Step, job.Rank, skip.Detail);
        await job.PublishAsync(commit.Step, commit.Id, intact: false, $"{skip.Reason}: {skip.Detail}", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Publishes that this rank restored its part of the step, then waits until every rank has answered.
    /// </summary>
    /// <returns><see langword="null"/> when every rank restored the step; the skip when a rank found its part corrupt.</returns>
    /// <exception cref="CollectiveTimeoutException">A rank never answered within the deadline.</exception>
    public async Task<SkippedCheckpoint?> AgreeAsync(StepCommit commit, CancellationToken cancellationToken)
    {
        await job.PublishAsync(commit.Step, commit.Id, intact: true, null, cancellationToken).ConfigureAwait(false);
        SkippedCheckpoint? disagreement = null;
        var silent = new List<int>();
        var settled = await job.WaitAsync(
            async ct =>
            {
                var (corrupt, intact) = await job.ReadVerdictsAsync(commit.Step, commit.Id, ct).ConfigureAwait(false);
                if (corrupt.Count > 0)
                {
                    disagreement = Corrupt(commit.Step, corrupt);
                    return true;
                }

                silent = Enumerable.Range(0, job.Nodes).Where(r => !intact.Contains(r)).ToList();
                return silent.Count == 0;
            },
            cancellationToken).ConfigureAwait(false);
        if (!settled)
        {
            Log.CollectiveTimedOut(job.Logger, commit.Step, job.Rank, string.Join(",", silent));
            throw new CollectiveTimeoutException(
                commit.Step,
                silent,
                string.Create(CultureInfo.InvariantCulture, $"every rank's answer on restoring step {commit.Step} (rank {job.Rank} of {job.Nodes}, run '{job.Run}', restart attempt {job.Job.RestartAttempt})"),
                job.Timeout,
                CollectiveJob.Describe(silent.Select(r => KeyValuePair.Create(r, "no answer (not started, gone, or restoring another step)"))));
        }

        if (disagreement is null)
        {
            Log.CollectiveAgreed(job.Logger, commit.Step, job.Nodes);
        }

        return disagreement;
    }

    private static SkippedCheckpoint Corrupt(long step, Dictionary<int, RankVerdict> corrupt) =>
        new(step, SkipReason.PartCorrupt, string.Join("; ", corrupt.OrderBy(c => c.Key).Select(c =>
            string.Create(CultureInfo.InvariantCulture, $"rank {c.Key} found its part corrupt ({c.Value.Detail})"))));
}
