using System.Security.Cryptography;

namespace Konduktor.Storage.Testing;

/// <summary>
/// Bytes of an object, kept as the segments they arrived in (a resumable upload's chunks are never joined into a second
/// copy), with the hashes GCS reports for them, computed once when the upload completes.
/// </summary>
internal sealed class GcsContent
{
    private readonly byte[][] _segments;

    /// <summary>Stores <paramref name="segments"/> and hashes them.</summary>
    public GcsContent(IEnumerable<byte[]> segments)
        : this(segments, null)
    {
    }

    /// <summary>Stores <paramref name="segments"/> whose hashes <paramref name="hashes"/> already holds (a session hashes chunks as they arrive).</summary>
    public GcsContent(IEnumerable<byte[]> segments, GcsHasher? hashes)
    {
        _segments = [.. segments.Where(s => s.Length > 0)];
        Length = _segments.Sum(s => (long)s.Length);
        if (hashes is null)
        {
            using var hasher = new GcsHasher();
            foreach (var segment in _segments)
            {
                hasher.Append(segment);
            }

            (Crc32C, Md5) = hasher.Finish();
        }
        else
        {
            (Crc32C, Md5) = hashes.Finish();
        }
    }

    public long Length { get; }

    /// <summary>Base64 of the big-endian CRC-32C of the bytes.</summary>
    public string Crc32C { get; }

    /// <summary>Base64 of the MD5 of the bytes.</summary>
    public string Md5 { get; }

    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        var offset = 0;
        foreach (var segment in _segments)
        {
            segment.CopyTo(bytes, offset);
            offset += segment.Length;
        }

        return bytes;
    }

    /// <summary>Writes <paramref name="count"/> bytes from <paramref name="offset"/> straight from the stored segments.</summary>
    public async Task WriteToAsync(Stream destination, long offset, long count, CancellationToken cancellationToken)
    {
        foreach (var segment in _segments)
        {
            if (count == 0)
            {
                return;
            }

            if (offset >= segment.Length)
            {
                offset -= segment.Length;
                continue;
            }

            var length = (int)Math.Min(count, segment.Length - offset);
            await destination.WriteAsync(segment.AsMemory((int)offset, length), cancellationToken).ConfigureAwait(false);
            offset = 0;
            count -= length;
        }
    }
}

/// <summary>The CRC-32C and MD5 of bytes appended so far; <see cref="Clone"/> lets a final chunk be hashed without committing to it.</summary>
internal sealed class GcsHasher : IDisposable
{
    private readonly IncrementalHash _md5;
    private uint _crc;

    public GcsHasher()
#pragma warning disable CA5351 // GCS reports MD5 as an integrity check of the bytes, not for security.
        : this(Testing.Crc32C.Initial, IncrementalHash.CreateHash(HashAlgorithmName.MD5))
#pragma warning restore CA5351
    {
    }

    private GcsHasher(uint crc, IncrementalHash md5)
    {
        _crc = crc;
        _md5 = md5;
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        _crc = Testing.Crc32C.Update(_crc, data);
        _md5.AppendData(data);
    }

    public GcsHasher Clone() => new(_crc, _md5.Clone());

    /// <summary>The base64 hashes as GCS writes them.</summary>
    public (string Crc32C, string Md5) Finish() =>
        (Testing.Crc32C.ToBase64(_crc), Convert.ToBase64String(_md5.GetCurrentHash()));

    public void Dispose() => _md5.Dispose();
}

/// <summary>What an upload asks to store besides the bytes.</summary>
/// <param name="Name">The object name.</param>
/// <param name="ContentType">The content type (<c>application/octet-stream</c> when not given).</param>
/// <param name="Metadata">Custom metadata, if any.</param>
internal sealed record GcsObjectProperties(string Name, string ContentType, IReadOnlyDictionary<string, string>? Metadata);

/// <summary>One live object generation held by <see cref="GcsTestServer"/>. Immutable: a write stores a new instance.</summary>
internal sealed class GcsStoredObject(string bucket, GcsObjectProperties properties, GcsContent content, long generation, DateTimeOffset created)
{
    public string Bucket { get; } = bucket;

    public string Name => properties.Name;

    public GcsContent Content { get; } = content;

    public long Generation { get; } = generation;

    /// <summary>GCS bumps the metageneration on metadata updates; this server has none, so it is always 1.</summary>
    public static long Metageneration => 1;

    public string ContentType => properties.ContentType;

    public IReadOnlyDictionary<string, string>? Metadata => properties.Metadata;

    public DateTimeOffset Created { get; } = created;

    public string Crc32C => Content.Crc32C;

    public string Md5 => Content.Md5;
}
