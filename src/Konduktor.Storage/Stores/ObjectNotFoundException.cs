namespace Konduktor.Storage.Stores;

/// <summary>A store has no object under a key.</summary>
public sealed class ObjectNotFoundException : CheckpointStorageException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="location">The store's location.</param>
    /// <param name="key">The missing key.</param>
    /// <param name="innerException">The cause, if any.</param>
    public ObjectNotFoundException(Uri location, string key, Exception? innerException = null)
        : base($"No object '{ObjectKey.Printable(key)}' in {location}.", innerException)
    {
        Location = location;
        Key = key;
    }

    /// <summary>The store's location.</summary>
    public Uri Location { get; }

    /// <summary>The missing key.</summary>
    public string Key { get; }
}
