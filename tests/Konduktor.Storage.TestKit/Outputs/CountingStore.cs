using System.Collections.Concurrent;

namespace Konduktor.Storage.Testing;

/// <summary>A store that counts the requests made through it and the bytes written, for tests that measure upload cost.</summary>
/// <param name="inner">The store that does the work.</param>
public sealed class CountingStore(ICheckpointStore inner) : DelegatingStore(inner)
{
    private readonly ConcurrentDictionary<string, long> _bytesByKey = new(StringComparer.Ordinal);
    private long _bytesWritten;
    private int _writes;
    private int _reads;
    private int _lists;
    private int _stats;
    private int _deletes;

    /// <summary>Bytes handed to puts and writers (completed or not).</summary>
    public long BytesWritten => Interlocked.Read(ref _bytesWritten);

    /// <summary>Puts and writers opened.</summary>
    public int Writes => Volatile.Read(ref _writes);

    /// <summary>Every request: writes, reads, stats, listings and deletes.</summary>
    public int Requests => Writes + Volatile.Read(ref _reads) + Volatile.Read(ref _lists) + Volatile.Read(ref _stats) + Volatile.Read(ref _deletes);

    /// <summary>Bytes handed to puts and writers of the keys <paramref name="filter"/> accepts.</summary>
    public long BytesWrittenTo(Func<string, bool> filter) => _bytesByKey.Where(p => filter(p.Key)).Sum(p => p.Value);

    /// <summary>Sets every count back to zero.</summary>
    public void Reset()
    {
        _bytesByKey.Clear();
        Interlocked.Exchange(ref _bytesWritten, 0);
        Interlocked.Exchange(ref _writes, 0);
        Interlocked.Exchange(ref _reads, 0);
        Interlocked.Exchange(ref _lists, 0);
        Interlocked.Exchange(ref _stats, 0);
        Interlocked.Exchange(ref _deletes, 0);
    }

    /// <inheritdoc />
    public override async Task<ObjectInfo> PutAsync(string key, Stream content, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _writes);
        var info = await Inner.PutAsync(key, content, options, cancellationToken);
        Add(key, info.Length);
        return info;
    }

    /// <inheritdoc />
    public override async Task<ObjectWriteStream> OpenWriteAsync(string key, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _writes);
        return new CountingWriter(await Inner.OpenWriteAsync(key, options, cancellationToken), this);
    }

    /// <inheritdoc />
    public override Task<Stream> OpenReadAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _reads);
        return Inner.OpenReadAsync(key, range, cancellationToken);
    }

    /// <inheritdoc />
    public override Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _stats);
        return Inner.StatAsync(key, cancellationToken);
    }

    /// <inheritdoc />
    public override IAsyncEnumerable<StoreEntry> ListAsync(string prefix, ListOptions? options = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _lists);
        return Inner.ListAsync(prefix, options, cancellationToken);
    }

    /// <inheritdoc />
    public override Task<bool> DeleteAsync(string key, string? ifMatch = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _deletes);
        return Inner.DeleteAsync(key, ifMatch, cancellationToken);
    }

    private void Add(string key, long bytes)
    {
        Interlocked.Add(ref _bytesWritten, bytes);
        _bytesByKey.AddOrUpdate(key, bytes, (_, sum) => sum + bytes);
    }

    private sealed class CountingWriter(ObjectWriteStream inner, CountingStore owner) : ObjectWriteStream
    {
        public override string Key => inner.Key;

        public override long BytesWritten => inner.BytesWritten;

        public override Task<ObjectInfo> CompleteAsync(CancellationToken cancellationToken = default) => inner.CompleteAsync(cancellationToken);

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            owner.Add(Key, buffer.Length);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken);
            owner.Add(Key, buffer.Length);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            await base.DisposeAsync();
        }
    }
}
