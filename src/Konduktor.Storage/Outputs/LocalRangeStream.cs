using Microsoft.Win32.SafeHandles;

namespace Konduktor.Storage;

/// <summary>
/// Reads a byte range of a local file for an upload of the output sync, adding the bytes to the file's running hash and,
/// when the range re-reads pieces already uploaded (a merge), checking each piece's bytes against its checksum as they
/// pass: a file rewritten in place since is caught before its changed bytes replace pieces (<see cref="LocalFileRewrittenException"/>).
/// A file that ends before the range does is caught too.
/// </summary>
internal sealed class LocalRangeStream(SafeFileHandle file, long start, long length, ContentHash? whole, IReadOnlyList<OutputPiece>? pieces) : Stream
{
    private readonly LocalFileReadStream _inner = new(file, start, length);
    private ContentHash _piece = new();
    private int _pieceIndex;
    private long _read;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Observe(buffer.AsSpan(offset, _inner.Read(buffer, offset, count)));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Observe(buffer.Span[..read]);
    }

    private int Observe(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            if (_read != length)
            {
                throw new LocalFileRewrittenException($"it ended at byte {start + _read} while {start + length} were expected");
            }

            return 0;
        }

        whole?.Append(data);
        if (pieces is not null)
        {
            Check(data);
        }

        _read += data.Length;
        return data.Length;
    }

    private void Check(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var piece = pieces![_pieceIndex];
            var take = (int)Math.Min(data.Length, piece.Length - _piece.Length);
            _piece.Append(data[..take]);
            data = data[take..];
            if (_piece.Length == piece.Length)
            {
                if (_piece.Current() != piece.Checksum)
                {
                    throw new LocalFileRewrittenException($"bytes {piece.Offset}..{piece.Offset + piece.Length} changed since they were synced");
                }

                _pieceIndex++;
                _piece = new ContentHash();
            }
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>A local file was not only appended to since it was last synced: it is uploaded whole again.</summary>
internal sealed class LocalFileRewrittenException(string message) : IOException(message);
