namespace Konduktor.Storage.Stores;

/// <summary>
/// A failure worth retrying: a 5xx or 408/429 answer, a reset connection, a timeout, a stalled transfer.
/// Stores throw it; the resilience pipeline retries it.
/// </summary>
public sealed class TransientStoreException : CheckpointStorageException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause, if any.</param>
    /// <param name="retryAfter">How long the server asked the client to wait, if it said.</param>
    public TransientStoreException(string message, Exception? innerException = null, TimeSpan? retryAfter = null)
        : base(message, innerException)
    {
        RetryAfter = retryAfter;
    }

    /// <summary>How long the server asked the client to wait, if it said.</summary>
    public TimeSpan? RetryAfter { get; }
}
