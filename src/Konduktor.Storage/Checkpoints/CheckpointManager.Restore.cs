using System.Diagnostics;

namespace Konduktor.Storage;

public sealed partial class CheckpointManager
{
    // How many times one restore lists the scope before it gives up on checkpoints that keep disappearing under it.
    private const int MaxListings = 16;

    /// <summary>
    /// Restores the newest intact checkpoint into <paramref name="directory"/>: every file is downloaded into a hidden
    /// staging folder (inside the directory when it exists, else beside it) and verified while streaming, and only a fully
    /// verified checkpoint replaces the directory's content (its previous content is removed; the directory itself is
    /// never renamed, so a mount point or the target of a symbolic link works). Torn or corrupt checkpoints are passed over
    /// (never deleted) and reported.
    /// </summary>
    /// <remarks>
    /// A checkpoint that disappears while it is read (a writer's retention deleted it after committing a newer one) is not
    /// reported: the scope is listed again and the newest committed checkpoint is taken.
    /// </remarks>
    /// <exception cref="CheckpointStorageException">Checkpoints kept disappearing while they were read, listing after listing.</exception>
    /// <param name="directory">The local directory to fill.</param>
    /// <param name="progress">Receives progress as bytes move.</param>
    /// <param name="cancellationToken">Cancels the restore; the directory is then unchanged.</param>
    /// <returns>Which step was restored (or that none was found) and which were skipped.</returns>
    /// <exception cref="ArgumentException">
    /// The directory is a file, a file-system root, holds a mount point, or overlaps a file-system store's root; nothing is
    /// downloaded.
    /// </exception>
    public async Task<RestoreResult> RestoreLatestAsync(string directory, IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        RestoreTarget.ThrowIfRefused(directory, Store);
        var started = Stopwatch.GetTimestamp();
        var (found, _, skipped) = await UseLatestAsync(
            async (candidate, _, ct) =>
            {
                await DownloadAsync(candidate.Manifest!, candidate.ETag, directory, progress, ct).ConfigureAwait(false);
                return true;
            },
            cancellationToken).ConfigureAwait(false);
        return found is null
            ? new RestoreResult(null, null, skipped)
            : Restored(found.Manifest!, Path.GetFullPath(directory), skipped, started);
    }

