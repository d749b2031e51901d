namespace Konduktor.Storage;

/// <summary>
/// Reads what a store holds for one run and scope, without changing anything: the step folders, each one's manifest, and
/// why a step cannot be restored (never committed, an untrusted manifest, a file missing or of the wrong length). A
/// command-line tool or a user lists a run's checkpoints with it without restoring one; the manager's
/// <see cref="CheckpointManager.Catalog"/> is one that also knows what that manager found corrupt.
/// </summary>
/// <remarks>Thread-safe. Data is not verified here: restores verify every byte.</remarks>
public sealed class CheckpointCatalog
{
    private readonly Verdicts _verdicts;

    /// <summary>Creates a catalog of one run and scope on <paramref name="store"/>.</summary>
    /// <param name="store">Where the checkpoints live.</param>
    /// <param name="runId">The run.</param>
    /// <param name="scope">The scope (e.g. <c>rank-00000</c>).</param>
    /// <exception cref="ArgumentException">The run or the scope is not a valid name.</exception>
    public CheckpointCatalog(ICheckpointStore store, string runId, string scope)
        : this(store, runId, scope, new Verdicts())
    {
        ThrowIfInvalidName(runId, "a run id", nameof(runId));
        ThrowIfInvalidName(scope, "a scope", nameof(scope));
    }

    // partOfJob: the scope is a rank's parts of a collective job's steps, so a step's folder is {run}/job/step-…/{scope}/
    // (see CollectiveLayout) instead of {run}/{scope}/step-…/.
    internal CheckpointCatalog(ICheckpointStore store, string runId, string scope, Verdicts verdicts, bool partOfJob = false)
    {
        ArgumentNullException.ThrowIfNull(store);
        (Store, RunId, Scope, _verdicts, IsPartOfJob) = (store, runId, scope, verdicts, partOfJob);
    }

    /// <summary>Whether this catalog's checkpoints are one rank's parts of a collective job's steps.</summary>
    internal bool IsPartOfJob { get; }

    /// <summary>The folder whose sub-folders are the steps.</summary>
    internal string StepsPrefix => IsPartOfJob ? CollectiveLayout.JobPrefix(RunId) : CheckpointLayout.ScopePrefix(RunId, Scope);

    /// <summary>The store read.</summary>
    public ICheckpointStore Store { get; }

    /// <summary>The run.</summary>
    public string RunId { get; }

    /// <summary>The scope.</summary>
    public string Scope { get; }

    /// <summary>Lists the runs that have a folder on <paramref name="store"/>, in ordinal order.</summary>
    /// <param name="store">The store.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    public static Task<IReadOnlyList<string>> ListRunsAsync(ICheckpointStore store, CancellationToken cancellationToken = default) =>
        ListFoldersAsync(store, string.Empty, cancellationToken);

    /// <summary>Lists the scopes of <paramref name="runId"/> that have a folder on <paramref name="store"/>, in ordinal order.</summary>
    /// <param name="store">The store.</param>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <exception cref="ArgumentException">The run is not a valid name.</exception>
    public static Task<IReadOnlyList<string>> ListScopesAsync(ICheckpointStore store, string runId, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalidName(runId, "a run id", nameof(runId));
        return ListFoldersAsync(store, runId + "/", cancellationToken);
    }

    /// <summary>
    /// Lists the scope's step folders, newest first, with each one's manifest when it is committed and readable.
    /// Data is not verified here; restores do that.
    /// </summary>
    /// <param name="cancellationToken">Cancels the listing.</param>
    public async Task<IReadOnlyList<CheckpointInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        var result = new List<CheckpointInfo>();
        foreach (var step in await ListStepsAsync(cancellationToken).ConfigureAwait(false))
        {
            var read = await ReadManifestAsync(step, cancellationToken).ConfigureAwait(false);
            result.Add(new CheckpointInfo(step, read.Manifest, read.Problem));
        }

