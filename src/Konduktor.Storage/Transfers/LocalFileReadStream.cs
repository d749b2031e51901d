using Microsoft.Win32.SafeHandles;

namespace Konduktor.Storage;

/// <summary>
/// Reads exactly <c>length</c> bytes of a local file from <c>start</c>, by position (the handle's own offset is left alone),
/// then ends, however the file grows meanwhile; if the file ends first, it ends early too, and the caller tells the
/// shortfall from the count.
/// </summary>
internal sealed class LocalFileReadStream(SafeFileHandle file, long start, long length) : ReadOnlyStream
{
    private long _read;

    public override long Length => length;

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override int Read(Span<byte> buffer)
    {
        var want = (int)Math.Min(buffer.Length, length - _read);
        if (want <= 0)
        {
            return 0;
        }

        var read = RandomAccess.Read(file, buffer[..want], start + _read);
        _read += read;
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var want = (int)Math.Min(buffer.Length, length - _read);
        if (want <= 0)
        {
            return 0;
        }

        var read = await RandomAccess.ReadAsync(file, buffer[..want], start + _read, cancellationToken).ConfigureAwait(false);
        _read += read;
        return read;
    }

}
