using System.Globalization;

using Microsoft.Extensions.Logging;

namespace Konduktor.Storage;

/// <summary>
/// The commit protocol: begins saves (each into its own writer folder), and commits one by writing its manifest
/// create-only, settling what an "already exists" means (our own lost answer, a corrupt step this manager judged, which it
/// supersedes after moving the old manifest to quarantine, or another writer's commit: a conflict). Owns the writer folders
/// of saves in progress (<see cref="ActiveWriters"/>).
/// </summary>
/// <remarks>
/// In a collective job (<paramref name="collective"/>), the manifest is this rank's part: an old part of an earlier incarnation
/// may be superseded, and after the part commit the step is committed across the ranks before the save returns.
/// </remarks>
internal sealed class CheckpointSaver(
    CheckpointCatalog catalog,
    Verdicts verdicts,
    CheckpointRetention retention,
    CheckpointManagerOptions options,
    JobContext job,
    ILogger logger,
    TimeProvider time,
    CollectiveCommit? collective = null)
{
    /// <summary>The store saves write to.</summary>
    public ICheckpointStore Store => catalog.Store;

    /// <summary>The store's local-file access, when it (or the store it decorates) keeps objects as local files.</summary>
    public ILocalFileStore? LocalFiles { get; } = catalog.Store as ILocalFileStore;

    /// <summary>Buffer sizes and stall timeouts for the copies.</summary>
    public CheckpointManagerOptions Options { get; } = options;

    /// <summary>The writer folders of saves in progress.</summary>
    public ActiveWriters ActiveWriters { get; } = new();

    /// <summary>What runs right before each commit (the output sync).</summary>
    public CommitHooks Hooks { get; } = new();

    /// <summary>The folder of <paramref name="step"/> in this manager's run and scope.</summary>
    public string StepFolder(long step) => catalog.StepFolder(step);

    /// <summary>Begins a save of <paramref name="step"/> in a fresh writer folder.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative.</exception>
    public CheckpointSave Begin(long step, IProgress<TransferProgress>? progress)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        var save = new CheckpointSave(this, step, NewWriterId(), progress);
        ActiveWriters.Add(save.StepFolder + save.WriterId + "/");
        return save;
    }

    /// <summary>Saves and commits one step from named streams.</summary>
    public async Task<CheckpointManifest> SaveAsync(
        long step, IReadOnlyDictionary<string, Stream> files, IReadOnlyDictionary<string, string>? metadata, IProgress<TransferProgress>? progress, CancellationToken cancellationToken)
    {
        // What the metadata alone makes unreadable is refused before any data goes up.
        ManifestCodec.SerializeForCommit(NewManifest(step, NewWriterId(), [], metadata));
        cancellationToken.ThrowIfCancellationRequested();
        var save = Begin(step, progress);
        await using (save.ConfigureAwait(false))
        {
            foreach (var (name, content) in files)
            {
                await save.AddFileAsync(name, content, cancellationToken).ConfigureAwait(false);
            }

            return await save.CommitAsync(metadata, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Saves and commits one step from every file under a local directory.</summary>
    public async Task<CheckpointManifest> SaveDirectoryAsync(
        long step, string directory, IReadOnlyDictionary<string, string>? metadata, IProgress<TransferProgress>? progress, CancellationToken cancellationToken)
    {
        LocalStoreOverlap.ThrowIfOverlaps(Store, directory, $"save as step {step} the directory");
        var root = new DirectoryInfo(Path.GetFullPath(directory));
        if (!root.Exists)
        {
            throw new DirectoryNotFoundException($"The directory to save as step {step} does not exist: {root.FullName}");
        }

        var files = LocalDirectoryWalk.Files(root.FullName, Options.SymbolicLinks, LocalFiles?.LocalRoot, cancellationToken);

        // As in SaveAsync: what the metadata alone makes unreadable is refused before any data goes up.
        ManifestCodec.SerializeForCommit(NewManifest(step, NewWriterId(), [], metadata));

        cancellationToken.ThrowIfCancellationRequested();
        var save = Begin(step, progress);
        await using (save.ConfigureAwait(false))
        {
            await FileConcurrency.ForEachAsync(
                files,
                file => LengthHint(file.Path),
                Store.Capabilities.ConcurrentFiles,
                async (file, ct) => await save.AddLocalFileAsync(file.Name, file.Path, ct).ConfigureAwait(false),
                cancellationToken).ConfigureAwait(false);
            return await save.CommitAsync(metadata, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A file's size as the walk left it, only to schedule it among small or large files: a file gone or unreadable since
    /// counts as large, and its own copy reports what happened to it.
    /// </summary>
    private static long LengthHint(string path)
    {
        try
        {
            return new FileInfo(path).Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return long.MaxValue;
        }
    }

    /// <summary>Writes the manifest create-only and settles what an "already exists" means; then applies retention if configured.</summary>
    public async Task<CheckpointManifest> CommitAsync(
        CheckpointSave save, IReadOnlyList<ManifestFile> files, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        using var activity = StorageTelemetry.ActivitySource.StartActivity("Konduktor.Storage.Save");
        activity?.SetTag("konduktor.step", save.Step);
        var manifest = NewManifest(save.Step, save.WriterId, files, metadata);

        // Checked exactly as readers will check it: a commit that every restore would skip must not happen.
        var bytes = ManifestCodec.SerializeForCommit(manifest);
        var key = catalog.ManifestKey(save.Step);
        await Hooks.RunAsync(save.Step, cancellationToken).ConfigureAwait(false);
        await WriteManifestAsync(save.Step, key, bytes, save.WriterId, cancellationToken).ConfigureAwait(false);
        verdicts.Forget(save.Step);
        EndSave(save, "committed");
        if (collective is not null)
        {
            await collective.CommitStepAsync(save.Step, manifest, cancellationToken).ConfigureAwait(false);
        }

        Log.Saved(logger, save.Step, files.Count, manifest.TotalLength, save.Elapsed.TotalSeconds);

        if (Options.Retention.ApplyAfterSave)
        {
            try
            {
                // The step just committed is never deleted by its own retention pass, wherever it stands among the others.
                await retention.ApplyAsync(save.Step, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // The checkpoint is committed; a failed or cancelled clean-up must not make the save look failed.
                Log.RetentionFailed(logger, e, save.Step);
            }
        }

        return manifest;
    }

    /// <summary>Removes what an uncommitted save wrote; best effort, as garbage collection catches the rest.</summary>
    public async Task DeleteUncommittedAsync(CheckpointSave save, IEnumerable<string> relativeKeys)
    {
        try
        {
            // Never remove data a manifest may already point at.
            if (!await IsOwnManifestAsync(save.Step, save.WriterId).ConfigureAwait(false))
            {
                foreach (var relativeKey in relativeKeys)
                {
                    await Store.DeleteAsync(save.StepFolder + relativeKey, null, CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.CleanupFailed(logger, e, save.Step);
        }
    }

    /// <summary>Marks a save as over, so garbage collection may judge its writer folder.</summary>
    public void EndSave(CheckpointSave save, string outcome)
    {
        if (ActiveWriters.Remove(save.StepFolder + save.WriterId + "/"))
        {
            StorageTelemetry.SaveDuration.Record(save.Elapsed.TotalSeconds, new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    private CheckpointManifest NewManifest(long step, string writerId, IReadOnlyList<ManifestFile> files, IReadOnlyDictionary<string, string>? metadata)
    {
        // A null key cannot enter a dictionary: say so as the readers' rule does, not as a dictionary's ArgumentNullException.
        if (metadata is not null)
        {
            ManifestCodec.ThrowIfInvalidMetadata(step, metadata);
        }

        return new CheckpointManifest
        {
            Run = catalog.RunId,
            Scope = catalog.Scope,
            Step = step,
            CreatedUtc = time.GetUtcNow(),
            Writer = writerId,
            Job = new ManifestJob(job.RestartAttempt, job.Rank, job.NodeCount, job.HostName),
            Files = files,
            Metadata = metadata is null ? new Dictionary<string, string>() : new Dictionary<string, string>(metadata, StringComparer.Ordinal),
        };
    }

    private string NewWriterId()
    {
        Span<byte> random = stackalloc byte[6];
        System.Security.Cryptography.RandomNumberGenerator.Fill(random);
        return $"a{job.RestartAttempt.ToString(CultureInfo.InvariantCulture)}-{Convert.ToHexStringLower(random)}";
    }

    private async Task WriteManifestAsync(long step, string key, byte[] bytes, string writerId, CancellationToken cancellationToken)
    {
        for (var superseded = false; ; superseded = true)
        {
            try
            {
                if (!Store.Capabilities.CreateOnly && await Store.StatAsync(key, cancellationToken).ConfigureAwait(false) is not null)
                {
                    throw new PreconditionFailedException(Store.Location, key, "it already exists");
                }

                var written = await Store.PutAsync(key, new MemoryStream(bytes, writable: false), ObjectWriteOptions.CreateOnlyWrite, cancellationToken).ConfigureAwait(false);
                if (written.Length != bytes.Length)
                {
                    throw new CheckpointStorageException($"The store at {Store.Location} reports {written.Length} bytes for '{key}', but {bytes.Length} bytes were sent.");
                }

                return;
            }
            catch (PreconditionFailedException)
            {
                var existing = await catalog.ReadManifestAsync(step, cancellationToken).ConfigureAwait(false);
                if (existing.Manifest?.Writer == writerId)
                {
                    return; // Our own earlier attempt got through; only its answer was lost.
                }

                if (!superseded && (verdicts.MaySupersede(step, existing.ETag)
                    || (collective is not null && await collective.MaySupersedePartAsync(step, existing, cancellationToken).ConfigureAwait(false))))
                {
                    await QuarantineAsync(step, key, existing, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                StorageTelemetry.Conflicts.Add(1);
                Log.Conflict(logger, step, existing.Manifest?.Writer ?? "unknown");
                throw new CheckpointConflictException(
                    step,
                    existing.Manifest,
                    existing.Manifest is null
                        ? "its manifest exists but this manager never judged it corrupt, so it is left alone"
                        : "nothing was overwritten; this save's data was removed");
            }
            catch (Exception e) when (e is not OperationCanceledException and not CheckpointStorageException { InnerException: null })
            {
                // The answer was lost: maybe the manifest is ours already. Anything unclear propagates, and the data stays for GC.
                if (await IsOwnManifestAsync(step, writerId).ConfigureAwait(false))
                {
                    return;
                }

                throw;
            }
        }
    }

    private async Task<bool> IsOwnManifestAsync(long step, string writerId)
    {
        try
        {
            return (await catalog.ReadManifestAsync(step, CancellationToken.None).ConfigureAwait(false)).Manifest?.Writer == writerId;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Moves a corrupt step's manifest aside (kept for inspection) so a new checkpoint can take the step.</summary>
    private async Task QuarantineAsync(long step, string manifestKey, ManifestRead bad, CancellationToken cancellationToken)
    {
        var stamp = time.GetUtcNow().ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture);
        var quarantineKey = $"{catalog.QuarantinePrefix(step)}{stamp}-{NewWriterId()}.manifest.json";
        Log.Superseding(logger, step, quarantineKey);
        await Store.PutAsync(quarantineKey, new MemoryStream(bad.Bytes ?? [], writable: false), ObjectWriteOptions.CreateOnlyWrite, cancellationToken).ConfigureAwait(false);
        try
        {
            if (Store.Capabilities.ConditionalDelete)
            {
                await Store.DeleteAsync(manifestKey, bad.ETag, cancellationToken).ConfigureAwait(false);
            }
            else if ((await Store.StatAsync(manifestKey, cancellationToken).ConfigureAwait(false))?.ETag == bad.ETag)
            {
                await Store.DeleteAsync(manifestKey, null, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (PreconditionFailedException)
        {
            // Someone else replaced it since it was judged; the create-only retry will report the conflict.
        }

        verdicts.Forget(step);
    }
}
