namespace Konduktor.Storage.Testing;

/// <summary>Several reads of one store open at once, as a multi-file restore has them: opened together, then drained.</summary>
public sealed class ParallelReads : IAsyncDisposable
{
    private readonly List<Stream> _streams;

    private ParallelReads(List<Stream> streams) => _streams = streams;

    /// <summary>Opens <paramref name="keys"/> one after the other and keeps every stream open.</summary>
    /// <param name="store">The store.</param>
    /// <param name="keys">The objects to read.</param>
    /// <returns>The open reads; dispose them.</returns>
    public static async Task<ParallelReads> OpenAsync(ICheckpointStore store, IEnumerable<string> keys)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(keys);
        var streams = new List<Stream>();
        try
        {
            foreach (var key in keys)
            {
                streams.Add(await store.OpenReadAsync(key).ConfigureAwait(false));
            }
        }
        catch
        {
            await new ParallelReads(streams).DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new ParallelReads(streams);
    }

    /// <summary>Reads each stream to its end, in order, and returns what each delivered.</summary>
    /// <returns>The bytes of each stream, in the order of the keys.</returns>
    public async Task<List<byte[]>> ReadAllAsync()
    {
        var contents = new List<byte[]>();
        foreach (var stream in _streams)
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy).ConfigureAwait(false);
            contents.Add(copy.ToArray());
        }

        return contents;
    }

    /// <summary>Closes every stream.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var stream in _streams)
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }

        _streams.Clear();
    }
}