    /// <summary>Restores one particular step into <paramref name="directory"/>, verified and atomically like <see cref="RestoreLatestAsync"/>.</summary>
    /// <param name="step">The step.</param>
    /// <param name="directory">The local directory to fill.</param>
    /// <param name="progress">Receives progress as bytes move.</param>
    /// <param name="cancellationToken">Cancels the restore; the directory is then unchanged.</param>
    /// <returns>The restored checkpoint.</returns>
    /// <exception cref="CheckpointNotFoundException">The step has no intact checkpoint; the message says why.</exception>
    /// <exception cref="ArgumentException">The directory is refused as by <see cref="RestoreLatestAsync"/>; nothing is downloaded.</exception>
    public async Task<RestoreResult> RestoreAsync(long step, string directory, IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        RestoreTarget.ThrowIfRefused(directory, Store);
        var started = Stopwatch.GetTimestamp();
        var candidate = await CheckCandidateAsync(step, cancellationToken).ConfigureAwait(false);
        if (candidate.Skip is { } skip)
        {
            throw new CheckpointNotFoundException(Store.Location, RunId, Scope, step, $"{skip.Reason}: {skip.Detail}");
        }

        try
        {
            await DownloadAsync(candidate.Manifest!, candidate.ETag, directory, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (CheckpointCorruptException e)
        {
            throw new CheckpointNotFoundException(Store.Location, RunId, Scope, step, e.Message);
        }

        return Restored(candidate.Manifest!, Path.GetFullPath(directory), [], started);
    }

    /// <summary>
    /// Finds the newest checkpoint whose manifest is valid and whose files all exist with the right lengths, and opens it
    /// for reading as verifying streams (see <see cref="CheckpointReader"/>). <see cref="LoadLatestAsync"/> adds the
    /// fallback past a file that fails its checksum while it is read.
    /// </summary>
    /// <param name="cancellationToken">Cancels the search.</param>
    /// <returns>A reader; <see cref="CheckpointReader.Found"/> is false when no checkpoint qualifies.</returns>
    /// <exception cref="CheckpointStorageException">Checkpoints kept disappearing while they were checked, listing after listing.</exception>
    public async Task<CheckpointReader> OpenLatestAsync(CancellationToken cancellationToken = default)
    {
        var (found, _, skipped) = await UseLatestAsync((_, _, _) => Task.FromResult(true), cancellationToken).ConfigureAwait(false);
        if (found is null)
        {
            return new CheckpointReader(null, null, null, skipped);
        }

        RestoredStep = found.Manifest!.Step;
        Log.Restored(_logger, found.Manifest.Step, found.Manifest.TotalLength, skipped.Count);
        return new CheckpointReader(this, found.Manifest, found.ETag, skipped);
    }

    /// <summary>
    /// Loads the newest intact checkpoint through <paramref name="load"/>, which reads its files from the reader it is given
    /// (every stream verifies its checksum). When a file turns out corrupt while it is read
    /// (<see cref="CheckpointCorruptException"/>), that checkpoint is passed over and <paramref name="load"/> is called
    /// again with the next older one, so what it returns always comes from a fully verified checkpoint. When a file
    /// disappears while it is read (a writer's retention deleted the checkpoint after committing a newer one),
    /// <paramref name="load"/> is called again with the newest committed checkpoint.
    /// </summary>
    /// <typeparam name="T">What <paramref name="load"/> makes of a checkpoint (e.g. the training state).</typeparam>
    /// <param name="load">Reads the checkpoint's files; it should read each file to its end before trusting it.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    /// <returns>The loaded value and its checkpoint, or <see cref="LoadResult{T}.Found"/> false; and what was skipped, and why.</returns>
    /// <exception cref="CheckpointStorageException">Checkpoints kept disappearing while they were read, listing after listing.</exception>
    public async Task<LoadResult<T>> LoadLatestAsync<T>(Func<CheckpointReader, CancellationToken, Task<T>> load, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(load);
        var (found, value, skipped) = await UseLatestAsync(
            async (candidate, skippedSoFar, ct) =>
            {
                RestoredStep = candidate.Manifest!.Step;
                try
                {
                    return await load(new CheckpointReader(this, candidate.Manifest, candidate.ETag, skippedSoFar), ct).ConfigureAwait(false);
                }
                catch (CheckpointStorageException e) when (e is CheckpointCorruptException or ObjectNotFoundException)
                {
                    RestoredStep = null;
                    throw;
                }
            },
            cancellationToken).ConfigureAwait(false);
        if (found is not null)
        {
            Log.Restored(_logger, found.Manifest!.Step, found.Manifest.TotalLength, skipped.Count);
        }

        return new LoadResult<T>(value, found?.Manifest, skipped);
    }

    /// <summary>
    /// Hands the newest checkpoint that checks out to <paramref name="use"/> (a download, a load), passing over torn and
    /// corrupt ones, which are reported. A checkpoint that disappears while it is judged or read was deleted by a writer's
    /// retention after a newer one was committed: it is neither torn nor corrupt, is not reported, and the scope is listed
    /// again. "None" is the answer only when a listing finds nothing committed and, if it saw a step without a manifest
    /// (which a prune leaves for a moment), the next listing sees the same.
    /// </summary>
    /// <exception cref="CheckpointStorageException">After <see cref="MaxListings"/> listings, checkpoints still disappeared under the restore.</exception>
    private async Task<(Candidate? Found, T? Value, List<SkippedCheckpoint> Skipped)> UseLatestAsync<T>(
        Func<Candidate, IReadOnlyList<SkippedCheckpoint>, CancellationToken, Task<T>> use, CancellationToken cancellationToken)
    {
        // Verdicts of this call, kept across listings so that the report says what was wrong rather than "known corrupt".
        var verdicts = new Dictionary<long, SkippedCheckpoint>();
        var vanished = new List<long>();
        List<SkippedCheckpoint>? previous = null;
        for (var listing = 1; ; listing++)
        {
            var skipped = new List<SkippedCheckpoint>();
            long? gone = null;
            foreach (var step in await ListStepsAsync(cancellationToken).ConfigureAwait(false))
            {
                var candidate = await CheckCandidateAsync(step, cancellationToken).ConfigureAwait(false);
                if (candidate.Vanished)
                {
                    gone = step;
                    break;
                }

                if (candidate.Skip is { } skip)
                {
                    skipped.Add(skip.Reason == SkipReason.KnownCorrupt && verdicts.TryGetValue(step, out var first) ? first : skip);
                    if (skip.Reason is not (SkipReason.NotCommitted or SkipReason.KnownCorrupt))
                    {
                        verdicts[step] = skip;
                    }

                    continue;
                }

                try
                {
                    var value = await use(candidate, [.. skipped], cancellationToken).ConfigureAwait(false);
                    Report(skipped);
                    return (candidate, value, skipped);
                }
                catch (CheckpointCorruptException e) when (e.Step == step)
                {
                    skipped.Add(verdicts[step] = new SkippedCheckpoint(step, SkipReason.ChecksumMismatch, e.Message));
                }
                catch (ObjectNotFoundException e) when (e.Key.StartsWith(CheckpointLayout.StepFolder(RunId, Scope, step), StringComparison.Ordinal))
                {
                    if (!await IsStillCommittedAsync(step, candidate.ETag, cancellationToken).ConfigureAwait(false))
                    {
                        gone = step;
                        break;
                    }

                    // The manifest that lists the file is still there: the checkpoint is missing a file, not deleted.
                    _judgedBad[step] = candidate.ETag;
                    skipped.Add(verdicts[step] = new SkippedCheckpoint(step, SkipReason.MissingFile, e.Message));
                }
            }

            if (gone is { } disappeared)
            {
                vanished.Add(disappeared);
                Log.Relisting(_logger, disappeared);
            }
            else if (previous is not null && previous.SequenceEqual(skipped))
            {
                Report(skipped);
                Log.NothingToRestore(_logger, RunId, Scope, Store.Location, skipped.Count);
                return (null, default, skipped);
            }
            else
            {
                // Nothing committed: confirmed by a second listing that agrees, because a step without a manifest may be one a
                // writer was pruning after a newer commit, and a listing of a folder whose entries are created and removed
                // while it is read (a file system's readdir) may miss both the newer step and the pruned one.
                previous = skipped;
            }

            if (listing == MaxListings)
            {
                throw new CheckpointStorageException(
                    $"Restoring run '{RunId}', scope '{Scope}' from {Store.Location} gave up after listing it {MaxListings} times: checkpoints disappeared "
                    + $"while they were read (steps {string.Join(", ", vanished)}), deleted by a writer's retention faster than this restore reads them. "
                    + "Keep more checkpoints (Retention:KeepLast) or restore again.");
            }
        }

        void Report(List<SkippedCheckpoint> skipped)
        {
            foreach (var skip in skipped)
            {
                StorageTelemetry.Fallbacks.Add(1, new KeyValuePair<string, object?>("reason", skip.Reason.ToString()));
                Log.Skipped(_logger, skip.Step, skip.Reason, skip.Detail);
            }
        }
    }

    /// <summary>Whether <paramref name="step"/>'s manifest is still the version <paramref name="manifestETag"/> that was judged.</summary>
    private async Task<bool> IsStillCommittedAsync(long step, string? manifestETag, CancellationToken cancellationToken) =>
        (await Store.StatAsync(CheckpointLayout.ManifestKey(RunId, Scope, step), cancellationToken).ConfigureAwait(false)) is { } info
        && info.ETag == manifestETag;

    /// <summary>
    /// Opens one file as a stream that verifies it; a mismatch, or the file changing while it is read, marks the checkpoint
    /// (that manifest version) corrupt.
    /// </summary>
    internal async Task<Stream> OpenVerifiedAsync(CheckpointManifest manifest, string? manifestETag, ManifestFile file, CancellationToken cancellationToken)
    {
        var key = CheckpointLayout.StepFolder(RunId, Scope, manifest.Step) + file.Key;
        Stream inner;
        try
        {
            inner = await Store.OpenReadAsync(key, null, cancellationToken).ConfigureAwait(false);
        }
        catch (PreconditionFailedException e)
        {
            // Checkpoint data is written once; a file replaced under the read is tampering, judged like a checksum mismatch.
            _judgedBad[manifest.Step] = manifestETag;
            throw VerifyingReadStream.Changed(manifest.Step, file, e);
        }

        return new VerifyingReadStream(inner, manifest.Step, file, _ => _judgedBad[manifest.Step] = manifestETag);
    }

    /// <summary>
    /// Checks a step's manifest and that every file it lists exists with the right length. One listing of the step folder
    /// gives the manifest's version and every file's length, then one read fetches the manifest: two requests per step
    /// whatever its number of files (one when the step has no manifest).
    /// </summary>
    private async Task<Candidate> CheckCandidateAsync(long step, CancellationToken cancellationToken)
    {
        var folder = CheckpointLayout.StepFolder(RunId, Scope, step);
        var manifestKey = CheckpointLayout.ManifestKey(RunId, Scope, step);
        ObjectInfo? manifestInfo = null;
        var lengths = new Dictionary<string, long>(StringComparer.Ordinal);
        var empty = true;
        await foreach (var entry in Store.ListAsync(folder, null, cancellationToken).ConfigureAwait(false))
        {
            if (entry.Info is not { } info)
            {
                continue;
            }

            empty = false;
            if (entry.Key == manifestKey)
            {
                manifestInfo = info;
            }
            else
            {
                lengths[entry.Key] = info.Length;
            }
        }

        // Listed before it is read: if the manifest is replaced in between, the version judged below is the older one, so a
        // later save meets a different version and reports a conflict rather than superseding a checkpoint nobody judged.
        var read = await ReadManifestAsync(step, manifestKey, manifestInfo, cancellationToken).ConfigureAwait(false);
        if ((manifestInfo is null && empty) || read.Vanished)
        {
            // The step was listed, so it held objects: they were deleted since (retention, after a newer commit).
            return Vanished(step);
        }

        if (read.Manifest is null)
        {
            if (read.Reason == SkipReason.InvalidManifest)
            {
                _judgedBad[step] = read.ETag;
            }

            return new Candidate(null, read.ETag, new SkippedCheckpoint(step, read.Reason!.Value, read.Problem!));
        }

        if (_judgedBad.TryGetValue(step, out var judged) && judged == read.ETag)
        {
            return new Candidate(null, read.ETag, new SkippedCheckpoint(step, SkipReason.KnownCorrupt, "this manager found it corrupt earlier"));
        }

        var problem = read.Manifest.Files.Select(file =>
                !lengths.TryGetValue(folder + file.Key, out var length)
                    ? new SkippedCheckpoint(step, SkipReason.MissingFile, $"file '{file.Name}' ({file.Key}) is missing")
                    : length != file.Length
                        ? new SkippedCheckpoint(step, SkipReason.LengthMismatch, $"file '{file.Name}' should have {file.Length} bytes but has {length} bytes")
                        : null)
            .FirstOrDefault(p => p is not null);
        if (problem is not null)
        {
            // A listing is no snapshot: a file missing from it may have been deleted with the whole checkpoint after its
            // manifest was listed. Only a manifest still there makes the missing file a verdict.
            if (problem.Reason == SkipReason.MissingFile && !await IsStillCommittedAsync(step, read.ETag, cancellationToken).ConfigureAwait(false))
            {
                return Vanished(step);
            }

            _judgedBad[step] = read.ETag;
        }

        return new Candidate(read.Manifest, read.ETag, problem);
    }

    /// <summary>
    /// Downloads and verifies every file into the target's staging folder, then puts them in place (see
    /// <see cref="RestoreTarget"/>); a target that is refused is refused before anything is downloaded.
    /// </summary>
    private async Task DownloadAsync(CheckpointManifest manifest, string? manifestETag, string directory, IProgress<TransferProgress>? progress, CancellationToken cancellationToken)
    {
        var target = RestoreTarget.Create(directory, Store);
        long total = 0;
        try
        {
            await Parallel.ForEachAsync(
                manifest.Files,
                new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken },
                async (file, ct) =>
                {
                    var path = LocalPath(target.Staging, file.Name);
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    // Readable too: a kernel copy is verified by reading it back. Preallocated: a full disk fails before the download.
                    var output = new FileStream(path, new FileStreamOptions
                    {
                        Mode = FileMode.CreateNew,
                        Access = FileAccess.ReadWrite,
                        Share = FileShare.None,
                        BufferSize = 1,
                        Options = FileOptions.Asynchronous,
                        PreallocationSize = file.Length,
                    });
                    await using (output.ConfigureAwait(false))
                    {
                        var writeback = new EarlyWriteback(output.SafeFileHandle);
                        long reported = 0;
                        void Report(long done)
                        {
                            writeback.Written(done);
                            var added = done - reported;
                            reported = done;
                            StorageTelemetry.BytesRead.Add(added);
                            progress?.Report(new TransferProgress(manifest.Step, file.Name, done, file.Length, Interlocked.Add(ref total, added)));
                        }

                        if (!await TryCopyLocalFileAsync(manifest, manifestETag, file, output, Report, ct).ConfigureAwait(false))
                        {
                            var source = await OpenVerifiedAsync(manifest, manifestETag, file, ct).ConfigureAwait(false);
                            await using (source.ConfigureAwait(false))
                            {
                                // The verifying source hashes; the copy overlaps the next read (and its hashing) with the current write.
                                await HashingCopy.CopyAsync(source, output, null, Options.BufferSize, Timeout.InfiniteTimeSpan, Report, ct).ConfigureAwait(false);
                            }
                        }

                        output.Flush(flushToDisk: true);
                    }
                }).ConfigureAwait(false);

            target.Commit();
        }
        finally
        {
            target.Dispose();
        }
    }

    /// <summary>
    /// From a file-system store, copies a checkpoint file inside the kernel, like <c>cp</c>, then verifies the copy as it
    /// was written: its length and its checksum, read back from <paramref name="output"/>.
    /// </summary>
    /// <returns><see langword="false"/> when the store is not a file-system store (the caller streams the file instead).</returns>
    /// <exception cref="CheckpointCorruptException">The copy does not match the manifest; that manifest version is marked corrupt.</exception>
    private async Task<bool> TryCopyLocalFileAsync(CheckpointManifest manifest, string? manifestETag, ManifestFile file, FileStream output, Action<long> report, CancellationToken cancellationToken)
    {
        if (_fileSystemStore is not { } local)
        {
            return false;
        }

        var source = local.OpenFile(CheckpointLayout.StepFolder(RunId, Scope, manifest.Step) + file.Key);
        await using (source.ConfigureAwait(false))
        {
            // One byte more than the manifest says, so that a longer file shows.
            var hash = new ContentHash();
            var copied = await LocalFileCopy.CopyAsync(source.SafeFileHandle, 0, output.SafeFileHandle, 0, file.Length + 1, hash, report, cancellationToken).ConfigureAwait(false);
            if (copied.Bytes != file.Length)
            {
                throw Corrupt($"{file.Length} bytes", copied.Bytes > file.Length ? "more bytes" : $"only {copied.Bytes} bytes");
            }

            if (hash.Current() is var actual && actual != file.Checksum)
            {
                throw Corrupt($"checksum {file.Checksum}", $"checksum {actual}");
            }
        }

        return true;

        CheckpointCorruptException Corrupt(string expected, string actual)
        {
            _judgedBad[manifest.Step] = manifestETag;
            return new CheckpointCorruptException(manifest.Step, file.Name, expected, actual);
        }
    }

    /// <summary>Maps a checkpoint file name under a local root, refusing anything that would land outside it.</summary>
    internal static string LocalPath(string root, string name)
    {
        if (CheckpointLayout.CheckFileName(name) is { } problem)
        {
            throw new CheckpointStorageException($"Refusing to restore file '{ObjectKey.Printable(name)}': {problem}.");
        }

        var path = Path.GetFullPath(Path.Combine(root, name.Replace('/', Path.DirectorySeparatorChar)));
        if (!path.StartsWith(Path.TrimEndingDirectorySeparator(root) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new CheckpointStorageException($"Refusing to restore file '{ObjectKey.Printable(name)}': it would land outside {root}.");
        }

        return path;
    }

    private RestoreResult Restored(CheckpointManifest manifest, string directory, List<SkippedCheckpoint> skipped, long started)
    {
        RestoredStep = manifest.Step;
        StorageTelemetry.RestoreDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("outcome", "restored"));
        Log.Restored(_logger, manifest.Step, manifest.TotalLength, skipped.Count);
        return new RestoreResult(manifest, directory, skipped);
    }

    /// <summary>A step judged for a restore: its manifest and version, why it is passed over, or that it disappeared meanwhile.</summary>
    private sealed record Candidate(CheckpointManifest? Manifest, string? ETag, SkippedCheckpoint? Skip, bool Vanished = false);

    /// <summary>A step that was listed but holds nothing any more, or whose manifest went while it was read.</summary>
    private static Candidate Vanished(long step) =>
        new(null, null, new SkippedCheckpoint(step, SkipReason.NotCommitted, "nothing is stored under it any more (deleted while it was read, or never saved)"), Vanished: true);
}
