using System.Buffers;

namespace Konduktor.Storage;

/// <summary>
/// Reads a byte range of one object version as ranged fetches of a part each, started ahead of the reader and delivered
/// in order, in pooled buffers. The store's read-ahead is shared by its open reads (<see cref="ReadAheadBudget"/>); this
/// read never waits for another's share, so an idle open stream cannot hold up the rest. What a fetch is belongs to the
/// store (<see cref="FetchAsync"/>). A source file shared by the store packages, compiled into each of them.
/// </summary>
internal abstract class OrderedRangeReadStream : ReadOnlyStream
{
    private readonly ArrayPool<byte> _pool;
    private readonly ReadAheadBudget _budget;
    private readonly int _partSize;
    private readonly long _firstOffset;
    private readonly int _firstLength;
    private readonly long _end;
    private readonly Queue<Task<Chunk>> _ahead = new();
    private readonly CancellationTokenSource _stop = new();
    private long _nextOffset;
    private Chunk? _current;
    private int _currentPosition;
    private bool _disposed;

    /// <summary>Describes the range; <see cref="Start"/> begins reading once the derived stream is set up.</summary>
    /// <param name="pool">Where part buffers come from (the store's).</param>
    /// <param name="budget">The store's read-ahead, shared by its open reads.</param>
    /// <param name="partSize">The largest fetch; a shorter range is cut into smaller ones to use the store's concurrency (<see cref="TransferSizing.RangeSize"/>).</param>
    /// <param name="firstOffset">Where the range starts: the answer that opened the object holds its first part.</param>
    /// <param name="firstLength">How many bytes that answer holds.</param>
    /// <param name="end">Where the range ends (exclusive).</param>
    protected OrderedRangeReadStream(ArrayPool<byte> pool, ReadAheadBudget budget, int partSize, long firstOffset, int firstLength, long end)
    {
        (_pool, _budget) = (pool, budget);
        (_firstOffset, _firstLength, _end) = (firstOffset, firstLength, end);
        _partSize = TransferSizing.RangeSize(partSize, budget.Concurrency, end - firstOffset - firstLength);
        _nextOffset = firstOffset + firstLength;
    }

    public override int Read(Span<byte> buffer) => ReadBlocking(buffer);

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
                OnEnd();
                return 0;
            }

            _current = await next.WaitAsync(cancellationToken).ConfigureAwait(false);
            _ = _ahead.Dequeue();
            _currentPosition = 0;
            OnPart(_current.Buffer.AsSpan(0, _current.Length));
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
        _budget.Close();

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

    /// <summary>Begins reading: the first part from the answer that opened the object, the next ones fetched ahead.</summary>
    /// <param name="drainFirst">Reads exactly the first part's bytes from that answer into the buffer, then lets the answer go.
    /// If it breaks off with <see cref="TransientStoreException"/>, the part is fetched again like any other.</param>
    /// <remarks>Every derived constructor calls it last; disposal counts the read closed again.</remarks>
    protected void Start(Func<byte[], int, CancellationToken, Task> drainFirst)
    {
        _budget.Open();
        _ahead.Enqueue(DrainFirstAsync(drainFirst, _stop.Token));
        FillAhead();
    }

    /// <summary>Fetches <paramref name="length"/> bytes at <paramref name="offset"/> of the same object version into <paramref name="buffer"/>.</summary>
    protected abstract Task FetchAsync(long offset, byte[] buffer, int length, CancellationToken cancellationToken);

    /// <summary>Sees every part as it is delivered, in order (e.g. to checksum the bytes).</summary>
    protected virtual void OnPart(ReadOnlySpan<byte> part)
    {
    }

    /// <summary>Runs when the reader reaches the end of the range.</summary>
    protected virtual void OnEnd()
    {
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            // Stream.Dispose is synchronous; the fetches in flight must finish before their buffers go back to the pool.
            DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        base.Dispose(disposing);
    }

    /// <summary>Starts fetches until this read's share of the read-ahead is taken (the part being read included) or the range is covered.</summary>
    private void FillAhead()
    {
        var share = _budget.Share;
        while (_ahead.Count + (_current is null ? 0 : 1) < share && _nextOffset < _end)
        {
            var offset = _nextOffset;
            var length = (int)Math.Min(_partSize, _end - offset);
            _nextOffset += length;
            _ahead.Enqueue(FetchChunkAsync(offset, length, _stop.Token));
        }
    }

    private async Task<Chunk> FetchChunkAsync(long offset, int length, CancellationToken cancellationToken)
    {
        var chunk = new Chunk(_pool, _pool.Rent(length), length);
        try
        {
            await FetchAsync(offset, chunk.Buffer, length, cancellationToken).ConfigureAwait(false);
            return chunk;
        }
        catch
        {
            chunk.Release();
            throw;
        }
    }

    private async Task<Chunk> DrainFirstAsync(Func<byte[], int, CancellationToken, Task> drainFirst, CancellationToken cancellationToken)
    {
        var chunk = new Chunk(_pool, _pool.Rent(Math.Max(_firstLength, 1)), _firstLength);
        try
        {
            await drainFirst(chunk.Buffer, _firstLength, cancellationToken).ConfigureAwait(false);
            return chunk;
        }
        catch (TransientStoreException)
        {
            // The answer that opened the stream broke off: fetch its part again like any other (same version, retried).
            chunk.Release();
            return await FetchChunkAsync(_firstOffset, _firstLength, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            chunk.Release();
            throw;
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

/// <summary>
/// A store's read-ahead, shared by its open reads: <c>concurrency</c> parts over all of them, at least two each (the part
/// being read and the next) unless the concurrency is one.
/// </summary>
internal sealed class ReadAheadBudget(int concurrency)
{
    private int _open;

    /// <summary>The parts fetched or buffered ahead over all of the store's open reads.</summary>
    public int Concurrency => concurrency;

    /// <summary>How many parts one read may have fetched or buffered now.</summary>
    public int Share => Math.Max(Math.Min(2, concurrency), concurrency / Math.Max(1, Volatile.Read(ref _open)));

    /// <summary>Counts a read that opened.</summary>
    public void Open() => Interlocked.Increment(ref _open);

    /// <summary>Counts a read that closed.</summary>
    public void Close() => Interlocked.Decrement(ref _open);
}
