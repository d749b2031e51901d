using System.Diagnostics;

using Microsoft.Extensions.Logging;

namespace Konduktor.Storage;

/// <summary>
/// Restores checkpoints: hands the newest one that checks out to a download into a directory (through
/// <see cref="RestoreTarget"/>) or to a caller's load over verifying streams, passing over torn and corrupt ones and listing
/// the scope again when one disappears under it. Owns <see cref="RestoredStep"/>; records what it finds corrupt in the
/// manager's <see cref="Verdicts"/>. In a collective job (<paramref name="collective"/>) only steps with a valid step commit
/// count, and every rank agrees on the step through the store (see <see cref="CollectiveAgreement"/>).
/// </summary>
internal sealed partial class CheckpointRestorer(
    CheckpointCatalog catalog, Verdicts verdicts, CheckpointManagerOptions options, ILogger logger, CollectiveAgreement? collective = null)
{
    // How many times one restore lists the scope before it gives up on checkpoints that keep disappearing under it.
    private const int MaxListings = 16;

    private readonly ILocalFileStore? _localFiles = catalog.Store as ILocalFileStore;

    /// <summary>The step last restored (or being loaded), which retention never deletes; <see langword="null"/> before any restore.</summary>
    public long? RestoredStep { get; private set; }

    private ICheckpointStore Store => catalog.Store;

    private string RunId => catalog.RunId;

    private string Scope => catalog.Scope;

    /// <summary>Restores the newest intact checkpoint into <paramref name="directory"/> (see <see cref="CheckpointManager.RestoreLatestAsync"/>).</summary>
    public async Task<RestoreResult> RestoreLatestAsync(string directory, IProgress<TransferProgress>? progress, CancellationToken cancellationToken)
    {
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

    /// <summary>Restores one particular step into <paramref name="directory"/> (see <see cref="CheckpointManager.RestoreAsync"/>).</summary>
    public async Task<RestoreResult> RestoreAsync(long step, string directory, IProgress<TransferProgress>? progress, CancellationToken cancellationToken)
    {
        RestoreTarget.ThrowIfRefused(directory, Store);
        var started = Stopwatch.GetTimestamp();
        var candidate = await catalog.JudgeAsync(step, cancellationToken).ConfigureAwait(false);
        if (collective is not null)
        {
            var (commit, stepSkip) = await collective.JudgeStepAsync(step, cancellationToken).ConfigureAwait(false);
            candidate = stepSkip is not null ? candidate with { Skip = stepSkip } : collective.CheckListed(commit!, candidate);
        }

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

    /// <summary>Opens the newest checkpoint that checks out as verifying streams (see <see cref="CheckpointManager.OpenLatestAsync"/>).</summary>
    public async Task<CheckpointReader> OpenLatestAsync(CancellationToken cancellationToken)
    {
        var (found, _, skipped) = await UseLatestAsync((_, _, _) => Task.FromResult(true), cancellationToken).ConfigureAwait(false);
        if (found is null)
        {
            return new CheckpointReader(null, null, null, skipped);
        }

        RestoredStep = found.Manifest!.Step;
        Log.Restored(logger, found.Manifest.Step, found.Manifest.TotalLength, skipped.Count);
        return new CheckpointReader(this, found.Manifest, found.ETag, skipped);
    }

    /// <summary>Loads the newest intact checkpoint through <paramref name="load"/>, with fallback (see <see cref="CheckpointManager.LoadLatestAsync{T}"/>).</summary>
    public async Task<LoadResult<T>> LoadLatestAsync<T>(Func<CheckpointReader, CancellationToken, Task<T>> load, CancellationToken cancellationToken)
    {
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
            Log.Restored(logger, found.Manifest!.Step, found.Manifest.TotalLength, skipped.Count);
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
        var reasons = new Dictionary<long, SkippedCheckpoint>();
        var vanished = new List<long>();
        List<SkippedCheckpoint>? previous = null;
        for (var listing = 1; ; listing++)
        {
            var skipped = new List<SkippedCheckpoint>();
            long? gone = null;
            foreach (var step in await catalog.ListStepsAsync(cancellationToken).ConfigureAwait(false))
            {
                StepCommit? commit = null;
                if (collective is not null)
                {
                    // Only a step commit makes a collective step a checkpoint; a rank's verdict passes it over for every rank.
                    var (stepCommit, stepSkip) = await collective.JudgeStepAsync(step, cancellationToken).ConfigureAwait(false);
                    if (stepSkip is not null)
                    {
                        skipped.Add(stepSkip);
                        continue;
                    }

                    commit = stepCommit;
                }

                var candidate = await catalog.JudgeAsync(step, cancellationToken).ConfigureAwait(false);
                if (candidate.Vanished)
                {
                    gone = step;
                    break;
                }

                if (commit is not null)
                {
                    candidate = collective!.CheckListed(commit, candidate);
                }

                if (candidate.Skip is { } skip)
                {
                    skipped.Add(skip.Reason == SkipReason.KnownCorrupt && reasons.TryGetValue(step, out var first) ? first : skip);
                    if (skip.Reason is not (SkipReason.NotCommitted or SkipReason.KnownCorrupt))
                    {
                        reasons[step] = skip;
                    }

                    await ReportCorruptAsync(commit, skip, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                try
                {
                    var value = await use(candidate, [.. skipped], cancellationToken).ConfigureAwait(false);
                    if (commit is not null && await collective!.AgreeAsync(commit, cancellationToken).ConfigureAwait(false) is { } disagreement)
                    {
                        skipped.Add(disagreement);
                        continue;
                    }

                    Report(skipped);
                    return (candidate, value, skipped);
                }
                catch (CheckpointCorruptException e) when (e.Step == step)
                {
                    skipped.Add(reasons[step] = new SkippedCheckpoint(step, SkipReason.ChecksumMismatch, e.Message));
                    await ReportCorruptAsync(commit, reasons[step], cancellationToken).ConfigureAwait(false);
                }
                catch (ObjectNotFoundException e) when (e.Key.StartsWith(catalog.StepFolder(step), StringComparison.Ordinal))
                {
                    if (!await catalog.IsStillCommittedAsync(step, candidate.ETag, cancellationToken).ConfigureAwait(false))
                    {
                        gone = step;
                        break;
                    }

                    // The manifest that lists the file is still there: the checkpoint is missing a file, not deleted.
                    verdicts.JudgeBad(step, candidate.ETag);
                    skipped.Add(reasons[step] = new SkippedCheckpoint(step, SkipReason.MissingFile, e.Message));
                    await ReportCorruptAsync(commit, reasons[step], cancellationToken).ConfigureAwait(false);
                }
            }

            if (gone is { } disappeared)
            {
                vanished.Add(disappeared);
                Log.Relisting(logger, disappeared);
            }
            else if (previous is not null && previous.SequenceEqual(skipped))
            {
                Report(skipped);
                Log.NothingToRestore(logger, RunId, Scope, Store.Location, skipped.Count);
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
                Log.Skipped(logger, skip.Step, skip.Reason, skip.Detail);
            }
        }
    }

    /// <summary>In a collective job, tells every rank that this rank's part of the step is torn or corrupt.</summary>
    private Task ReportCorruptAsync(StepCommit? commit, SkippedCheckpoint skip, CancellationToken cancellationToken) =>
        commit is null ? Task.CompletedTask : collective!.ReportCorruptAsync(commit, skip, cancellationToken);

    /// <summary>
    /// Opens one file as a stream that verifies it; a mismatch, or the file changing while it is read, marks the checkpoint
    /// (that manifest version) corrupt.
    /// </summary>
    public async Task<Stream> OpenVerifiedAsync(CheckpointManifest manifest, string? manifestETag, ManifestFile file, CancellationToken cancellationToken)
    {
        var key = catalog.StepFolder(manifest.Step) + file.Key;
        Stream inner;
        try
        {
            inner = await Store.OpenReadAsync(key, null, cancellationToken).ConfigureAwait(false);
        }
        catch (PreconditionFailedException e)
        {
            // Checkpoint data is written once; a file replaced under the read is tampering, judged like a checksum mismatch.
            verdicts.JudgeBad(manifest.Step, manifestETag);
            throw VerifyingReadStream.Changed(manifest.Step, file, e);
        }

        return new VerifyingReadStream(inner, manifest.Step, file, _ => verdicts.JudgeBad(manifest.Step, manifestETag));
    }

    private RestoreResult Restored(CheckpointManifest manifest, string directory, List<SkippedCheckpoint> skipped, long started)
    {
        RestoredStep = manifest.Step;
        StorageTelemetry.RestoreDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("outcome", "restored"));
        Log.Restored(logger, manifest.Step, manifest.TotalLength, skipped.Count);
        return new RestoreResult(manifest, directory, skipped);
    }
}
