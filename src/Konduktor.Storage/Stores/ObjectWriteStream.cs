namespace Konduktor.Storage.Stores;

/// <summary>
/// A write-only stream into one object. The object appears only when <see cref="CompleteAsync"/> succeeds;
/// disposing the writer before that aborts the write and leaves nothing visible under <see cref="Key"/>.
/// </summary>
public abstract class ObjectWriteStream : Stream
{
    /// <summary>The key being written.</summary>
    public abstract string Key { get; }

    /// <summary>How many bytes were written so far.</summary>
    public abstract long BytesWritten { get; }

    /// <summary>Makes the written bytes visible under <see cref="Key"/>, honouring the write's options.</summary>
    /// <param name="cancellationToken">Cancels the completion; the object is then not visible.</param>
    /// <returns>What the store holds now.</returns>
    /// <exception cref="PreconditionFailedException">The write was create-only and the key exists.</exception>
    /// <exception cref="InvalidOperationException">The writer was completed or disposed already.</exception>
    public abstract Task<ObjectInfo> CompleteAsync(CancellationToken cancellationToken = default);

    /// <inheritdoc />
    public sealed override bool CanRead => false;

    /// <inheritdoc />
    public sealed override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => true;

    /// <inheritdoc />
    public sealed override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public sealed override long Position
    {
        get => BytesWritten;
        set => throw new NotSupportedException();
    }

    /// <inheritdoc />
    public sealed override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc />
    public sealed override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public sealed override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public abstract override void Write(ReadOnlySpan<byte> buffer);

    /// <inheritdoc />
    public abstract override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default);

    /// <inheritdoc />
    public override void Flush()
    {
    }
}
