using System.Runtime.CompilerServices;

namespace Konduktor.Storage.Testing;

/// <summary>The operations of <see cref="ICheckpointStore"/>, for scripting faults and counting calls.</summary>
public enum StoreOperation
{
    /// <summary><see cref="ICheckpointStore.PutAsync"/>.</summary>
    Put,

    /// <summary><see cref="ICheckpointStore.OpenWriteAsync"/>.</summary>
    OpenWrite,

    /// <summary><see cref="ICheckpointStore.OpenReadAsync"/>.</summary>
    OpenRead,

    /// <summary><see cref="ICheckpointStore.StatAsync"/>.</summary>
    Stat,

    /// <summary><see cref="ICheckpointStore.ListAsync"/>.</summary>
    List,

    /// <summary><see cref="ICheckpointStore.DeleteAsync"/>.</summary>
    Delete,
}

/// <summary>
/// Wraps a store and injects scripted faults, for testing retries, resumes and what callers do when a store fails.
/// Every script applies to the next <c>count</c> calls (or streams, writers, listings) and is then used up; calls are counted per operation.
/// </summary>
/// <example>
/// <code>
/// var store = new FaultInjectingStore(new InMemoryCheckpointStore());
/// store.FailNext(StoreOperation.Stat, 2, () =&gt; new TransientStoreException("503 Slow Down"));
/// store.FailReadAfter(1024 * 1024, 1, () =&gt; new IOException("reset", new SocketException()));
/// </code>
/// </example>
public sealed class FaultInjectingStore : ICheckpointStore
{
    private readonly ICheckpointStore _inner;
    private readonly Lock _gate = new();
    private readonly Dictionary<StoreOperation, Queue<Func<Exception>?>> _callFaults = [];
    private readonly Queue<(long Bytes, Func<Exception>? Fault)> _readFaults = new();
    private readonly Queue<(long Bytes, Func<Exception> Fault)> _writeFaults = new();
    private readonly Queue<(int Entries, Func<Exception> Fault)> _listFaults = new();
    private readonly int[] _calls = new int[Enum.GetValues<StoreOperation>().Length];

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The store that does the work when no fault is due.</param>
    public FaultInjectingStore(ICheckpointStore inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
    }

    /// <inheritdoc />
    public Uri Location => _inner.Location;

    /// <inheritdoc />
    public StoreCapabilities Capabilities => _inner.Capabilities;

    /// <summary>Makes the next <paramref name="count"/> calls of <paramref name="operation"/> throw <paramref name="fault"/>() without reaching the inner store.</summary>
    /// <param name="operation">The operation.</param>
    /// <param name="count">How many calls fail.</param>
    /// <param name="fault">Creates the exception (a fresh one per call).</param>
    public void FailNext(StoreOperation operation, int count, Func<Exception> fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        Enqueue(operation, count, fault);
    }

    /// <summary>Makes the next <paramref name="count"/> calls of <paramref name="operation"/> hang until their cancellation token is cancelled.</summary>
    /// <param name="operation">The operation.</param>
    /// <param name="count">How many calls hang.</param>
    public void HangNext(StoreOperation operation, int count) => Enqueue(operation, count, null);

    /// <summary>Makes the next <paramref name="count"/> read streams throw <paramref name="fault"/>() once they delivered <paramref name="bytes"/> bytes.</summary>
    /// <param name="bytes">How many bytes each stream delivers before failing, counted from its own start.</param>
    /// <param name="count">How many streams fail.</param>
    /// <param name="fault">Creates the exception.</param>
    public void FailReadAfter(long bytes, int count, Func<Exception> fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        EnqueueMany(_readFaults, (bytes, fault), count);
    }

    /// <summary>Makes the next <paramref name="count"/> read streams stop delivering after <paramref name="bytes"/> bytes: reads then hang until cancelled.</summary>
    /// <param name="bytes">How many bytes each stream delivers before stalling.</param>
    /// <param name="count">How many streams stall.</param>
    public void StallReadAfter(long bytes, int count) => EnqueueMany(_readFaults, (bytes, null), count);

    /// <summary>
    /// Makes the next <paramref name="count"/> writes throw <paramref name="fault"/>() after <paramref name="bytes"/> bytes: a writer from
    /// <see cref="OpenWriteAsync"/> fails on the write that would pass that many bytes; <see cref="PutAsync"/> consumes that many bytes of its
    /// content and fails. Nothing is stored either way.
    /// </summary>
    /// <param name="bytes">How many bytes are accepted before the failure.</param>
    /// <param name="count">How many writes fail.</param>
    /// <param name="fault">Creates the exception.</param>
    public void FailWriteAfter(long bytes, int count, Func<Exception> fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        EnqueueMany(_writeFaults, (bytes, fault), count);
    }

    /// <summary>Makes the next <paramref name="count"/> listings throw <paramref name="fault"/>() after returning <paramref name="entries"/> entries.</summary>
    /// <param name="entries">How many entries each listing returns before failing.</param>
    /// <param name="count">How many listings fail.</param>
    /// <param name="fault">Creates the exception.</param>
    public void FailListAfter(int entries, int count, Func<Exception> fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        EnqueueMany(_listFaults, (entries, fault), count);
    }

    /// <summary>How many times <paramref name="operation"/> was called, faulted calls included.</summary>
    /// <param name="operation">The operation.</param>
    public int CallCount(StoreOperation operation) => Volatile.Read(ref _calls[(int)operation]);

