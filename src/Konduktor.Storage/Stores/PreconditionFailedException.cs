namespace Konduktor.Storage.Stores;

/// <summary>A create-only write found the key taken, or a conditional delete found another version of the object.</summary>
public sealed class PreconditionFailedException : CheckpointStorageException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="location">The store's location.</param>
    /// <param name="key">The key.</param>
    /// <param name="reason">What the precondition was, e.g. "it already exists".</param>
    /// <param name="innerException">The cause, if any.</param>
    public PreconditionFailedException(Uri location, string key, string reason, Exception? innerException = null)
        : base($"Precondition failed for '{ObjectKey.Printable(key)}' in {location}: {reason}.", innerException)
    {
        Location = location;
        Key = key;
    }

    /// <summary>The store's location.</summary>
    public Uri Location { get; }

    /// <summary>The key.</summary>
    public string Key { get; }
}
