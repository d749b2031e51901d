namespace Konduktor.Storage;

/// <summary>
/// A read stream over an object (or a range of it) that survives failures: on a transient failure, or a read that makes no
/// progress for <see cref="ResilienceOptions.StallTimeout"/>, it reopens the object at the current offset and continues.
/// </summary>
/// <remarks>Reads are asynchronous only: a synchronous read would block a thread on network waits and delays.</remarks>
internal sealed class ResumingReadStream : ReadOnlyStream
{
    private readonly ICheckpointStore _store;
    private readonly StoreRetryPolicy _policy;
    private readonly string _key;
    private readonly long _offset;
    private readonly long? _length;
    private Stream? _current;
    private AttemptTimer? _stall;
    private long _position;
    private int _failures;
    private bool _disposed;

    public ResumingReadStream(ICheckpointStore store, StoreRetryPolicy policy, string key, ByteRange? range, Stream first)
    {
        _store = store;
        _policy = policy;
        _key = key;
        _offset = range?.Offset ?? 0;
        _length = range?.Length;
        _current = first;
    }

    public override bool CanRead => !_disposed;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.IsEmpty || _position == _length)
        {
            return 0;
        }

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var stream = _current ??= await ReopenAsync(cancellationToken).ConfigureAwait(false);
            var stall = _stall ??= new AttemptTimer(_policy.Options.StallTimeout, _policy.TimeProvider);
            using var linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stall.TimerToken) : null;
            try
            {
                stall.Start();
                var read = await stream.ReadAsync(buffer, linked?.Token ?? stall.TimerToken).ConfigureAwait(false);
                stall.Stop();
                _position += read;
                if (read > 0)
                {
                    _failures = 0;
                }

                return read;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && (stall.Expired || TransientFailure.IsTransient(e, cancellationToken)))
            {
                var cause = stall.Expired ? TransientFailure.Stall : TransientFailure.Cause(e);
                await DropCurrentAsync().ConfigureAwait(false);
                await _policy.BackOffAsync(ResilientCheckpointStore.Operations.Read, cause, _position, ++_failures, e, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // Synchronous readers (a model loader that takes a Stream) block on the resuming asynchronous path: stores only reopen asynchronously.
    public override int Read(Span<byte> buffer) => ReadBlocking(buffer);

    public override async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            await DropCurrentAsync().ConfigureAwait(false);
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _current?.Dispose();
            _current = null;
            _stall?.Dispose();
            _stall = null;
        }

        base.Dispose(disposing);
    }

    private Task<Stream> ReopenAsync(CancellationToken cancellationToken)
    {
        // The rest of the original range: the bytes already delivered are never read twice.
        var range = new ByteRange(_offset + _position, _length - _position);
        return _policy.ExecuteAsync(ResilientCheckpointStore.Operations.OpenRead, ct => _store.OpenReadAsync(_key, range, ct), cancellationToken);
    }

    private async ValueTask DropCurrentAsync()
    {
        // A stalled timer cannot be restarted once it fired; the next attempt gets a fresh one.
        _stall?.Dispose();
        _stall = null;
        if (_current is { } stream)
        {
            _current = null;
            try
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or TransientStoreException or System.Net.Sockets.SocketException)
            {
                // Closing a broken connection can fail the same way the read did; the stream is abandoned either way.
            }
        }
    }
}
