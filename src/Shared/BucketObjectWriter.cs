using System.Buffers;
using System.Runtime.ExceptionServices;

namespace Konduktor.Storage;

/// <summary>
/// The state machine of a bucket store's writer: bytes fill a pooled part buffer; at a part boundary the service dispatches
/// what is due (<see cref="DispatchDue"/>, <see cref="DispatchAsync"/>); <see cref="CompleteAsync"/> finishes the object
/// (<see cref="CompleteCoreAsync"/>); failure, cancellation or disposal before completion stops the parts in flight and aborts
/// (<see cref="WaitInFlightAsync"/>, <see cref="AbortCoreAsync"/>). A write that fails half-way leaves the stream usable only
/// for disposal. Each service supplies only its own steps (an S3 multipart upload, a GCS resumable session).
/// A source file shared by the store packages, compiled into each of them.
/// </summary>
internal abstract class BucketObjectWriter : ObjectWriteStream
{
    private readonly CancellationTokenSource _abort = new();
    private readonly ArrayPool<byte> _pool;
    private byte[]? _current;
    private int _currentLength;
    private long _written;
    private Exception? _failure;
    private State _state;

    /// <summary>Creates a writer whose part buffers of <paramref name="partSize"/> bytes come from <paramref name="pool"/>.</summary>
    protected BucketObjectWriter(string key, ArrayPool<byte> pool, int partSize)
    {
        Key = key;
        _pool = pool;
        PartSize = partSize;
    }

    private enum State
    {
        Open,
        Completed,
        Failed,
        Disposed,
    }

    /// <inheritdoc />
    public override string Key { get; }

    /// <inheritdoc />
    public override long BytesWritten => _written;

    /// <inheritdoc />
    public override bool CanWrite => _state == State.Open;

    /// <summary>The size of a part buffer.</summary>
    protected int PartSize { get; }

    /// <summary>The part buffers' pool.</summary>
    protected ArrayPool<byte> Pool => _pool;

    /// <summary>How many bytes the part being filled holds.</summary>
    protected int CurrentLength => _currentLength;

    /// <summary>Cancelled when the writer is abandoned or a part fails: parts run on after the write that started them returned.</summary>
    protected CancellationToken AbortToken => _abort.Token;

    /// <summary>Whether the service must dispatch now (checked after every copy into the part buffer).</summary>
    protected abstract bool DispatchDue { get; }

