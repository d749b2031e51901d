namespace Konduktor.Storage.Testing;

/// <summary>A store that passes every call to another; tests override just the calls they want to change or watch.</summary>
/// <param name="inner">The store that does the work.</param>
public class DelegatingStore(ICheckpointStore inner) : ICheckpointStore
{
    /// <summary>The store that does the work.</summary>
    protected ICheckpointStore Inner { get; } = inner;

    /// <inheritdoc />
    public virtual Uri Location => Inner.Location;

    /// <inheritdoc />
    public virtual StoreCapabilities Capabilities => Inner.Capabilities;

    /// <inheritdoc />
    public virtual Task<ObjectInfo> PutAsync(string key, Stream content, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default) =>
        Inner.PutAsync(key, content, options, cancellationToken);

    /// <inheritdoc />
    public virtual Task<ObjectWriteStream> OpenWriteAsync(string key, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default) =>
        Inner.OpenWriteAsync(key, options, cancellationToken);

    /// <inheritdoc />
    public virtual Task<Stream> OpenReadAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default) =>
        Inner.OpenReadAsync(key, range, cancellationToken);

    /// <inheritdoc />
    public virtual Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default) => Inner.StatAsync(key, cancellationToken);

    /// <inheritdoc />
    public virtual IAsyncEnumerable<StoreEntry> ListAsync(string prefix, ListOptions? options = null, CancellationToken cancellationToken = default) =>
        Inner.ListAsync(prefix, options, cancellationToken);

    /// <inheritdoc />
    public virtual Task<bool> DeleteAsync(string key, string? ifMatch = null, CancellationToken cancellationToken = default) =>
        Inner.DeleteAsync(key, ifMatch, cancellationToken);
}
