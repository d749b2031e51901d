namespace Konduktor.Storage;

/// <summary>What garbage collection found (and, unless it was a dry run, deleted).</summary>
/// <param name="DryRun">Whether this was a dry run (nothing deleted).</param>
/// <param name="Objects">The uncommitted objects found (deleted, unless a dry run).</param>
/// <param name="Bytes">Their total length.</param>
/// <param name="PendingUploads">Stale interrupted uploads found (aborted, unless a dry run), on stores that keep them (S3).</param>
public sealed record GarbageCollectionResult(bool DryRun, IReadOnlyList<ObjectInfo> Objects, long Bytes, IReadOnlyList<PendingUpload> PendingUploads);

public sealed partial class CheckpointManager
{
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
    public async Task<GarbageCollectionResult> CollectGarbageAsync(bool dryRun = false, TimeSpan? gracePeriod = null, CancellationToken cancellationToken = default)
    {
        var grace = gracePeriod ?? Options.GarbageGracePeriod;
        ArgumentOutOfRangeException.ThrowIfLessThan(grace, TimeSpan.Zero, nameof(gracePeriod));
        var cutoff = _time.GetUtcNow() - grace;
        var scopePrefix = CheckpointLayout.ScopePrefix(RunId, Scope);

        // step → writer folder → its objects
        var steps = new SortedDictionary<long, Dictionary<string, List<ObjectInfo>>>();
        await foreach (var entry in Store.ListAsync(scopePrefix, null, cancellationToken).ConfigureAwait(false))
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

            var folder = CheckpointLayout.StepFolder(RunId, Scope, step);
            foreach (var (writer, objects) in writers)
            {
                if (!referenced.Contains(writer)
                    && !_activeWriters.ContainsKey(folder + writer + "/")
                    && objects.Max(o => o.LastModified) < cutoff)
                {
                    orphans.Add((step, writer, objects));
                }
            }
        }

        var stale = new List<PendingUpload>();
        if (Store is IPendingUploadStore pending)
        {
            await foreach (var upload in pending.ListPendingUploadsAsync(scopePrefix, cancellationToken).ConfigureAwait(false))
            {
                if (upload.Started < cutoff && !_activeWriters.Keys.Any(w => upload.Key.StartsWith(w, StringComparison.Ordinal)))
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
                        await Store.DeleteAsync(item.Key, null, cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            foreach (var upload in stale)
            {
                await ((IPendingUploadStore)Store).AbortPendingUploadAsync(upload, cancellationToken).ConfigureAwait(false);
            }
        }

        var garbage = orphans.SelectMany(o => o.Objects).ToList();
        var bytes = garbage.Sum(o => o.Length);
        Log.GarbageCollected(_logger, dryRun ? "dry run found" : "deleted", garbage.Count, bytes, stale.Count, grace);
        return new GarbageCollectionResult(dryRun, garbage, bytes, stale);
    }

    /// <summary>
    /// The writer folders a step's live and quarantined manifests point at; <see langword="null"/> when the live manifest
    /// exists but cannot be read (then nobody can tell what is garbage).
    /// </summary>
    private async Task<HashSet<string>?> ReferencedWritersAsync(long step, CancellationToken cancellationToken)
    {
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        var live = await ReadManifestAsync(step, cancellationToken).ConfigureAwait(false);
        if (live.Manifest is null && live.Reason != SkipReason.NotCommitted)
        {
            Log.GarbageStepUnreadable(_logger, step, live.Problem ?? "unknown");
            return null;
        }

        AddWriters(referenced, live.Manifest);
        await foreach (var entry in Store.ListAsync(CheckpointLayout.QuarantinePrefix(RunId, Scope, step), null, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                var stream = await Store.OpenReadAsync(entry.Key, new ByteRange(0, ManifestCodec.MaxBytes + 1L), cancellationToken).ConfigureAwait(false);
                await using (stream.ConfigureAwait(false))
                {
                    using var buffer = new MemoryStream();
                    await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
                    AddWriters(referenced, ManifestCodec.Parse(buffer.ToArray(), RunId, Scope, step));
                }
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

    private static void AddWriters(HashSet<string> referenced, CheckpointManifest? manifest)
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