    /// <inheritdoc />
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ThrowIfNotWritable();
        Check(buffer.Length);
        while (!buffer.IsEmpty)
        {
            buffer = buffer[Append(buffer)..];
            if (DispatchDue)
            {
                // A synchronous caller can only wait: the part boundary needs a request.
                RunOrFail(DispatchAsync(CancellationToken.None)).GetAwaiter().GetResult();
            }
        }
    }

    /// <inheritdoc />
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfNotWritable();
        cancellationToken.ThrowIfCancellationRequested();
        Check(buffer.Length);
        while (!buffer.IsEmpty)
        {
            buffer = buffer[Append(buffer.Span)..];
            if (DispatchDue)
            {
                await RunOrFail(DispatchAsync(cancellationToken)).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public override async Task<ObjectInfo> CompleteAsync(CancellationToken cancellationToken = default)
    {
        if (_state != State.Open)
        {
            throw new InvalidOperationException($"The writer of '{Key}' was {(_state == State.Completed ? "completed" : "failed or disposed")} already.");
        }

        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            ThrowIfFailed();
            var info = await CompleteCoreAsync(cancellationToken).ConfigureAwait(false);
            _state = State.Completed;
            ReleaseBuffers();
            return info;
        }
        catch
        {
            _state = State.Failed;
            throw;
        }
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        await DisposeCoreAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // Stream.Dispose is synchronous; aborting needs a request.
            DisposeCoreAsync().AsTask().GetAwaiter().GetResult();
        }

        base.Dispose(disposing);
    }

    /// <summary>Checks a write of <paramref name="adding"/> bytes before any is taken (e.g. a size limit); throwing fails the writer.</summary>
    protected virtual void CheckWrite(int adding)
    {
    }

    /// <summary>Sees the bytes as they are copied into the part buffer (e.g. for a checksum).</summary>
    protected virtual void OnAppended(ReadOnlySpan<byte> data)
    {
    }

    /// <summary>The part buffer just became full.</summary>
    protected virtual void OnPartFull()
    {
    }

    /// <summary>Sends what is due (called when <see cref="DispatchDue"/> holds).</summary>
    protected abstract Task DispatchAsync(CancellationToken cancellationToken);

    /// <summary>Sends the rest and finishes the object.</summary>
    protected abstract Task<ObjectInfo> CompleteCoreAsync(CancellationToken cancellationToken);

    /// <summary>Waits for the parts in flight to end (after <see cref="AbortToken"/> was cancelled); their failures are ignored.</summary>
    protected abstract Task WaitInFlightAsync();

    /// <summary>Aborts what the service started (best effort; it must not throw).</summary>
    protected abstract Task AbortCoreAsync();

    /// <summary>Takes the part being filled (<see langword="null"/> when it is empty or none); the caller returns its buffer to <see cref="Pool"/>.</summary>
    protected ArraySegment<byte>? TakeCurrent()
    {
        if (_current is null || _currentLength == 0)
        {
            return null;
        }

        var part = new ArraySegment<byte>(_current, 0, _currentLength);
        _current = null;
        _currentLength = 0;
        return part;
    }

    /// <summary>Records the first failure of a part and stops the others rather than send bytes that will be aborted.</summary>
    protected async Task FailAsync(Exception e)
    {
        if (!_abort.IsCancellationRequested || e is not OperationCanceledException)
        {
            _ = Interlocked.CompareExchange(ref _failure, e, null);
        }

        try
        {
            await _abort.CancelAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Throws the recorded failure of a part, failing the writer.</summary>
    protected void ThrowIfFailed()
    {
        if (_failure is { } failure)
        {
            _state = State.Failed;
            ExceptionDispatchInfo.Throw(failure);
        }
    }

    /// <summary>Returns the buffers the writer holds to <see cref="Pool"/>.</summary>
    protected virtual void ReleaseBuffers()
    {
        if (_current is not null)
        {
            _pool.Return(_current);
            _current = null;
            _currentLength = 0;
        }
    }

    private async ValueTask DisposeCoreAsync()
    {
        if (_state == State.Disposed)
        {
            return;
        }

        var completed = _state == State.Completed;
        _state = State.Disposed;
        if (!completed)
        {
            await _abort.CancelAsync().ConfigureAwait(false);
            try
            {
                await WaitInFlightAsync().ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Cancelled or failed parts: the upload is being aborted anyway.
            }

            await AbortCoreAsync().ConfigureAwait(false);
        }

        ReleaseBuffers();
        _abort.Dispose();
    }

    /// <summary>
    /// Copies as much as fits into the part being filled. An object's first part starts in a small buffer
    /// (<see cref="TransferSizing.FirstBufferBytes"/>) and moves to a part-sized one only when it outgrows it, so many small
    /// files in transfer at once do not each hold a part's worth of memory.
    /// </summary>
    private int Append(ReadOnlySpan<byte> data)
    {
        _current ??= _pool.Rent(_written == 0 ? Math.Min(TransferSizing.FirstBufferBytes, PartSize) : PartSize);
        if (_currentLength == _current.Length && _currentLength < PartSize)
        {
            var grown = _pool.Rent(PartSize);
            _current.AsSpan(0, _currentLength).CopyTo(grown);
            _pool.Return(_current);
            _current = grown;
        }

        var n = Math.Min(data.Length, Math.Min(_current.Length, PartSize) - _currentLength);
        data[..n].CopyTo(_current.AsSpan(_currentLength));
        OnAppended(data[..n]);
        _currentLength += n;
        _written += n;
        if (_currentLength == PartSize)
        {
            OnPartFull();
        }

        return n;
    }

    private void Check(int adding)
    {
        try
        {
            CheckWrite(adding);
        }
        catch
        {
            _state = State.Failed;
            throw;
        }
    }

    private async Task RunOrFail(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch
        {
            // A write that failed half-way leaves the stream unusable: it can only be disposed (which aborts).
            _state = State.Failed;
            throw;
        }
    }

    private void ThrowIfNotWritable()
    {
        if (_state != State.Open)
        {
            throw _state == State.Disposed
                ? new ObjectDisposedException(GetType().Name)
                : new InvalidOperationException($"The writer of '{Key}' was {(_state == State.Completed ? "completed" : "failed")} already.");
        }

        ThrowIfFailed();
    }
}
