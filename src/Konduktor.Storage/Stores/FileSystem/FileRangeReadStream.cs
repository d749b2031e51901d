namespace Konduktor.Storage;

/// <summary>A read-only view of a byte range of a file; owns the file stream.</summary>
internal sealed class FileRangeReadStream(FileStream file, long start, long length) : ReadOnlyStream
{
    private long _position;

    public override bool CanSeek => true;

    public override long Length => length;

    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
            file.Position = start + Math.Min(value, length);
        }
    }

    public override int Read(Span<byte> buffer)
    {
        var read = file.Read(buffer[..Clamp(buffer.Length)]);
        _position += read;
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await file.ReadAsync(buffer[..Clamp(buffer.Length)], cancellationToken).ConfigureAwait(false);
        _position += read;
        return read;
    }

    public override async ValueTask DisposeAsync()
    {
        await file.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            file.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Clamp(int requested) => (int)Math.Clamp(length - _position, 0, requested);
}
