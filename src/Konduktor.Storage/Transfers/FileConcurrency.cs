namespace Konduktor.Storage;

/// <summary>
/// Moves the files of one save or restore several at once: the store's <see cref="StoreCapabilities.ConcurrentFiles"/> large
/// files and, beside them, twice as many small ones. A small file is one request whose round trip is most of its cost, and
/// it holds at most a small buffer, so more of them in flight fill a remote link without the memory of more large transfers.
/// </summary>
internal static class FileConcurrency
{
    /// <summary>Files up to this size (one request each, one buffer of at most this size) count as small.</summary>
    public const long SmallFileBytes = 1024 * 1024;

    /// <summary>
    /// Runs <paramref name="body"/> for every file; the first failure stops the rest and is what this throws (a cancellation
    /// only when nothing failed).
    /// </summary>
    public static async Task ForEachAsync<T>(
        IReadOnlyCollection<T> files, Func<T, long> length, int concurrentFiles, Func<T, CancellationToken, ValueTask> body, CancellationToken cancellationToken)
    {
        var small = files.Where(f => length(f) <= SmallFileBytes).ToList();
        var large = files.Where(f => length(f) > SmallFileBytes).ToList();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        async Task RunAsync(List<T> group, int atOnce)
        {
            try
            {
                await Parallel.ForEachAsync(group, new ParallelOptions { MaxDegreeOfParallelism = atOnce, CancellationToken = stop.Token }, body).ConfigureAwait(false);
            }
            catch
            {
                await stop.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }

        Task[] groups = [RunAsync(large, concurrentFiles), RunAsync(small, 2 * concurrentFiles)];
        await Task.WhenAll(groups).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        foreach (var group in groups.Where(g => g.IsFaulted).Concat(groups.Where(g => g.IsCanceled)))
        {
            await group.ConfigureAwait(false);
        }
    }
}
