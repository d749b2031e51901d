namespace Konduktor.Storage;

/// <summary>
/// Garbage collection of a collective run (every rank's parts under <c>{run}/job/</c>): writer folders no part manifest
/// (live or quarantined) points at, and whole parts of a step whose step commit never came, once everything in the step
/// is older than the grace period and no save of this process writes there. Step commits, quarantine and verdicts are
/// kept; a step whose commit cannot be read is left alone. Part manifests are deleted before their data.
/// </summary>
internal sealed class CollectiveGarbage(CollectiveJob job, ActiveWriters activeWriters)
{
    public async Task<GarbageCollectionResult> CollectAsync(bool dryRun, TimeSpan? gracePeriod, CancellationToken cancellationToken)
    {
        var grace = gracePeriod ?? job.Options.GarbageGracePeriod;
        ArgumentOutOfRangeException.ThrowIfLessThan(grace, TimeSpan.Zero, nameof(gracePeriod));
        var cutoff = job.Time.GetUtcNow() - grace;
        var steps = await ScanAsync(cancellationToken).ConfigureAwait(false);

        var manifests = new List<ObjectInfo>();
        var data = new List<ObjectInfo>();
        foreach (var (step, ranks) in steps)
        {
            var read = await job.Catalog.ReadStepCommitAsync(step, cancellationToken).ConfigureAwait(false);
            if (read.Commit is null && read.Reason != SkipReason.NotCommitted)
            {
                Log.GarbageStepUnreadable(job.Logger, step, read.Problem ?? "unknown");
                continue;
            }

            var stepOld = ranks.Values.SelectMany(r => r.Objects()).All(o => o.LastModified < cutoff)
                && !ranks.Keys.Any(rank => activeWriters.Covers(CollectiveLayout.PartFolder(job.Run, step, CollectiveLayout.RankScope(rank))));
            foreach (var (rank, part) in ranks)
            {
                var catalog = job.Catalog.Part(rank);
                var referenced = await QuarantinedWritersAsync(catalog, step, cancellationToken).ConfigureAwait(false);
                var live = await catalog.ReadManifestAsync(step, cancellationToken).ConfigureAwait(false);
                if (live.Manifest is null && live.Reason != SkipReason.NotCommitted)
                {
                    continue; // An unreadable part manifest names no data: nobody can tell what is garbage.
                }

                if (read.Commit is not null || !stepOld)
                {
                    GarbageCollector.AddWriters(referenced, live.Manifest);
                }
                else if (part.Manifest is { } manifestInfo)
                {
                    manifests.Add(manifestInfo); // A part whose step was never committed: garbage once the whole step is old.
                }

                var folder = catalog.StepFolder(step);
                foreach (var (writer, objects) in part.Writers)
                {
                    if (!referenced.Contains(writer) && !activeWriters.Contains(folder + writer + "/") && objects.Max(o => o.LastModified) < cutoff)
                    {
                        data.AddRange(objects);
                    }
                }
            }
        }

        var stale = new List<PendingUpload>();
        if (job.Store is IPendingUploadStore pending)
        {
            await foreach (var upload in pending.ListPendingUploadsAsync(CollectiveLayout.JobPrefix(job.Run), cancellationToken).ConfigureAwait(false))
            {
                if (upload.Started < cutoff && !activeWriters.Covers(upload.Key))
                {
                    stale.Add(upload);
                }
            }
        }

        if (!dryRun)
        {
            // Manifests first: a part stops naming its data before the data goes.
            foreach (var item in manifests.Concat(data))
            {
                await job.Store.DeleteAsync(item.Key, null, cancellationToken).ConfigureAwait(false);
            }

            foreach (var upload in stale)
            {
                await ((IPendingUploadStore)job.Store).AbortPendingUploadAsync(upload, cancellationToken).ConfigureAwait(false);
            }
        }

        var garbage = manifests.Concat(data).ToList();
        var bytes = garbage.Sum(o => o.Length);
        Log.GarbageCollected(job.Logger, dryRun ? "dry run found" : "deleted", garbage.Count, bytes, stale.Count, grace);
        return new GarbageCollectionResult(dryRun, garbage, bytes, stale);
    }

    /// <summary>Every part's manifest and writer folders, by step and rank (step commits, quarantine and verdicts left out).</summary>
    private async Task<SortedDictionary<long, Dictionary<int, PartObjects>>> ScanAsync(CancellationToken cancellationToken)
    {
        var prefix = CollectiveLayout.JobPrefix(job.Run);
        var steps = new SortedDictionary<long, Dictionary<int, PartObjects>>();
        await foreach (var entry in job.Store.ListAsync(prefix, null, cancellationToken).ConfigureAwait(false))
        {
            var segments = entry.Key[prefix.Length..].Split('/', 4);
            if (entry.Info is null || segments.Length < 3 || !CheckpointLayout.TryParseStepFolder(segments[0], out var step)
                || !CollectiveLayout.TryParseRank(segments[1], out var rank))
            {
                continue; // A step commit, the step's quarantine, the verdicts, or not ours to judge.
            }

            if (!steps.TryGetValue(step, out var ranks))
            {
                steps[step] = ranks = [];
            }

            if (!ranks.TryGetValue(rank, out var part))
            {
                ranks[rank] = part = new PartObjects();
            }

            if (segments.Length == 3)
            {
                if (segments[2] == CheckpointLayout.ManifestName)
                {
                    part.Manifest = entry.Info;
                }
            }
            else if (segments[2] != CheckpointLayout.QuarantineFolder)
            {
                if (!part.Writers.TryGetValue(segments[2], out var objects))
                {
                    part.Writers[segments[2]] = objects = [];
                }

                objects.Add(entry.Info);
            }
        }

        return steps;
    }

    private async Task<HashSet<string>> QuarantinedWritersAsync(CheckpointCatalog part, long step, CancellationToken cancellationToken)
    {
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var entry in job.Store.ListAsync(part.QuarantinePrefix(step), null, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                GarbageCollector.AddWriters(referenced, ManifestCodec.Parse(await part.ReadSmallAsync(entry.Key, cancellationToken).ConfigureAwait(false), job.Run, part.Scope, step));
            }
            catch (Exception e) when (e is InvalidManifestException or ObjectNotFoundException)
            {
                // Names no data to keep.
            }
        }

        return referenced;
    }

    private sealed class PartObjects
    {
        public ObjectInfo? Manifest { get; set; }

        public Dictionary<string, List<ObjectInfo>> Writers { get; } = new(StringComparer.Ordinal);

        public IEnumerable<ObjectInfo> Objects() => Writers.Values.SelectMany(o => o).Concat(Manifest is null ? [] : [Manifest]);
    }
}
