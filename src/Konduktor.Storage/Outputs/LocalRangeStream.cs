using Microsoft.Win32.SafeHandles;

namespace Konduktor.Storage;

/// <summary>
/// Reads a byte range of a local file for an upload of the output sync, adding the bytes to the file's running hash and,
/// when the range re-reads pieces already uploaded (a merge), checking each piece's bytes against its checksum as they
/// pass: a file rewritten in place since is caught before its changed bytes replace pieces (<see cref="LocalFileRewrittenException"/>).
/// A file that ends before the range does is caught too.
/// </summary>
internal sealed class LocalRangeStream(SafeFileHandle file, long start, long length, ContentHash? whole, IReadOnlyList<OutputPiece>? pieces) : ReadOnlyStream
{
    private readonly LocalFileReadStream _inner = new(file, start, length);
    private ContentHash _piece = new();
    private int _pieceIndex;

    public override int Read(Span<byte> buffer)
    {
        var read = _inner.Read(buffer);
        return Observe(buffer[..read]);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Observe(buffer.Span[..read]);
    }

    private int Observe(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            if (_inner.Position != length)
            {
                throw new LocalFileRewrittenException($"it ended at byte {start + _inner.Position} while {start + length} were expected");
            }

            return 0;
        }

        whole?.Append(data);
        if (pieces is not null)
        {
            Check(data);
        }

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
}

/// <summary>A local file was not only appended to since it was last synced: it is uploaded whole again.</summary>
internal sealed class LocalFileRewrittenException(string message) : IOException(message);
