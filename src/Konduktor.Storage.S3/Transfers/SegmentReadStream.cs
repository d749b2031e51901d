namespace Konduktor.Storage.S3;

/// <summary>A read-only, seekable view over a list of byte segments, so a buffered body can be sent (and resent) without a copy.</summary>
internal sealed class SegmentReadStream(IReadOnlyList<ArraySegment<byte>> segments) : Stream
{
    private readonly long _length = segments.Sum(s => (long)s.Count);
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var copied = 0;
        var start = 0L;
        foreach (var segment in segments)
        {
            if (copied == buffer.Length)
            {
                break;
            }

            var end = start + segment.Count;
            if (_position < end)
            {
                var from = (int)(_position - start);
                var n = Math.Min(segment.Count - from, buffer.Length - copied);
                segment.AsSpan(from, n).CopyTo(buffer[copied..]);
                copied += n;
                _position += n;
            }

            start = end;
        }

        return copied;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => _length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        return _position;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