    /// <summary>Drops every scripted fault that is not used up yet, and zeroes the call counts.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            _callFaults.Clear();
            _readFaults.Clear();
            _writeFaults.Clear();
            _listFaults.Clear();
            Array.Clear(_calls);
        }
    }

    /// <inheritdoc />
    public async Task<ObjectInfo> PutAsync(string key, Stream content, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        await EnterAsync(StoreOperation.Put, cancellationToken);
        if (TryDequeue(_writeFaults, out var fault))
        {
            var buffer = new byte[81920];
            var left = fault.Bytes;
            while (left > 0 && await content.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellationToken) is var read and > 0)
            {
                left -= read;
            }

            throw fault.Fault();
        }

        return await _inner.PutAsync(key, content, options, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<ObjectWriteStream> OpenWriteAsync(string key, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        await EnterAsync(StoreOperation.OpenWrite, cancellationToken);
        var writer = await _inner.OpenWriteAsync(key, options, cancellationToken);
        return TryDequeue(_writeFaults, out var fault) ? new FaultingWriter(writer, fault.Bytes, fault.Fault) : writer;
    }

    /// <inheritdoc />
    public async Task<Stream> OpenReadAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default)
    {
        await EnterAsync(StoreOperation.OpenRead, cancellationToken);
        var stream = await _inner.OpenReadAsync(key, range, cancellationToken);
        return TryDequeue(_readFaults, out var fault) ? new FaultingReadStream(stream, fault.Bytes, fault.Fault) : stream;
    }

    /// <inheritdoc />
    public async Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default)
    {
        await EnterAsync(StoreOperation.Stat, cancellationToken);
        return await _inner.StatAsync(key, cancellationToken);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<StoreEntry> ListAsync(string prefix, ListOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await EnterAsync(StoreOperation.List, cancellationToken);
        var failAfter = TryDequeue(_listFaults, out var fault) ? fault.Entries : -1;
        var returned = 0;
        await foreach (var entry in _inner.ListAsync(prefix, options, cancellationToken).WithCancellation(cancellationToken))
        {
            if (returned == failAfter)
            {
                throw fault.Fault();
            }

            returned++;
            yield return entry;
        }

        if (returned == failAfter)
        {
            throw fault.Fault();
        }
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string key, string? ifMatch = null, CancellationToken cancellationToken = default)
    {
        await EnterAsync(StoreOperation.Delete, cancellationToken);
        return await _inner.DeleteAsync(key, ifMatch, cancellationToken);
    }

    private static async Task HangAsync(CancellationToken cancellationToken) =>
        await Task.Delay(Timeout.Infinite, cancellationToken);

    private async Task EnterAsync(StoreOperation operation, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls[(int)operation]);
        bool due;
        Func<Exception>? fault;
        lock (_gate)
        {
            due = _callFaults.TryGetValue(operation, out var queue) && queue.Count > 0;
            fault = due ? queue!.Dequeue() : null;
        }

        if (!due)
        {
            return;
        }

        if (fault is null)
        {
            await HangAsync(cancellationToken);
        }

        throw fault!();
    }

    private void Enqueue(StoreOperation operation, int count, Func<Exception>? fault)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        lock (_gate)
        {
            if (!_callFaults.TryGetValue(operation, out var queue))
            {
                _callFaults[operation] = queue = new Queue<Func<Exception>?>();
            }

            for (var i = 0; i < count; i++)
            {
                queue.Enqueue(fault);
            }
        }
    }

    private void EnqueueMany<T>(Queue<T> queue, T item, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        lock (_gate)
        {
            for (var i = 0; i < count; i++)
            {
                queue.Enqueue(item);
            }
        }
    }

    private bool TryDequeue<T>(Queue<T> queue, out T item)
    {
        lock (_gate)
        {
            return queue.TryDequeue(out item!);
        }
    }

    /// <summary>Delivers the first bytes of the inner stream, then fails (or hangs, when there is no fault) on every read.</summary>
    private sealed class FaultingReadStream(Stream inner, long failAfter, Func<Exception>? fault) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position >= failAfter && !buffer.IsEmpty)
            {
                if (fault is null)
                {
                    await HangAsync(cancellationToken);
                }

                throw fault!();
            }

            var read = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, failAfter - _position)], cancellationToken);
            _position += read;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= failAfter && count > 0)
            {
                throw fault?.Invoke() ?? new NotSupportedException("A stalled read can only be simulated asynchronously.");
            }

            var read = inner.Read(buffer, offset, (int)Math.Min(count, failAfter - _position));
            _position += read;
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>Passes writes to the inner writer until one would go past the limit; that one writes up to the limit and throws.</summary>
    private sealed class FaultingWriter(ObjectWriteStream inner, long failAfter, Func<Exception> fault) : ObjectWriteStream
    {
        public override string Key => inner.Key;

        public override long BytesWritten => inner.BytesWritten;

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            var room = failAfter - inner.BytesWritten;
            if (buffer.Length > room)
            {
                inner.Write(buffer[..(int)room]);
                throw fault();
            }

            inner.Write(buffer);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var room = failAfter - inner.BytesWritten;
            if (buffer.Length > room)
            {
                await inner.WriteAsync(buffer[..(int)room], cancellationToken);
                throw fault();
            }

            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task<ObjectInfo> CompleteAsync(CancellationToken cancellationToken = default) => inner.CompleteAsync(cancellationToken);

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
