namespace Konduktor.Storage.Stores;

/// <summary>
/// A small, precondition-aware object store: the only thing <c>CheckpointManager</c> needs from
/// S3, GCS, a local disk or memory. Keys are '/'-separated relative paths validated by <see cref="ObjectKey"/>.
/// </summary>
/// <remarks>
/// Implementations throw <see cref="ObjectNotFoundException"/> for a missing object,
/// <see cref="PreconditionFailedException"/> when a create-only write finds the key taken or a conditional delete
/// finds another version, <see cref="StoreAccessDeniedException"/> for refused credentials, and
/// <see cref="TransientStoreException"/> for failures worth retrying. Every listing is in ordinal key order.
/// </remarks>
public interface ICheckpointStore
{
    /// <summary>Where the store keeps its objects, e.g. <c>file:///data/ckpt</c> or <c>s3://bucket/prefix</c>. Used in messages.</summary>
    Uri Location { get; }

    /// <summary>What this store honours (create-only writes, conditional deletes, server checksums).</summary>
    StoreCapabilities Capabilities { get; }

    /// <summary>Writes <paramref name="content"/> (read to its end) under <paramref name="key"/>.</summary>
    /// <param name="key">The object key.</param>
    /// <param name="content">The bytes to store; read from its current position to its end.</param>
    /// <param name="options">Create-only and other write options; <see langword="null"/> for an unconditional write.</param>
    /// <param name="cancellationToken">Cancels the write; a cancelled write leaves nothing visible under <paramref name="key"/>.</param>
    /// <returns>What the store holds now.</returns>
    /// <exception cref="PreconditionFailedException"><see cref="ObjectWriteOptions.CreateOnly"/> was set and the key exists.</exception>
    /// <exception cref="ArgumentException">The key is not valid.</exception>
    Task<ObjectInfo> PutAsync(string key, Stream content, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens a streaming writer for content of unknown length. Nothing is visible under <paramref name="key"/> until
    /// <see cref="ObjectWriteStream.CompleteAsync"/> succeeds; disposing the writer without completing it aborts the write.
    /// </summary>
    /// <param name="key">The object key.</param>
    /// <param name="options">Create-only and other write options.</param>
    /// <param name="cancellationToken">Cancels opening the writer.</param>
    /// <exception cref="ArgumentException">The key is not valid.</exception>
    Task<ObjectWriteStream> OpenWriteAsync(string key, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Opens an object, or a byte range of it, for reading.</summary>
    /// <param name="key">The object key.</param>
    /// <param name="range">The bytes to read; <see langword="null"/> for the whole object. A range past the end is cut at the end.</param>
    /// <param name="cancellationToken">Cancels opening the object.</param>
    /// <exception cref="ObjectNotFoundException">No object has that key.</exception>
    /// <exception cref="ArgumentException">The key is not valid.</exception>
    Task<Stream> OpenReadAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default);

    /// <summary>Describes an object, or returns <see langword="null"/> when there is none under <paramref name="key"/>.</summary>
    /// <param name="key">The object key.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists the objects whose keys start with <paramref name="prefix"/>, in ordinal key order, fetching pages as it goes.
    /// With a <see cref="ListOptions.Delimiter"/>, keys that contain it after the prefix are rolled up into one
    /// entry per "folder" (<see cref="StoreEntry.IsPrefix"/>).
    /// </summary>
    /// <param name="prefix">A key prefix: empty, or a valid key, optionally ending with '/'.</param>
    /// <param name="options">Delimiter and page size.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    IAsyncEnumerable<StoreEntry> ListAsync(string prefix, ListOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes one object.</summary>
    /// <param name="key">The object key.</param>
    /// <param name="ifMatch">When set, delete only if the object's <see cref="ObjectInfo.ETag"/> is this value.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns><see langword="true"/> when an object was deleted; <see langword="false"/> when there was none (with or without <paramref name="ifMatch"/>).</returns>
    /// <exception cref="PreconditionFailedException"><paramref name="ifMatch"/> did not match the object's current version.</exception>
    /// <exception cref="NotSupportedException"><paramref name="ifMatch"/> was given and <see cref="StoreCapabilities.ConditionalDelete"/> is false.</exception>
    Task<bool> DeleteAsync(string key, string? ifMatch = null, CancellationToken cancellationToken = default);
}
