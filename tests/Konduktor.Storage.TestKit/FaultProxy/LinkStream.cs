using System.Diagnostics;
using System.Threading.Channels;

namespace Konduktor.Storage.Testing;

/// <summary>
/// The proxy's side of one client connection, seen through an <see cref="EmulatedLink"/>: nothing passes for a round trip
/// after the connection opens (its set-up); then bytes in either direction are sent
/// no faster than the link's rate (a slice at a time, on a schedule, so the pace does not drift) and delivered one-way delay
/// after they were sent. A writer waits while its bytes are being sent, as on a full TCP window; bytes in flight are at most
/// rate × delay. <see cref="DisposeAsync"/> delivers what is still in flight before the connection closes.
/// </summary>
internal sealed class LinkStream : Stream
{
    // Slices keep the pace smooth (64 KiB is 16 ms at 4 MiB/s, under one round trip of a remote bucket) while costing the
    // machine little: every slice is a read, a write and two timers, and this proxy shares the cores with client and server.
    private const int SliceBytes = 64 * 1024;

    private readonly Stream _inner;
    private readonly EmulatedLink _link;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Channel<Slice> _incoming = Channel.CreateUnbounded<Slice>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly Channel<Slice> _outgoing = Channel.CreateUnbounded<Slice>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiving;
    private readonly Task _delivering;
    private TimeSpan _receivedUntil;
    private TimeSpan _sentUntil;
    private Slice? _reading;
    private int _readingAt;
    private Exception? _deliveryFailure;

    public LinkStream(Stream inner, EmulatedLink link)
    {
        _inner = inner;
        _link = link;

        // Setting the connection up costs a round trip: nothing is sent either way before it.
        (_receivedUntil, _sentUntil) = (link.RoundTrip, link.RoundTrip);
        _receiving = Task.Run(ReceiveAsync);
        _delivering = Task.Run(DeliverAsync);
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_reading is null || _readingAt == _reading.Bytes.Length)
        {
            if (!await _incoming.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false) || !_incoming.Reader.TryRead(out var next))
            {
                return 0;
            }

            await UntilAsync(next.Due, cancellationToken).ConfigureAwait(false);
            if (next.Failure is { } failure)
            {
                throw new IOException("The connection failed.", failure);
            }

            (_reading, _readingAt) = (next, 0);
            if (next.Bytes.Length == 0)
            {
                return 0;
            }
        }

        var n = Math.Min(buffer.Length, _reading.Bytes.Length - _readingAt);
        _reading.Bytes.AsMemory(_readingAt, n).CopyTo(buffer);
        _readingAt += n;
        return n;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            if (_deliveryFailure is { } failure)
            {
                throw new IOException("The connection failed.", failure);
            }

            var n = Math.Min(buffer.Length, SliceBytes);
            var sent = Send(ref _sentUntil, n);
            _outgoing.Writer.TryWrite(new Slice(buffer[..n].ToArray(), sent + _link.OneWay));
            buffer = buffer[n..];

            // The sender waits while its bytes go out (a full window), not for their delivery.
            await UntilAsync(sent, cancellationToken).ConfigureAwait(false);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Delivers the bytes still in flight (for at most a few seconds), then stops both directions.</summary>
    public override async ValueTask DisposeAsync()
    {
        _outgoing.Writer.TryComplete();
        await _delivering.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _stop.CancelAsync().ConfigureAwait(false);
        await _receiving.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _delivering.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_stop.IsCancellationRequested)
        {
            DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        base.Dispose(disposing);
    }

    /// <summary>When a slice of <paramref name="bytes"/> is fully sent on a direction whose sending ends at <paramref name="until"/>.</summary>
    private TimeSpan Send(ref TimeSpan until, int bytes)
    {
        // A sender that woke a little late (timer granularity) keeps its schedule; one that was idle longer starts afresh.
        var now = _clock.Elapsed;
        var start = now - until < TimeSpan.FromMilliseconds(5) ? until : now;
        until = start + TimeSpan.FromSeconds((double)bytes / _link.BytesPerSecond);
        return until;
    }

    /// <summary>Reads what the client sends, a slice at a time at the link's pace, and queues it for delivery after the delay.</summary>
    private async Task ReceiveAsync()
    {
        var buffer = new byte[SliceBytes];
        try
        {
            while (true)
            {
                var n = await _inner.ReadAsync(buffer, _stop.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    _incoming.Writer.TryWrite(new Slice([], _clock.Elapsed + _link.OneWay));
                    return;
                }

                var sent = Send(ref _receivedUntil, n);
                _incoming.Writer.TryWrite(new Slice(buffer.AsSpan(0, n).ToArray(), sent + _link.OneWay));

                // Nothing more is taken off the connection until this slice has gone through: the client's window fills.
                await UntilAsync(sent, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            _incoming.Writer.TryWrite(new Slice([], _clock.Elapsed, e));
        }
        finally
        {
            _incoming.Writer.TryComplete();
        }
    }

    /// <summary>Writes queued slices to the client once their delay has passed.</summary>
    private async Task DeliverAsync()
    {
        try
        {
            await foreach (var slice in _outgoing.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                await UntilAsync(slice.Due, _stop.Token).ConfigureAwait(false);
                await _inner.WriteAsync(slice.Bytes, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            _deliveryFailure = e;
        }
    }

    /// <summary>Waits until the link's clock reads <paramref name="due"/> (not at all when it has passed or is under a millisecond away).</summary>
    private async Task UntilAsync(TimeSpan due, CancellationToken cancellationToken)
    {
        var wait = due - _clock.Elapsed;
        if (wait > TimeSpan.FromMilliseconds(1))
        {
            await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed record Slice(byte[] Bytes, TimeSpan Due, Exception? Failure = null);
}