        return result;
    }

    /// <summary>The scope's steps that have a folder on the store, newest first.</summary>
    internal async Task<List<long>> ListStepsAsync(CancellationToken cancellationToken)
    {
        var prefix = StepsPrefix;
        var steps = new List<long>();
        await foreach (var entry in Store.ListAsync(prefix, new ListOptions { Delimiter = "/" }, cancellationToken).ConfigureAwait(false))
        {
            if (entry.IsPrefix && CheckpointLayout.TryParseStepFolder(entry.Key[prefix.Length..], out var step))
            {
                steps.Add(step);
            }
        }

        steps.Sort((a, b) => b.CompareTo(a));
        return steps;
    }

    /// <summary>Reads and checks one step's manifest.</summary>
    internal async Task<ManifestRead> ReadManifestAsync(long step, CancellationToken cancellationToken)
    {
        var key = ManifestKey(step);
        var info = await Store.StatAsync(key, cancellationToken).ConfigureAwait(false);
        return await ReadManifestAsync(step, key, info, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads and checks one step's manifest, already described by <paramref name="info"/> (<see langword="null"/>: none).</summary>
    internal async Task<ManifestRead> ReadManifestAsync(long step, string key, ObjectInfo? info, CancellationToken cancellationToken)
    {
        if (info is null)
        {
            return new ManifestRead(null, null, null, SkipReason.NotCommitted, "no manifest: the save was never committed");
        }

        if (info.Length > ManifestCodec.MaxBytes)
        {
            return new ManifestRead(null, info.ETag, null, SkipReason.InvalidManifest, $"the manifest is {info.Length} bytes, over the limit of {ManifestCodec.MaxBytes}");
        }

        byte[] bytes;
        try
        {
            bytes = await ReadSmallAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException)
        {
            return new ManifestRead(null, null, null, SkipReason.NotCommitted, "the manifest disappeared while it was read", Vanished: true);
        }
        catch (PreconditionFailedException)
        {
            // Replaced while it was read (superseded by another writer): as good as gone; a new listing sees the new one.
            return new ManifestRead(null, null, null, SkipReason.NotCommitted, "the manifest changed while it was read", Vanished: true);
        }

        try
        {
            return new ManifestRead(ManifestCodec.Parse(bytes, RunId, Scope, step), info.ETag, bytes, null, null);
        }
        catch (InvalidManifestException e)
        {
            return new ManifestRead(null, info.ETag, bytes, SkipReason.InvalidManifest, $"the manifest cannot be trusted: {e.Message}");
        }
    }

    /// <summary>Reads a manifest-sized object whole (one byte over the limit at most, so an oversized one shows).</summary>
    internal async Task<byte[]> ReadSmallAsync(string key, CancellationToken cancellationToken)
    {
        var stream = await Store.OpenReadAsync(key, new ByteRange(0, ManifestCodec.MaxBytes + 1L), cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            return buffer.ToArray();
        }
    }

    /// <summary>
    /// Judges one step for a restore: its manifest, and that every file it lists exists with the right length. One listing
    /// of the step folder gives the manifest's version and every file's length, then one read fetches the manifest: two
    /// requests per step whatever its number of files (one when the step has no manifest). Torn and corrupt verdicts are
    /// recorded in the manager's <see cref="Verdicts"/>.
    /// </summary>
    internal async Task<Candidate> JudgeAsync(long step, CancellationToken cancellationToken)
    {
        var folder = StepFolder(step);
        var manifestKey = ManifestKey(step);
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
            return Candidate.Gone(step);
        }

        if (read.Manifest is null)
        {
            if (read.Reason == SkipReason.InvalidManifest)
            {
                _verdicts.JudgeBad(step, read.ETag);
            }

            return new Candidate(null, read.ETag, new SkippedCheckpoint(step, read.Reason!.Value, read.Problem!));
        }

        if (_verdicts.IsBad(step, read.ETag))
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
                return Candidate.Gone(step);
            }

            _verdicts.JudgeBad(step, read.ETag);
        }

        return new Candidate(read.Manifest, read.ETag, problem, Bytes: read.Bytes);
    }

    /// <summary>Whether <paramref name="step"/>'s manifest is still the version <paramref name="manifestETag"/> that was judged.</summary>
    internal async Task<bool> IsStillCommittedAsync(long step, string? manifestETag, CancellationToken cancellationToken) =>
        (await Store.StatAsync(ManifestKey(step), cancellationToken).ConfigureAwait(false)) is { } info
        && info.ETag == manifestETag;

    /// <summary>The folder of <paramref name="step"/>'s checkpoint in this run and scope (a rank's part folder for a job's step).</summary>
    internal string StepFolder(long step) =>
        IsPartOfJob ? CollectiveLayout.PartFolder(RunId, step, Scope) : CheckpointLayout.StepFolder(RunId, Scope, step);

    /// <summary>The manifest key of <paramref name="step"/>'s checkpoint.</summary>
    internal string ManifestKey(long step) => StepFolder(step) + CheckpointLayout.ManifestName;

    /// <summary>Where superseded manifests of <paramref name="step"/> are kept.</summary>
    internal string QuarantinePrefix(long step) => StepFolder(step) + CheckpointLayout.QuarantineFolder + "/";

    private static async Task<IReadOnlyList<string>> ListFoldersAsync(ICheckpointStore store, string prefix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var names = new List<string>();
        await foreach (var entry in store.ListAsync(prefix, new ListOptions { Delimiter = "/" }, cancellationToken).ConfigureAwait(false))
        {
            var name = entry.Key[prefix.Length..].TrimEnd('/');
            if (entry.IsPrefix && CheckpointLayout.CheckSegment(name) is null)
            {
                names.Add(name);
            }
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    private static void ThrowIfInvalidName(string name, string what, string parameter)
    {
        ArgumentNullException.ThrowIfNull(name, parameter);
        if (CheckpointLayout.CheckSegment(name) is { } problem)
        {
            throw new ArgumentException($"'{ObjectKey.Printable(name)}' is not {what}: {CheckpointLayout.NameRule} ({problem}).", parameter);
        }
    }
}
