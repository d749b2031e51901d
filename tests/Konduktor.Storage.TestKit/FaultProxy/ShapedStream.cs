using System.Diagnostics;

namespace Konduktor.Storage.Testing;

/// <summary>
/// Passes bytes on to a connection, shaped by a fault: at most <see cref="BytesPerSecond"/>, a pause at one offset, a cut at
/// another (after which it throws <see cref="CutException"/> so the relay can drop the connection).
/// </summary>
internal sealed class ShapedStream(Stream inner, long? bytesPerSecond = null) : Stream
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _written;

    /// <summary>The offset after which nothing more is passed on; none by default.</summary>
    public long CutAt { get; set; } = long.MaxValue;

    /// <summary>Whether the cut should close the connection cleanly (a short body) rather than reset it.</summary>
    public bool CutCleanly { get; set; }

    /// <summary>The offset at which the stream waits for <see cref="Pause"/>; none by default.</summary>
    public long PauseAt { get; set; } = long.MaxValue;

    /// <summary>How long the pause at <see cref="PauseAt"/> lasts.</summary>
    public TimeSpan Pause { get; set; }

    public long? BytesPerSecond { get; } = bytesPerSecond;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => _written; set => throw new NotSupportedException(); }

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            if (_written >= CutAt)
            {
                throw new CutException();
            }

            if (_written == PauseAt)
            {
                await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
                await Task.Delay(Pause, cancellationToken).ConfigureAwait(false);
                PauseAt = long.MaxValue;
            }

            // Write up to the next cut or pause, and on a slow link in slices of a twentieth of a second.
            var next = Math.Min(buffer.Length, Math.Min(CutAt, PauseAt) - _written);
            if (BytesPerSecond is { } rate)
            {
                next = Math.Min(next, Math.Max(1, rate / 20));
            }

            await inner.WriteAsync(buffer[..(int)next], cancellationToken).ConfigureAwait(false);
            buffer = buffer[(int)next..];
            _written += next;
            if (BytesPerSecond is { } cap)
            {
                var due = TimeSpan.FromSeconds((double)_written / cap) - _clock.Elapsed;
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>The cut was reached: the relay drops the connection.</summary>
    public sealed class CutException : Exception;
}
