namespace Konduktor.Storage.Stores;

/// <summary><see cref="ICheckpointStore.PutAsync"/> for stores whose put is their streaming writer fed from the content.</summary>
internal static class StreamedPut
{
    /// <summary>Copies <paramref name="content"/> into a writer of <paramref name="key"/> and completes it.</summary>
    /// <param name="store">The store.</param>
    /// <param name="key">The key.</param>
    /// <param name="content">The content, read to its end.</param>
    /// <param name="options">The write options.</param>
    /// <param name="bufferSize">The copy buffer's size; <see langword="null"/> for the default.</param>
    /// <param name="cancellationToken">Cancels the write; the writer is disposed without completing.</param>
    /// <returns>What the store says of the new object.</returns>
    public static async Task<ObjectInfo> PutAsync(
        ICheckpointStore store, string key, Stream content, ObjectWriteOptions? options, int? bufferSize, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var writer = await store.OpenWriteAsync(key, options, cancellationToken).ConfigureAwait(false);
        await using (writer.ConfigureAwait(false))
        {
            if (bufferSize is { } size)
            {
                await content.CopyToAsync(writer, size, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await content.CopyToAsync(writer, cancellationToken).ConfigureAwait(false);
            }

            return await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
