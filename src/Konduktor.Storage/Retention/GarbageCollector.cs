using Microsoft.Extensions.Logging;

namespace Konduktor.Storage;

/// <summary>
/// Garbage collection: finds writer folders no manifest (live or quarantined) points at, older than the grace period and
/// written by no save of this process (<see cref="ActiveWriters"/>), and deletes them; aborts stale pending uploads on
/// stores that keep them (<see cref="IPendingUploadStore"/>).
/// </summary>
internal sealed class GarbageCollector(CheckpointCatalog catalog, ActiveWriters activeWriters, CheckpointManagerOptions options, ILogger logger, TimeProvider time)
{
    /// <summary>Finds the scope's uncommitted data (see <see cref="CheckpointManager.CollectGarbageAsync"/>) and, unless a dry run, deletes it.</summary>
    public async Task<GarbageCollectionResult> CollectAsync(bool dryRun, TimeSpan? gracePeriod, CancellationToken cancellationToken)
    {
        var grace = gracePeriod ?? options.GarbageGracePeriod;
        ArgumentOutOfRangeException.ThrowIfLessThan(grace, TimeSpan.Zero, nameof(gracePeriod));
        var cutoff = time.GetUtcNow() - grace;
        var scopePrefix = CheckpointLayout.ScopePrefix(catalog.RunId, catalog.Scope);

        // step → writer folder → its objects
        var steps = new SortedDictionary<long, Dictionary<string, List<ObjectInfo>>>();
        await foreach (var entry in catalog.Store.ListAsync(scopePrefix, null, cancellationToken).ConfigureAwait(false))
        {
            var relative = entry.Key[scopePrefix.Length..];
            var parts = relative.Split('/', 3);
            if (entry.Info is null || parts.Length < 3 || !CheckpointLayout.TryParseStepFolder(parts[0], out var step))
            {
                continue; // Not in a step's writer folder: the manifest itself, or not ours to judge.
            }

            if (!steps.TryGetValue(step, out var writers))
            {
                steps[step] = writers = new Dictionary<string, List<ObjectInfo>>(StringComparer.Ordinal);
            }

            if (!writers.TryGetValue(parts[1], out var objects))
            {
                writers[parts[1]] = objects = [];
            }

            objects.Add(entry.Info);
        }

        var orphans = new List<(long Step, string Writer, List<ObjectInfo> Objects)>();
        foreach (var (step, writers) in steps)
        {
            writers.Remove(CheckpointLayout.QuarantineFolder);
            var referenced = await ReferencedWritersAsync(step, cancellationToken).ConfigureAwait(false);
            if (referenced is null)
            {
                continue;
            }

            var folder = CheckpointLayout.StepFolder(catalog.RunId, catalog.Scope, step);
            foreach (var (writer, objects) in writers)
            {
                if (!referenced.Contains(writer)
                    && !activeWriters.Contains(folder + writer + "/")
                    && objects.Max(o => o.LastModified) < cutoff)
                {
                    orphans.Add((step, writer, objects));
                }
            }
        }

        var stale = new List<PendingUpload>();
        if (catalog.Store is IPendingUploadStore pending)
        {
            await foreach (var upload in pending.ListPendingUploadsAsync(scopePrefix, cancellationToken).ConfigureAwait(false))
            {
                if (upload.Started < cutoff && !activeWriters.Covers(upload.Key))
                {
                    stale.Add(upload);
                }
            }
        }

        if (!dryRun)
        {
            foreach (var stepOrphans in orphans.GroupBy(o => o.Step))
            {
                // A save may have committed since the scan: read the manifest again and spare what it now points at.
                var referenced = await ReferencedWritersAsync(stepOrphans.Key, cancellationToken).ConfigureAwait(false);
                foreach (var (_, writer, objects) in stepOrphans)
                {
                    if (referenced is null || referenced.Contains(writer))
                    {
                        continue;
                    }

                    foreach (var item in objects)
                    {
                        await catalog.Store.DeleteAsync(item.Key, null, cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            foreach (var upload in stale)
            {
                await ((IPendingUploadStore)catalog.Store).AbortPendingUploadAsync(upload, cancellationToken).ConfigureAwait(false);
            }
        }

        var garbage = orphans.SelectMany(o => o.Objects).ToList();
        var bytes = garbage.Sum(o => o.Length);
        Log.GarbageCollected(logger, dryRun ? "dry run found" : "deleted", garbage.Count, bytes, stale.Count, grace);
        return new GarbageCollectionResult(dryRun, garbage, bytes, stale);
    }

    /// <summary>
    /// The writer folders a step's live and quarantined manifests point at; <see langword="null"/> when the live manifest
    /// exists but cannot be read (then nobody can tell what is garbage).
    /// </summary>
    private async Task<HashSet<string>?> ReferencedWritersAsync(long step, CancellationToken cancellationToken)
    {
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        var live = await catalog.ReadManifestAsync(step, cancellationToken).ConfigureAwait(false);
        if (live.Manifest is null && live.Reason != SkipReason.NotCommitted)
        {
            Log.GarbageStepUnreadable(logger, step, live.Problem ?? "unknown");
            return null;
        }

        AddWriters(referenced, live.Manifest);
        await foreach (var entry in catalog.Store.ListAsync(CheckpointLayout.QuarantinePrefix(catalog.RunId, catalog.Scope, step), null, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                var bytes = await catalog.ReadSmallAsync(entry.Key, cancellationToken).ConfigureAwait(false);
                AddWriters(referenced, ManifestCodec.Parse(bytes, catalog.RunId, catalog.Scope, step));
            }
            catch (InvalidManifestException)
            {
                // A quarantined manifest that cannot be parsed names no data to keep.
            }
            catch (ObjectNotFoundException)
            {
            }
        }

        return referenced;
    }

    internal static void AddWriters(HashSet<string> referenced, CheckpointManifest? manifest)
    {
        if (manifest is null)
        {
            return;
        }

        referenced.Add(manifest.Writer);
        foreach (var file in manifest.Files)
        {
            referenced.Add(file.Key[..file.Key.IndexOf('/', StringComparison.Ordinal)]);
        }
    }
}
