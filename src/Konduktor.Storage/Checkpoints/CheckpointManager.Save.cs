using System.Globalization;

namespace Konduktor.Storage;

public sealed partial class CheckpointManager
{
    /// <summary>
    /// Begins saving <paramref name="step"/>: add files to the returned <see cref="CheckpointSave"/>, then commit it.
    /// </summary>
    /// <param name="step">The step, a non-negative number; larger is newer.</param>
    /// <param name="progress">Receives progress as bytes move.</param>
    /// <param name="cancellationToken">Cancels nothing yet; pass tokens to the save's methods.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative.</exception>
    public Task<CheckpointSave> BeginSaveAsync(long step, IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        cancellationToken.ThrowIfCancellationRequested();
        var save = new CheckpointSave(this, step, NewWriterId(), progress);
        _activeWriters.TryAdd(save.StepFolder + save.WriterId + "/", 0);
        return Task.FromResult(save);
    }

    /// <summary>Saves and commits one step from named streams (each read from its position to its end, not disposed).</summary>
    /// <param name="step">The step; larger is newer.</param>
    /// <param name="files">The checkpoint's files by name (relative '/'-separated paths).</param>
    /// <param name="metadata">Small user values for the manifest (metrics, epoch…).</param>
    /// <param name="progress">Receives progress as bytes move.</param>
    /// <param name="cancellationToken">Cancels the save; a cancelled save leaves no visible checkpoint.</param>
    /// <returns>The committed manifest.</returns>
    /// <exception cref="CheckpointConflictException">Another writer committed this step.</exception>
    /// <exception cref="ArgumentException">A file name is invalid or repeated, or the metadata has a null key or value (refused before any upload).</exception>
    /// <exception cref="CheckpointStorageException">The manifest would be refused by readers, e.g. over 16 MiB (refused before any upload when the metadata alone makes it so).</exception>
    public async Task<CheckpointManifest> SaveAsync(
        long step,
        IReadOnlyDictionary<string, Stream> files,
        IReadOnlyDictionary<string, string>? metadata = null,
        IProgress<TransferProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentOutOfRangeException.ThrowIfNegative(step);

        // What the metadata alone makes unreadable is refused before any data goes up.
        ManifestCodec.SerializeForCommit(NewManifest(step, NewWriterId(), [], metadata));
        var save = await BeginSaveAsync(step, progress, cancellationToken).ConfigureAwait(false);
        await using (save.ConfigureAwait(false))
        {
            foreach (var (name, content) in files)
            {
                await save.AddFileAsync(name, content, cancellationToken).ConfigureAwait(false);
            }

            return await save.CommitAsync(metadata, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Saves and commits one step from every file under a local directory (names are paths relative to it).</summary>
    /// <param name="step">The step; larger is newer.</param>
    /// <param name="directory">
    /// The local directory. Symbolic links in it are followed or refused as <see cref="CheckpointManagerOptions.SymbolicLinks"/>
    /// says, never left out; special files (pipes, sockets, devices) fail the save. Each file is saved with the length it had
    /// when its copy began.
    /// </param>
    /// <param name="metadata">Small user values for the manifest.</param>
    /// <param name="progress">Receives progress as bytes move.</param>
    /// <param name="cancellationToken">Cancels the save; a cancelled save leaves no visible checkpoint.</param>
    /// <returns>The committed manifest.</returns>
    /// <exception cref="ArgumentException">The directory contains a file-system store's root or lies inside it; nothing is saved.</exception>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="IOException">
    /// A symbolic link the rule refuses, a link that points nowhere or loops, a special file, or a file that shrank while it
    /// was copied; the message names it, and nothing is committed.
    /// </exception>
    /// <exception cref="CheckpointConflictException">Another writer committed this step.</exception>
    public async Task<CheckpointManifest> SaveDirectoryAsync(
        long step,
        string directory,
        IReadOnlyDictionary<string, string>? metadata = null,
        IProgress<TransferProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        LocalStoreOverlap.ThrowIfOverlaps(Store, directory, $"save as step {step} the directory");
        var root = new DirectoryInfo(Path.GetFullPath(directory));
        if (!root.Exists)
        {
            throw new DirectoryNotFoundException($"The directory to save as step {step} does not exist: {root.FullName}");
        }

        var files = LocalDirectoryWalk.Files(root.FullName, Options.SymbolicLinks, (Store as ILocalDirectoryStore)?.LocalRoot, cancellationToken);

        // As in SaveAsync: what the metadata alone makes unreadable is refused before any data goes up.
        ManifestCodec.SerializeForCommit(NewManifest(step, NewWriterId(), [], metadata));

        var save = await BeginSaveAsync(step, progress, cancellationToken).ConfigureAwait(false);
        await using (save.ConfigureAwait(false))
        {
            await Parallel.ForEachAsync(
                files,
                new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken },
                async (file, ct) => await save.AddLocalFileAsync(file.Name, file.Path, ct).ConfigureAwait(false)).ConfigureAwait(false);
            return await save.CommitAsync(metadata, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes the manifest create-only and settles what an "already exists" means.</summary>
    internal async Task<CheckpointManifest> CommitAsync(
        CheckpointSave save, IReadOnlyList<ManifestFile> files, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        using var activity = StorageTelemetry.ActivitySource.StartActivity("Konduktor.Storage.Save");
        activity?.SetTag("konduktor.step", save.Step);
        var manifest = NewManifest(save.Step, save.WriterId, files, metadata);

        // Checked exactly as readers will check it: a commit that every restore would skip must not happen.
        var bytes = ManifestCodec.SerializeForCommit(manifest);
        var key = CheckpointLayout.ManifestKey(RunId, Scope, save.Step);
        await WriteManifestAsync(save.Step, key, bytes, save.WriterId, cancellationToken).ConfigureAwait(false);
        _judgedBad.TryRemove(save.Step, out _);
        EndSave(save, "committed");
        Log.Saved(_logger, save.Step, files.Count, manifest.TotalLength, save.Elapsed.TotalSeconds);

        if (Options.Retention.ApplyAfterSave)
        {
            try
            {
                // The step just committed is never deleted by its own retention pass, wherever it stands among the others.
                await ApplyRetentionAsync(save.Step, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // The checkpoint is committed; a failed or cancelled clean-up must not make the save look failed.
                Log.RetentionFailed(_logger, e, save.Step);
            }
        }

        return manifest;
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
            Run = RunId,
            Scope = Scope,
            Step = step,
            CreatedUtc = _time.GetUtcNow(),
            Writer = writerId,
            Job = new ManifestJob(Job.RestartAttempt, Job.Rank, Job.NodeCount, Job.HostName),
            Files = files,
            Metadata = metadata is null ? new Dictionary<string, string>() : new Dictionary<string, string>(metadata, StringComparer.Ordinal),
        };
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
                var existing = await ReadManifestAsync(step, cancellationToken).ConfigureAwait(false);
                if (existing.Manifest?.Writer == writerId)
                {
                    return; // Our own earlier attempt got through; only its answer was lost.
                }

                if (!superseded && _judgedBad.TryGetValue(step, out var judged) && judged is not null && judged == existing.ETag)
                {
                    await QuarantineAsync(step, key, existing, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                StorageTelemetry.Conflicts.Add(1);
                Log.Conflict(_logger, step, existing.Manifest?.Writer ?? "unknown");
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
            return (await ReadManifestAsync(step, CancellationToken.None).ConfigureAwait(false)).Manifest?.Writer == writerId;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Moves a corrupt step's manifest aside (kept for inspection) so a new checkpoint can take the step.</summary>
    private async Task QuarantineAsync(long step, string manifestKey, ManifestRead bad, CancellationToken cancellationToken)
    {
        var stamp = _time.GetUtcNow().ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture);
        var quarantineKey = $"{CheckpointLayout.QuarantinePrefix(RunId, Scope, step)}{stamp}-{NewWriterId()}.manifest.json";
        Log.Superseding(_logger, step, quarantineKey);
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

        _judgedBad.TryRemove(step, out _);
    }

    /// <summary>Removes what an uncommitted save wrote; best effort, as garbage collection catches the rest.</summary>
    internal async Task DeleteUncommittedAsync(CheckpointSave save, IEnumerable<string> relativeKeys)
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
            Log.CleanupFailed(_logger, e, save.Step);
        }
    }

    /// <summary>Marks a save as over, so garbage collection may judge its writer folder.</summary>
    internal void EndSave(CheckpointSave save, string outcome)
    {
        if (_activeWriters.TryRemove(save.StepFolder + save.WriterId + "/", out _))
        {
            StorageTelemetry.SaveDuration.Record(save.Elapsed.TotalSeconds, new KeyValuePair<string, object?>("outcome", outcome));
        }
    }
}
