using Microsoft.Extensions.Logging;

namespace Konduktor.Storage;

/// <summary>
/// Retention: deletes the scope's valid checkpoints that no policy keeps (see <see cref="RetentionPlanner"/>). Never
/// deleted: the newest valid checkpoint, the step restored from, the step a save just committed, pinned steps, steps the
/// manager judged corrupt, and nothing at all while the newest step folder that is not known corrupt is uncommitted.
/// </summary>
/// <remarks>In a collective job (<paramref name="collective"/>) it works on whole steps instead (see <see cref="CollectiveRetention"/>).</remarks>
internal sealed class CheckpointRetention(
    CheckpointCatalog catalog, Verdicts verdicts, CheckpointManagerOptions options, Func<long?> restoredStep, ILogger logger, CollectiveRetention? collective = null)
{
    /// <summary>Applies retention; <paramref name="justCommitted"/>, the step a save has just committed, is kept whatever the policies say.</summary>
    public async Task<IReadOnlyList<long>> ApplyAsync(long? justCommitted, CancellationToken cancellationToken)
    {
        if (collective is not null)
        {
            return await collective.ApplyAsync(justCommitted, cancellationToken).ConfigureAwait(false);
        }

        var valid = new List<CheckpointManifest>();
        foreach (var step in await catalog.ListStepsAsync(cancellationToken).ConfigureAwait(false))
        {
            var read = await catalog.ReadManifestAsync(step, cancellationToken).ConfigureAwait(false);
            var corrupt = read.Reason == SkipReason.InvalidManifest
                || (read.Manifest is not null && verdicts.IsBad(step, read.ETag));
            if (corrupt)
            {
                continue; // Kept for inspection; a corrupt step is no newest valid checkpoint.
            }

            if (read.Manifest is null)
            {
                if (valid.Count == 0)
                {
                    Log.RetentionSkipped(logger, $"the newest step {step} is not a committed checkpoint ({read.Problem})");
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
        if (restoredStep() is { } restored)
        {
            protectedSteps.Add(restored);
        }

        if (justCommitted is { } fresh)
        {
            protectedSteps.Add(fresh);
        }

        var keep = RetentionPlanner.Keep(valid, options.Retention, protectedSteps);
        var deleted = new List<long>();
        foreach (var checkpoint in valid.Where(c => !keep.Contains(c.Step)))
        {
            if (await DeleteCheckpointAsync(checkpoint, cancellationToken).ConfigureAwait(false))
            {
                deleted.Add(checkpoint.Step);
                Log.RetentionDeleted(logger, checkpoint.Step);
            }
        }

        return deleted;
    }

    /// <summary>Deletes one checkpoint: its manifest (only the version that was read), then the data it lists.</summary>
    private async Task<bool> DeleteCheckpointAsync(CheckpointManifest checkpoint, CancellationToken cancellationToken)
    {
        var folder = catalog.StepFolder(checkpoint.Step);
        var manifestKey = folder + CheckpointLayout.ManifestName;
        var current = await catalog.ReadManifestAsync(checkpoint.Step, cancellationToken).ConfigureAwait(false);
        if (current.Manifest?.Writer != checkpoint.Writer)
        {
            return false; // It changed since it was listed; leave it to the next pass.
        }

        try
        {
            var ifMatch = catalog.Store.Capabilities.ConditionalDelete ? current.ETag : null;
            if (!await catalog.Store.DeleteAsync(manifestKey, ifMatch, cancellationToken).ConfigureAwait(false))
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
            await catalog.Store.DeleteAsync(folder + file.Key, null, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }
}
