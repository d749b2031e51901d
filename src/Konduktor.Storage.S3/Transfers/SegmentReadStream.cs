namespace Konduktor.Storage.S3;

/// <summary>A read-only, seekable view over a list of byte segments, so a buffered body can be sent (and resent) without a copy.</summary>
internal sealed class SegmentReadStream(IReadOnlyList<ArraySegment<byte>> segments) : ReadOnlyStream
{
    private readonly long _length = segments.Sum(s => (long)s.Count);
    private long _position;

    public override bool CanSeek => true;

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


}
