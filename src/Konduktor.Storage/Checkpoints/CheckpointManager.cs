using System.Collections.Concurrent;
using System.Globalization;

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Konduktor.Storage;

/// <summary>
/// Saves, lists, restores and prunes the checkpoints of one run and scope on one store.
/// A save streams each file into its own writer folder and commits it with a create-only manifest; a restore returns
/// the newest checkpoint whose every file is present and intact, falling back past torn or corrupt ones.
/// </summary>
/// <remarks>Thread-safe. One instance per process and scope is the intended use (it remembers what it restored and judged corrupt).</remarks>
public sealed partial class CheckpointManager
{
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    // Steps this manager found torn or corrupt, with the manifest version it judged (null: no manifest);
    // a save of such a step may supersede exactly that version and nothing else.
    private readonly ConcurrentDictionary<long, string?> _judgedBad = new();

    // Set when the store keeps objects as local files: restores then copy them inside the kernel.
    private readonly FileSystemCheckpointStore? _fileSystemStore;

    // Writer folders of saves in progress in this process, which garbage collection must not touch.
    private readonly ConcurrentDictionary<string, byte> _activeWriters = new(StringComparer.Ordinal);

    /// <summary>Creates a manager.</summary>
    /// <param name="store">
    /// Where checkpoints live. The manager adds its own retry pipeline around it, unless the store retries by itself
    /// (<see cref="StoreCapabilities.RetriesTransientFailures"/>).
    /// </param>
    /// <param name="job">Who this pod is; names the run (unless <see cref="CheckpointManagerOptions.RunId"/> is set) and the scope.</param>
    /// <param name="options">Naming, retention and resilience; defaults when <see langword="null"/>.</param>
    /// <param name="logger">Where to log; nowhere when <see langword="null"/>.</param>
    /// <param name="timeProvider">The clock; the system clock when <see langword="null"/>.</param>
    /// <exception cref="CheckpointConfigurationException">The options are invalid, or neither a run id nor a job name is set.</exception>
    public CheckpointManager(
        ICheckpointStore store,
        JobContext job,
        CheckpointManagerOptions? options = null,
        ILogger<CheckpointManager>? logger = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(job);
        Options = options ?? new CheckpointManagerOptions();
        CheckpointManagerOptionsValidator.ThrowIfInvalid(Options);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        Job = job;
        RunId = Options.RunId ?? job.JobName
            ?? throw new CheckpointConfigurationException(
                "Konduktor:Checkpoints:RunId", null, "a run id that stays the same across restarts (or run under Konduktor, which sets KONDUKTOR_JOB_NAME)");
        if (CheckpointLayout.CheckSegment(RunId) is { } runProblem)
        {
            throw new CheckpointConfigurationException(
                Options.RunId is null ? "KONDUKTOR_JOB_NAME" : "Konduktor:Checkpoints:RunId", RunId, $"a run id: {CheckpointLayout.NameRule} ({runProblem})");
        }

        Scope = CheckpointLayout.IsRankKeyword(Options.Scope) ? job.DefaultScope : Options.Scope;
        // One retry layer only: the manager's, unless the store already retries with the library's policy.
        Store = store is ResilientCheckpointStore || store.Capabilities.RetriesTransientFailures
            ? store
            : new ResilientCheckpointStore(store, Options.Resilience, _logger, _time);
        _fileSystemStore = (store is ResilientCheckpointStore resilient ? resilient.Inner : store) as FileSystemCheckpointStore;
        if (!Store.Capabilities.CreateOnly)
        {
            Log.NoCreateOnly(_logger, Store.Location);
        }

        Log.ManagerCreated(_logger, RunId, Scope, Store.Location, Store.Capabilities);
    }

    /// <summary>The store, with the manager's retry pipeline around it unless the store retries by itself.</summary>
    public ICheckpointStore Store { get; }

    /// <summary>Who this pod is.</summary>
    public JobContext Job { get; }

    /// <summary>The options in force.</summary>
    public CheckpointManagerOptions Options { get; }

    /// <summary>The run whose checkpoints this manager handles.</summary>
    public string RunId { get; }

    /// <summary>The scope whose checkpoints this manager handles (e.g. <c>rank-00000</c>).</summary>
    public string Scope { get; }

    /// <summary>The step this manager last restored, which retention never deletes; <see langword="null"/> before any restore.</summary>
    public long? RestoredStep { get; private set; }

    /// <summary>
    /// Lists the scope's step folders, newest first, with each one's manifest when it is committed and readable.
    /// Data is not verified here; <see cref="RestoreLatestAsync"/> and <see cref="OpenLatestAsync"/> do that.
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
    private async Task<List<long>> ListStepsAsync(CancellationToken cancellationToken)
    {
        var prefix = CheckpointLayout.ScopePrefix(RunId, Scope);
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
    private async Task<ManifestRead> ReadManifestAsync(long step, CancellationToken cancellationToken)
    {
        var key = CheckpointLayout.ManifestKey(RunId, Scope, step);
        var info = await Store.StatAsync(key, cancellationToken).ConfigureAwait(false);
        return await ReadManifestAsync(step, key, info, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads and checks one step's manifest, already described by <paramref name="info"/> (<see langword="null"/>: none).</summary>
    private async Task<ManifestRead> ReadManifestAsync(long step, string key, ObjectInfo? info, CancellationToken cancellationToken)
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
            var stream = await Store.OpenReadAsync(key, new ByteRange(0, ManifestCodec.MaxBytes + 1L), cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                using var buffer = new MemoryStream();
                await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
                bytes = buffer.ToArray();
            }
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

    private string NewWriterId()
    {
        Span<byte> random = stackalloc byte[6];
        System.Security.Cryptography.RandomNumberGenerator.Fill(random);
        return $"a{Job.RestartAttempt.ToString(CultureInfo.InvariantCulture)}-{Convert.ToHexStringLower(random)}";
    }

    /// <summary>A manifest as read; <paramref name="Vanished"/>: it was there when listed and gone (or replaced) when read.</summary>
    private sealed record ManifestRead(CheckpointManifest? Manifest, string? ETag, byte[]? Bytes, SkipReason? Reason, string? Problem, bool Vanished = false);
}

/// <summary>One step folder of a scope, as <see cref="CheckpointManager.ListAsync"/> found it.</summary>
/// <param name="Step">The step.</param>
/// <param name="Manifest">The manifest when it is committed and readable; <see langword="null"/> otherwise.</param>
/// <param name="Problem">Why the manifest is missing or cannot be trusted; <see langword="null"/> when it is fine.</param>
public sealed record CheckpointInfo(long Step, CheckpointManifest? Manifest, string? Problem)
{
    /// <summary>Whether a readable manifest commits this step (its data is not verified by a listing).</summary>
    public bool IsCommitted => Manifest is not null;
}
