namespace Konduktor.Storage.S3;

/// <summary>A read-only, seekable view over a list of byte segments, so a buffered body can be sent (and resent) without a copy.</summary>
internal sealed class SegmentReadStream(IReadOnlyList<ArraySegment<byte>> segments) : SeekableReadOnlyStream
{
    private readonly long _length = segments.Sum(s => (long)s.Count);

    public override long Length => _length;

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
            if (Position < end)
            {
                var from = (int)(Position - start);
                var n = Math.Min(segment.Count - from, buffer.Length - copied);
                segment.AsSpan(from, n).CopyTo(buffer[copied..]);
                copied += Advance(n);
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
