namespace Konduktor.Storage;

public sealed partial class CheckpointManager
{
    /// <summary>
    /// Deletes the scope's valid checkpoints that no retention policy keeps. Never deleted: the newest valid checkpoint,
    /// the one this manager restored from, pinned steps, corrupt or unreadable checkpoints (kept for inspection, and never
    /// counted among the newest valid ones), other runs and scopes — and nothing at all while the newest step folder that
    /// is not known to be corrupt is not a committed checkpoint (a save in progress, or a torn one).
    /// Each deletion removes the manifest first (the checkpoint disappears at once), then its data.
    /// </summary>
    /// <param name="cancellationToken">Cancels the clean-up; what is deleted stays deleted, the rest stays intact.</param>
    /// <returns>The deleted steps, newest first.</returns>
    public Task<IReadOnlyList<long>> ApplyRetentionAsync(CancellationToken cancellationToken = default) =>
        ApplyRetentionAsync(null, cancellationToken);

    /// <summary>Applies retention; <paramref name="justCommitted"/>, the step a save has just committed, is kept whatever the policies say.</summary>
    private async Task<IReadOnlyList<long>> ApplyRetentionAsync(long? justCommitted, CancellationToken cancellationToken)
    {
        var valid = new List<CheckpointManifest>();
        foreach (var step in await ListStepsAsync(cancellationToken).ConfigureAwait(false))
        {
            var read = await ReadManifestAsync(step, cancellationToken).ConfigureAwait(false);
            var corrupt = read.Reason == SkipReason.InvalidManifest
                || (read.Manifest is not null && _judgedBad.TryGetValue(step, out var judged) && judged == read.ETag);
            if (corrupt)
            {
                continue; // Kept for inspection; a corrupt step is no newest valid checkpoint.
            }

            if (read.Manifest is null)
            {
                if (valid.Count == 0)
                {
                    Log.RetentionSkipped(_logger, $"the newest step {step} is not a committed checkpoint ({read.Problem})");
                    return [];
                }

                continue;
            }

            valid.Add(read.Manifest);
        }

        if (valid.Count == 0)
        {
            return [];
        }

        List<long> protectedSteps = [valid[0].Step];
        if (RestoredStep is { } restored)
        {
            protectedSteps.Add(restored);
        }

        if (justCommitted is { } fresh)
        {
            protectedSteps.Add(fresh);
        }

        var keep = RetentionPlanner.Keep(valid, Options.Retention, protectedSteps);
        var deleted = new List<long>();
        foreach (var checkpoint in valid.Where(c => !keep.Contains(c.Step)))
        {
            if (await DeleteCheckpointAsync(checkpoint, cancellationToken).ConfigureAwait(false))
            {
                deleted.Add(checkpoint.Step);
                Log.RetentionDeleted(_logger, checkpoint.Step);
            }
        }

        return deleted;
    }

    /// <summary>Deletes one checkpoint: its manifest (only the version that was read), then the data it lists.</summary>
    private async Task<bool> DeleteCheckpointAsync(CheckpointManifest checkpoint, CancellationToken cancellationToken)
    {
        var folder = CheckpointLayout.StepFolder(RunId, Scope, checkpoint.Step);
        var manifestKey = folder + CheckpointLayout.ManifestName;
        var current = await ReadManifestAsync(checkpoint.Step, cancellationToken).ConfigureAwait(false);
        if (current.Manifest?.Writer != checkpoint.Writer)
        {
            return false; // It changed since it was listed; leave it to the next pass.
        }

        try
        {
            var ifMatch = Store.Capabilities.ConditionalDelete ? current.ETag : null;
            if (!await Store.DeleteAsync(manifestKey, ifMatch, cancellationToken).ConfigureAwait(false))
            {
                return false;
            }
        }
        catch (PreconditionFailedException)
        {
            return false;
        }

        foreach (var file in checkpoint.Files)
        {
            await Store.DeleteAsync(folder + file.Key, null, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }
}
