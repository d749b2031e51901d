namespace Konduktor.Storage;

/// <summary>
/// Reads one checkpoint file and checks it against its manifest entry as the bytes pass. The last bytes are handed
/// over only once the whole file's length and checksum match, so a reader never finishes on unverified data;
/// a mismatch throws <see cref="CheckpointCorruptException"/>, and so does the file changing under the read (a store's
/// <see cref="PreconditionFailedException"/>: checkpoint data is written once, so a replaced file is tampering). A zero-length
/// read returns 0 and changes nothing: only a read with room for bytes that gets none is the end of the file.
/// </summary>
internal sealed class VerifyingReadStream(Stream inner, long step, ManifestFile file, Action<CheckpointCorruptException>? onCorrupt) : ReadOnlyStream
{
    private readonly ContentHash _hash = new();
    private bool _verified;

    public override long Length => file.Length;

    public override long Position
    {
        get => _hash.Length;
        set => throw new NotSupportedException();
    }

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        int read;
        try
        {
            read = inner.Read(buffer);
        }
        catch (PreconditionFailedException e)
        {
            throw Fail(Changed(step, file, e));
        }

        return Check(buffer[..read], read);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        int read;
        try
        {
            read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (PreconditionFailedException e)
        {
            throw Fail(Changed(step, file, e));
        }

        return Check(buffer.Span[..read], read);
    }

    /// <summary>The verdict on a file that changed while it was read (the store saw another version of it).</summary>
    internal static CheckpointCorruptException Changed(long step, ManifestFile file, PreconditionFailedException cause) =>
        new(step, file.Name, "one version from its first byte to its last", "a version that changed while it was read", cause);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private int Check(ReadOnlySpan<byte> data, int read)
    {
        if (read == 0)
        {
            if (!_verified && _hash.Length != file.Length)
            {
                Fail($"{file.Length} bytes", $"only {_hash.Length} bytes");
            }

            VerifyChecksum();
            return 0;
        }

        if (_verified || _hash.Length + read > file.Length)
        {
            Fail($"{file.Length} bytes", "more bytes");
        }

        _hash.Append(data);
        if (_hash.Length == file.Length)
        {
            VerifyChecksum();
        }

        return read;
    }

    private void VerifyChecksum()
    {
        if (_verified)
        {
            return;
        }

        var actual = _hash.Current();
        if (actual != file.Checksum)
        {
            Fail($"checksum {file.Checksum}", $"checksum {actual}");
        }

        _verified = true;
    }

    private void Fail(string expected, string actual) => throw Fail(new CheckpointCorruptException(step, file.Name, expected, actual));

    private CheckpointCorruptException Fail(CheckpointCorruptException error)
    {
        onCorrupt?.Invoke(error);
        return error;
    }
}
