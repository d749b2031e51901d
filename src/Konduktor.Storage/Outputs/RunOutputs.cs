using System.Runtime.CompilerServices;

namespace Konduktor.Storage;

/// <summary>
/// The runtime outputs of one run (<c>{location}/{run}/outputs/</c>): list them, read them verified, pull them into a
/// local directory, publish artifacts. Works for any run, so the next stage of a workflow reads the previous stage's
/// results the same way a restarted pod gets its own logs back. Output paths are relative to the run's outputs and
/// start with the scope that wrote them (<c>rank-00000/metrics.jsonl</c>).
/// </summary>
/// <remarks>
/// Every read checks the content's length and checksum against its record and throws <see cref="OutputCorruptException"/>
/// on a mismatch; growing files that are still kept in pieces are put together exactly as last synced.
/// </remarks>
public sealed partial class RunOutputs
{
    /// <summary>Creates a view of <paramref name="run"/>'s outputs in <paramref name="store"/>.</summary>
    /// <param name="store">The store, e.g. the one checkpoints go to.</param>
    /// <param name="run">The run id.</param>
    /// <param name="timeProvider">The clock for records' times; <see langword="null"/> for the system clock.</param>
    /// <exception cref="ArgumentException"><paramref name="run"/> is not a valid run id (one path segment).</exception>
    public RunOutputs(ICheckpointStore store, string run, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(run);
        if (CheckpointLayout.CheckSegment(run) is { } problem)
        {
            throw new ArgumentException($"'{ObjectKey.Printable(run)}' is not a valid run id: {problem}; expected {CheckpointLayout.NameRule}.", nameof(run));
        }

        Store = store;
        Run = run;
        Time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The store the outputs are in.</summary>
    public ICheckpointStore Store { get; }

    /// <summary>The run whose outputs these are.</summary>
    public string Run { get; }

    internal TimeProvider Time { get; }

    /// <summary>
    /// Lists the run's outputs, in ordinal path order: all of them, or those at or under <paramref name="prefix"/>
    /// (a file's path, or a folder such as <c>rank-00000/eval</c>).
    /// </summary>
    /// <param name="prefix">A path or folder; <see langword="null"/> or empty for everything.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The outputs; empty when there are none (no exception).</returns>
    /// <exception cref="ArgumentException"><paramref name="prefix"/> is not a valid path.</exception>
    /// <exception cref="OutputCorruptException">An output's record is unreadable.</exception>
    public async IAsyncEnumerable<OutputFileInfo> ListAsync(string? prefix = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var folder = OutputLayout.NormalizePrefix(prefix, nameof(prefix));
        var recorded = new SortedDictionary<string, OutputFileInfo>(StringComparer.Ordinal);
        var internalRoot = OutputLayout.InternalRoot(Run);
        await foreach (var entry in Store.ListAsync(internalRoot + folder, null, cancellationToken).ConfigureAwait(false))
        {
            if (!entry.Key.EndsWith(OutputLayout.MetaSuffix, StringComparison.Ordinal))
            {
                continue;
            }

            var path = entry.Key[internalRoot.Length..^OutputLayout.MetaSuffix.Length];
            if (Matches(path, folder) && await OutputStoreIo.ReadRecordAsync(Store, Run, path, cancellationToken).ConfigureAwait(false) is { } record)
            {
                recorded[path] = record.ToInfo();
            }
        }

        // Objects something else put under the outputs (no record) are listed too, without a checksum.
        var root = OutputLayout.Root(Run);
        await foreach (var entry in Store.ListAsync(root + folder, null, cancellationToken).ConfigureAwait(false))
        {
            var path = entry.Key[root.Length..];
            if (entry.Info is { } info && Matches(path, folder) && !path.StartsWith(OutputLayout.InternalFolder + "/", StringComparison.Ordinal))
            {
                recorded.TryAdd(path, new OutputFileInfo(path, info.Length, null, info.LastModified, IsPlainObject: true));
            }
        }

        foreach (var output in recorded.Values)
        {
            yield return output;
        }
    }

    /// <summary>Describes one output, or returns <see langword="null"/> when the run has none at <paramref name="path"/>.</summary>
    /// <param name="path">The output's path (scope first).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is not a valid path.</exception>
    /// <exception cref="OutputCorruptException">Its record is unreadable.</exception>
    public async Task<OutputFileInfo?> StatAsync(string path, CancellationToken cancellationToken = default)
    {
        OutputLayout.ValidatePath(path, nameof(path));
        if (await OutputStoreIo.ReadRecordAsync(Store, Run, path, cancellationToken).ConfigureAwait(false) is { } record)
        {
            return record.ToInfo();
        }

        return await Store.StatAsync(OutputLayout.PlainKey(Run, path), cancellationToken).ConfigureAwait(false) is { } info
            ? new OutputFileInfo(path, info.Length, null, info.LastModified, IsPlainObject: true)
            : null;
    }

    /// <summary>
    /// Opens one output for reading: its newest synced or published content, verified as it is read (the read that would
    /// report the end throws <see cref="OutputCorruptException"/> instead when the content does not match its record).
    /// </summary>
    /// <param name="path">The output's path (scope first), e.g. <c>rank-00000/eval/summary.json</c>.</param>
    /// <param name="cancellationToken">Cancels opening it.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is not a valid path.</exception>
    /// <exception cref="OutputNotFoundException">The run has no output at <paramref name="path"/>.</exception>
    /// <exception cref="OutputCorruptException">Its record is unreadable.</exception>
    public async Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken = default)
    {
        var output = await StatAsync(path, cancellationToken).ConfigureAwait(false)
            ?? throw new OutputNotFoundException(Store.Location, Run, path);
        return await OpenAsync(output, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads one whole output into memory, verified (for small files such as an evaluation summary).</summary>
    /// <param name="path">The output's path (scope first).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="OutputNotFoundException">The run has no output at <paramref name="path"/>.</exception>
    /// <exception cref="OutputCorruptException">The content does not match its record.</exception>
    public async Task<byte[]> ReadAllBytesAsync(string path, CancellationToken cancellationToken = default)
    {
        var stream = await OpenReadAsync(path, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
            return copy.ToArray();
        }
    }

    /// <summary>Opens a listed output, re-reading its record so that the newest content is read.</summary>
    internal async Task<Stream> OpenAsync(OutputFileInfo listed, CancellationToken cancellationToken)
    {
        var record = await OutputStoreIo.ReadRecordAsync(Store, Run, listed.Path, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            var segment = new OutputReadStream.Segment(OutputLayout.PlainKey(Run, listed.Path), listed.Length, null);
            return new OutputReadStream(Store, Run, listed, [segment]);
        }

        var internalRoot = OutputLayout.InternalRoot(Run);
        IReadOnlyList<OutputReadStream.Segment> segments = record.Pieces is { } pieces
            ? [.. pieces.Select(p => new OutputReadStream.Segment(internalRoot + p.Key, p.Length, p.Checksum))]
            : [new OutputReadStream.Segment(OutputLayout.PlainKey(Run, record.Path), record.Length, record.Checksum)];
        return new OutputReadStream(Store, Run, record.ToInfo(), segments);
    }

    private static bool Matches(string path, string folder) =>
        folder.Length == 0 || path == folder || (path.Length > folder.Length && path[folder.Length] == '/' && path.StartsWith(folder, StringComparison.Ordinal));
}
