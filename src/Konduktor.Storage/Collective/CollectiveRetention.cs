namespace Konduktor.Storage;

/// <summary>
/// Retention on whole collective steps, applied by rank 0 only (the other ranks' passes do nothing): the policies of
/// <see cref="RetentionPlanner"/> over the committed steps (rank 0's part carries the metadata), never the newest
/// committed step, the step restored from or the step just committed, never a step a rank found corrupt, never a step
/// without a step commit (its parts may still be committed; garbage collection takes them after the grace period). A
/// step is deleted step commit first (it stops being a checkpoint at once), then each part's manifest and data. Quarantine
/// and verdicts are kept.
/// </summary>
internal sealed class CollectiveRetention(CollectiveJob job, Func<long?> restoredStep)
{
    public async Task<IReadOnlyList<long>> ApplyAsync(long? justCommitted, CancellationToken cancellationToken)
    {
        var deleted = new List<long>();
        foreach (var read in await PlanAsync(justCommitted, cancellationToken).ConfigureAwait(false))
        {
            if (await DeleteStepAsync(read, cancellationToken).ConfigureAwait(false))
            {
                deleted.Add(read.Commit!.Step);
                Log.StepDeleted(job.Logger, read.Commit.Step);
            }
        }

        return deleted;
    }

    /// <summary>The committed steps retention would delete now, newest first, without deleting anything.</summary>
    public async Task<IReadOnlyList<StepCommitRead>> PlanAsync(long? justCommitted, CancellationToken cancellationToken)
    {
        if (job.Rank != 0)
        {
            return [];
        }

        var committed = new List<(StepCommitRead Read, CheckpointManifest Rank0)>();
        foreach (var step in await job.Catalog.ListStepsAsync(cancellationToken).ConfigureAwait(false))
        {
            var read = await job.Catalog.ReadStepCommitAsync(step, cancellationToken).ConfigureAwait(false);
            if (read.Commit is not { } commit || await job.IsJudgedCorruptAsync(step, commit, cancellationToken).ConfigureAwait(false))
            {
                continue;
            }

            var rank0 = await job.Catalog.Part(0).ReadManifestAsync(step, cancellationToken).ConfigureAwait(false);
            if (rank0.Manifest is { } manifest && manifest.Writer == commit.Parts[0].Writer)
            {
                committed.Add((read, manifest));
            }
        }

        if (committed.Count == 0)
        {
            return [];
        }

        List<long> protectedSteps = [committed[0].Rank0.Step];
        if (restoredStep() is { } restored)
        {
            protectedSteps.Add(restored);
        }

        if (justCommitted is { } fresh)
        {
            protectedSteps.Add(fresh);
        }

        var keep = RetentionPlanner.Keep([.. committed.Select(c => c.Rank0)], job.Options.Retention, protectedSteps);
        return [.. committed.Where(c => !keep.Contains(c.Rank0.Step)).Select(c => c.Read)];
    }

    private async Task<bool> DeleteStepAsync(StepCommitRead read, CancellationToken cancellationToken)
    {
        var commit = read.Commit!;
        try
        {
            var ifMatch = job.Store.Capabilities.ConditionalDelete ? read.ETag : null;
            if (!await job.Store.DeleteAsync(CollectiveLayout.StepCommitKey(job.Run, commit.Step), ifMatch, cancellationToken).ConfigureAwait(false))
            {
                return false;
            }
        }
        catch (PreconditionFailedException)
        {
            return false; // It changed since it was read; leave it to the next pass.
        }

        foreach (var listed in commit.Parts)
        {
            var part = job.Catalog.Part(listed.Rank);
            var manifest = (await part.ReadManifestAsync(commit.Step, cancellationToken).ConfigureAwait(false)).Manifest;
            if (manifest?.Writer != listed.Writer)
            {
                continue; // Not the part the commit listed: someone saved the step again since; garbage collection judges it.
            }

            var folder = part.StepFolder(commit.Step);
            await job.Store.DeleteAsync(part.ManifestKey(commit.Step), null, cancellationToken).ConfigureAwait(false);
            foreach (var file in manifest.Files)
            {
                await job.Store.DeleteAsync(folder + file.Key, null, cancellationToken).ConfigureAwait(false);
            }
        }

        return true;
    }
}
