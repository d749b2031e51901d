namespace Konduktor.Storage;

/// <summary>A read-only view of a byte range of a file; owns the file stream.</summary>
internal sealed class FileRangeReadStream(FileStream file, long start, long length) : SeekableReadOnlyStream
{
    public override long Length => length;

    public override int Read(Span<byte> buffer) => Advance(file.Read(buffer[..Clamp(buffer.Length)]));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Advance(await file.ReadAsync(buffer[..Clamp(buffer.Length)], cancellationToken).ConfigureAwait(false));

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

    protected override void OnSeek(long position) => file.Position = start + Math.Min(position, length);

    private int Clamp(int requested) => (int)Math.Clamp(length - Position, 0, requested);
}
