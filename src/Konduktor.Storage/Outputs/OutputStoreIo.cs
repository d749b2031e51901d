using System.Buffers;

namespace Konduktor.Storage;

/// <summary>The store calls outputs share: hashed uploads, and reading and writing output records.</summary>
internal static class OutputStoreIo
{
    public const int BufferSize = 1024 * 1024;

    /// <summary>Streams <paramref name="source"/> to <paramref name="key"/>, hashing on the way, and checks the length the store reports.</summary>
    /// <returns>The content's length and checksum, and what the store holds.</returns>
    /// <exception cref="CheckpointStorageException">The store holds another length than was sent.</exception>
    public static async Task<(long Length, string Checksum, Stores.ObjectInfo Info)> UploadAsync(
        ICheckpointStore store, string key, Stream source, bool createOnly, CancellationToken cancellationToken)
    {
        var hash = new ContentHash();
        var writer = await store.OpenWriteAsync(key, createOnly ? Stores.ObjectWriteOptions.CreateOnlyWrite : null, cancellationToken).ConfigureAwait(false);
        await using (writer.ConfigureAwait(false))
        {
            var length = await HashingCopy.CopyAsync(source, writer, hash, BufferSize, Timeout.InfiniteTimeSpan, null, cancellationToken).ConfigureAwait(false);
            var info = await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
            if (info.Length != length)
            {
                throw new CheckpointStorageException(
                    $"The store {store.Location} reports {info.Length} bytes for '{ObjectKey.Printable(key)}' after {length} bytes were sent; the upload did not take.");
            }

            return (length, hash.Current(), info);
        }
    }

    /// <summary>Reads an output's record, or <see langword="null"/> when it has none.</summary>
    /// <exception cref="OutputCorruptException">The record is unreadable or inconsistent.</exception>
    public static async Task<OutputRecord?> ReadRecordAsync(ICheckpointStore store, string run, string path, CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
            var stream = await store.OpenReadAsync(OutputLayout.MetaKey(run, path), null, cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                bytes = await ReadBoundedAsync(stream, OutputRecord.MaxBytes, cancellationToken).ConfigureAwait(false)
                    ?? throw new OutputCorruptException(run, path, $"a record of at most {OutputRecord.MaxBytes} bytes", "a larger one");
            }
        }
        catch (Stores.ObjectNotFoundException)
        {
            return null;
        }

        return OutputRecord.Parse(bytes, path, out var problem)
            ?? throw new OutputCorruptException(run, path, "a valid record", problem!);
    }

    /// <summary>Replaces an output's record.</summary>
    public static async Task WriteRecordAsync(ICheckpointStore store, string run, OutputRecord record, CancellationToken cancellationToken)
    {
        using var content = new MemoryStream(record.Serialize(), writable: false);
        await store.PutAsync(OutputLayout.MetaKey(run, record.Path), content, null, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<byte[]?> ReadBoundedAsync(Stream stream, int limit, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            using var collected = new MemoryStream();
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (collected.Length + read > limit)
                {
                    return null;
                }

                collected.Write(buffer, 0, read);
            }

            return collected.ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
