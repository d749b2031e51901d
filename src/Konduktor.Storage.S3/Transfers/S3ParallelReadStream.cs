using System.Buffers;

using Amazon.S3.Model;

namespace Konduktor.Storage.S3;

/// <summary>
/// Reads one version of a large object as parallel ranged GETs of a part each (<c>If-Match</c> on the first answer's ETag),
/// delivered in order. At most <see cref="S3StoreOptions.Concurrency"/> parts are fetched or buffered ahead of the reader,
/// in pooled buffers, shared among the store's open parallel reads (each keeps at least two: the part being read and the
/// next); each part is retried through the store's policy.
/// </summary>
internal sealed class S3ParallelReadStream : Stream
{
    private readonly S3CheckpointStore _store;
    private readonly string _key;
    private readonly string? _etag;
    private readonly long _end;
    private readonly int _partSize;
    private readonly int _concurrency;
    private readonly Queue<Task<Chunk>> _ahead = new();
    private readonly CancellationTokenSource _stop = new();
    private long _nextOffset;
    private Chunk? _current;
    private int _currentPosition;
    private bool _disposed;

    public S3ParallelReadStream(S3CheckpointStore store, string key, GetObjectResponse first, long firstEnd, long end)
    {
        _store = store;
        _key = key;
        _etag = string.IsNullOrEmpty(first.ETag) ? null : first.ETag;
        _end = end;
        _nextOffset = firstEnd;
        _partSize = store.Options.PartSizeBytes;
        _concurrency = store.Options.Concurrency;
        Interlocked.Increment(ref store.OpenParallelReads);
        _ahead.Enqueue(DrainAsync(first, firstEnd - first.ContentLength, _stop.Token));
        FillAhead();
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (_current is null || _currentPosition == _current.Length)
        {
            if (_current is not null)
            {
                _current.Release();
                _current = null;

                // The reader consumed a part: its slot goes to the next one.
                FillAhead();
            }

            if (!_ahead.TryPeek(out var next))
            {
                return 0;
            }

            _current = await next.WaitAsync(cancellationToken).ConfigureAwait(false);
            _ = _ahead.Dequeue();
            _currentPosition = 0;
        }

        var n = Math.Min(buffer.Length, _current.Length - _currentPosition);
        _current.Buffer.AsMemory(_currentPosition, n).CopyTo(buffer);
        _currentPosition += n;
        return n;
    }

    public override async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Interlocked.Decrement(ref _store.OpenParallelReads);
        await _stop.CancelAsync().ConfigureAwait(false);
        _current?.Release();
        _current = null;
        while (_ahead.TryDequeue(out var pending))
        {
            try
            {
                (await pending.ConfigureAwait(false)).Release();
            }
            catch (Exception)
            {
                // Fetches stopped by the disposal, or failures nobody will read.
            }
        }

        _stop.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            // Stream.Dispose is synchronous; the fetches in flight must finish before their buffers go back to the pool.
            DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        base.Dispose(disposing);
    }

    /// <summary>
    /// Starts fetches until this read's share of <see cref="S3StoreOptions.Concurrency"/> parts is ahead of the reader
    /// (the read being consumed included) or the range is covered. Never blocks, so an idle open stream cannot hold up another.
    /// </summary>
    private void FillAhead()
    {
        var share = Math.Max(Math.Min(2, _concurrency), _concurrency / Math.Max(1, Volatile.Read(ref _store.OpenParallelReads)));
        while (_ahead.Count + (_current is null ? 0 : 1) < share && _nextOffset < _end)
        {
            var offset = _nextOffset;
            var length = (int)Math.Min(_partSize, _end - offset);
            _nextOffset += length;
            _ahead.Enqueue(FetchAsync(offset, length, _stop.Token));
        }
    }

    private async Task<Chunk> FetchAsync(long offset, int length, CancellationToken cancellationToken)
    {
        var chunk = new Chunk(_store.PartBuffers, _store.PartBuffers.Rent(length), length);
        try
        {
            await _store.Policy.ExecuteAsync(
                "s3-get-part",
                ct => _store.CallAsync(
                    "GET",
                    _key,
                    async c =>
                    {
                        using var response = await _store.Client.GetObjectAsync(
                            new GetObjectRequest
                            {
                                BucketName = _store.Bucket,
                                Key = _store.FullKey(_key),
                                ByteRange = new Amazon.S3.Model.ByteRange(offset, offset + length - 1),
                                EtagToMatch = _etag,
                            },
                            c).ConfigureAwait(false);
                        await ReadExactlyAsync(response, chunk.Buffer, length, c).ConfigureAwait(false);
                        return true;
                    },
                    ct,
                    "it changed while being read"),
                cancellationToken).ConfigureAwait(false);
            return chunk;
        }
        catch
        {
            chunk.Release();
            throw;
        }
    }

    private async Task<Chunk> DrainAsync(GetObjectResponse first, long offset, CancellationToken cancellationToken)
    {
        var length = (int)first.ContentLength;
        var chunk = new Chunk(_store.PartBuffers, _store.PartBuffers.Rent(Math.Max(length, 1)), length);
        try
        {
            using (first)
            {
                await _store.CallAsync("GET", _key, async c =>
                {
                    await ReadExactlyAsync(first, chunk.Buffer, length, c).ConfigureAwait(false);
                    return true;
                }, cancellationToken).ConfigureAwait(false);
            }

            return chunk;
        }
        catch (TransientStoreException)
        {
            // The answer that opened the stream broke off: fetch its part again like any other (same version, retried).
            chunk.Release();
            return await FetchAsync(offset, length, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            chunk.Release();
            throw;
        }
    }

    private static async Task ReadExactlyAsync(GetObjectResponse response, byte[] buffer, int length, CancellationToken cancellationToken)
    {
        var stream = response.ResponseStream;
        await using (stream.ConfigureAwait(false))
        {
            var read = 0;
            while (read < length)
            {
                var n = await stream.ReadAsync(buffer.AsMemory(read, length - read), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new EndOfStreamException($"The server sent {read} of {length} bytes of a part.");
                }

                read += n;
            }
        }
    }

    private sealed class Chunk(ArrayPool<byte> pool, byte[] buffer, int length)
    {
        private byte[]? _buffer = buffer;

        public byte[] Buffer => _buffer ?? throw new ObjectDisposedException(nameof(Chunk));

        public int Length { get; } = length;

        public void Release()
        {
            if (Interlocked.Exchange(ref _buffer, null) is { } buffer)
            {
                pool.Return(buffer);
            }
        }
    }
}
