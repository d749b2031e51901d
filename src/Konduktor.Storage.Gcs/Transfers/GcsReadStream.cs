using System.Buffers;

namespace Konduktor.Storage.Gcs;

/// <summary>
/// Reads one generation of an object as ranged reads of a chunk each, delivered in order. At most
/// <see cref="GcsStoreOptions.Concurrency"/> chunks are fetched or buffered ahead of the reader, in pooled buffers, shared among
/// the store's open parallel reads (each keeps at least two: the chunk being read and the next); each fetch is
/// retried through the store's policy. When the stream covers the whole object, its CRC32C is checked at the end.
/// </summary>
internal sealed class GcsReadStream : Stream
{
    private readonly GcsCheckpointStore _store;
    private readonly string _key;
    private readonly long _generation;
    private readonly long _end;
    private readonly int _chunkSize;
    private readonly int _concurrency;
    private readonly string? _expectedCrc;
    private readonly Queue<Task<Chunk>> _ahead = new();
    private readonly CancellationTokenSource _stop = new();
    private Crc32C _crc = new();
    private long _nextOffset;
    private Chunk? _current;
    private int _currentPosition;
    private bool _verified;
    private bool _disposed;

    public GcsReadStream(GcsCheckpointStore store, string key, long generation, HttpResponseMessage first, long offset, long firstEnd, long end, string? expectedCrc)
    {
        _store = store;
        _key = key;
        _generation = generation;
        _end = end;
        _nextOffset = firstEnd;
        _chunkSize = store.Options.ChunkSizeBytes;
        _concurrency = store.Options.Concurrency;
        _expectedCrc = expectedCrc;
        Interlocked.Increment(ref store.OpenParallelReads);
        _ahead.Enqueue(DrainAsync(first, offset, (int)(firstEnd - offset), _stop.Token));
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

                // The reader consumed a chunk: its slot goes to the next one.
                FillAhead();
            }

            if (!_ahead.TryPeek(out var next))
            {
                Verify();
                return 0;
            }

            _current = await next.WaitAsync(cancellationToken).ConfigureAwait(false);
            _ = _ahead.Dequeue();
            _currentPosition = 0;
            if (_expectedCrc is not null)
            {
                _crc.Append(_current.Buffer.AsSpan(0, _current.Length));
            }
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

    /// <summary>At the end of a whole-object read: the bytes must have the CRC32C GCS keeps for the object.</summary>
    private void Verify()
    {
        if (_expectedCrc is null || _verified)
        {
            return;
        }

        _verified = true;
        if (_crc.Base64 != _expectedCrc)
        {
            throw new CheckpointStorageException(
                $"The bytes read of '{_key}' (generation {_generation}) in {_store.Location} have CRC32C {_crc.Base64}, but GCS keeps {_expectedCrc} for the object: the download was corrupted.");
        }
    }

    /// <summary>
    /// Starts fetches until this read's share of <see cref="GcsStoreOptions.Concurrency"/> chunks is ahead of the reader
    /// (the chunk being consumed included) or the range is covered. Never blocks, so an idle open stream cannot hold up another.
    /// </summary>
    private void FillAhead()
    {
        var share = Math.Max(Math.Min(2, _concurrency), _concurrency / Math.Max(1, Volatile.Read(ref _store.OpenParallelReads)));
        while (_ahead.Count + (_current is null ? 0 : 1) < share && _nextOffset < _end)
        {
            var offset = _nextOffset;
            var length = (int)Math.Min(_chunkSize, _end - offset);
            _nextOffset += length;
            _ahead.Enqueue(FetchAsync(offset, length, _stop.Token));
        }
    }

    private async Task<Chunk> FetchAsync(long offset, int length, CancellationToken cancellationToken)
    {
        var chunk = new Chunk(_store.ChunkBuffers, _store.ChunkBuffers.Rent(length), length);
        try
        {
            await _store.Policy.ExecuteAsync(
                "gcs-get-chunk",
                async ct =>
                {
                    using var response = await _store.SendGetAsync(_key, _generation, offset, length, ct).ConfigureAwait(false)
                        ?? throw new PreconditionFailedException(_store.Location, _key, "it changed while being read");
                    await ReadExactlyAsync(response, chunk.Buffer, length, ct).ConfigureAwait(false);
                    return true;
                },
                cancellationToken).ConfigureAwait(false);
            return chunk;
        }
        catch
        {
            chunk.Release();
            throw;
        }
    }

    private async Task<Chunk> DrainAsync(HttpResponseMessage first, long offset, int length, CancellationToken cancellationToken)
    {
        var chunk = new Chunk(_store.ChunkBuffers, _store.ChunkBuffers.Rent(Math.Max(length, 1)), length);
        try
        {
            using (first)
            {
                await ReadExactlyAsync(first, chunk.Buffer, length, cancellationToken).ConfigureAwait(false);
            }

            return chunk;
        }
        catch (TransientStoreException)
        {
            // The answer that opened the stream broke off: fetch its chunk again like any other (same generation, retried).
            chunk.Release();
            return await FetchAsync(offset, length, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            chunk.Release();
            throw;
        }
    }

    private async Task ReadExactlyAsync(HttpResponseMessage response, byte[] buffer, int length, CancellationToken cancellationToken)
    {
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var read = 0;
                while (read < length)
                {
                    var n = await stream.ReadAsync(buffer.AsMemory(read, length - read), cancellationToken).ConfigureAwait(false);
                    if (n == 0)
                    {
                        throw _store.Errors.Transient("GET", _key, $"the server sent {read} of {length} bytes of a chunk", null);
                    }

                    read += n;
                }
            }
        }
        catch (Exception e) when (_store.Errors.Map(e, "GET", _key, "it changed while being read", cancellationToken) is { } mapped)
        {
            throw mapped;
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
