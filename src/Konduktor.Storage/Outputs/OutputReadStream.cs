namespace Konduktor.Storage;

/// <summary>
/// Reads one output: its plain object, or its pieces one after the other, checking each piece's length and checksum
/// as it ends and the whole content's at the end. A mismatch throws <see cref="OutputCorruptException"/> instead of
/// reporting the end, so a reader that reaches the end has verified content.
/// </summary>
internal sealed class OutputReadStream(ICheckpointStore store, string run, OutputFileInfo output, IReadOnlyList<OutputReadStream.Segment> segments) : ReadOnlyStream
{
    private readonly ContentHash _whole = new();
    private ContentHash _piece = new();
    private Stream? _current;
    private int _index = -1;

    /// <summary>One object to read: its full key, and what it must hold (<see langword="null"/> checksum: not checked).</summary>
    public sealed record Segment(string Key, long Length, string? Checksum);

    public override long Length => output.Length;

    public override long Position
    {
        get => _whole.Length;
        set => throw new NotSupportedException();
    }


    public override int Read(Span<byte> buffer) => ReadBlocking(buffer);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            if (_current is null && !await NextAsync(cancellationToken).ConfigureAwait(false))
            {
                return 0;
            }

            int read;
            try
            {
                read = await _current!.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (PreconditionFailedException e)
            {
                throw new OutputCorruptException(run, output.Path, "the content it was listed with", "content that changed while it was read", e);
            }

            if (read > 0)
            {
                var segment = segments[_index];
                if (_piece.Length + read > segment.Length)
                {
                    throw new OutputCorruptException(run, output.Path, $"{segment.Length} bytes in '{ObjectKey.Printable(segment.Key)}'", "more");
                }

                _piece.Append(buffer.Span[..read]);
                _whole.Append(buffer.Span[..read]);
                return read;
            }

            EndSegment();
        }
    }

    /// <summary>Opens the next segment, or checks the whole content and answers false at the end.</summary>
    private async Task<bool> NextAsync(CancellationToken cancellationToken)
    {
        if (++_index >= segments.Count)
        {
            _index = segments.Count;
            if (_whole.Length != output.Length || (output.Checksum is { } expected && _whole.Current() != expected))
            {
                throw new OutputCorruptException(run, output.Path, $"length {output.Length}, checksum {output.Checksum ?? "-"}", $"length {_whole.Length}, checksum {_whole.Current()}");
            }

            return false;
        }

        _piece = new ContentHash();
        try
        {
            _current = await store.OpenReadAsync(segments[_index].Key, null, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException e)
        {
            throw new OutputCorruptException(run, output.Path, $"the object '{ObjectKey.Printable(segments[_index].Key)}'", "none", e);
        }

        return true;
    }

    private void EndSegment()
    {
        var segment = segments[_index];
        _current!.Dispose();
        _current = null;
        if (_piece.Length != segment.Length)
        {
            throw new OutputCorruptException(run, output.Path, $"{segment.Length} bytes in '{ObjectKey.Printable(segment.Key)}'", $"{_piece.Length}");
        }

        if (segment.Checksum is { } expected && _piece.Current() is var actual && actual != expected)
        {
            throw new OutputCorruptException(run, output.Path, $"checksum {expected} in '{ObjectKey.Printable(segment.Key)}'", actual);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _current?.Dispose();
            _current = null;
        }

        base.Dispose(disposing);
    }
}
