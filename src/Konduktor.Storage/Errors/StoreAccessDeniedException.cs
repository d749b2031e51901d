namespace Konduktor.Storage;

/// <summary>The store refused the request: missing permission, a bad signature, or credentials it does not accept.</summary>
/// <param name="location">The store's location.</param>
/// <param name="credentialSource">Where the credentials came from (never the secret itself).</param>
/// <param name="detail">What the server said.</param>
/// <param name="innerException">The cause, if any.</param>
public sealed class StoreAccessDeniedException(Uri location, string credentialSource, string detail, Exception? innerException = null)
    : CheckpointStorageException($"Access to {location} was denied ({detail}); credentials came from {credentialSource}.", innerException)
{
    /// <summary>The store's location.</summary>
    public Uri Location { get; } = location;

    /// <summary>Where the credentials came from.</summary>
    public string CredentialSource { get; } = credentialSource;
}
