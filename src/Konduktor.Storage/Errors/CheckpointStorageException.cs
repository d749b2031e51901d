namespace Konduktor.Storage;

/// <summary>The base of every exception Konduktor.Storage throws on purpose; its message says what went wrong and where.</summary>
public class CheckpointStorageException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CheckpointStorageException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public CheckpointStorageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public CheckpointStorageException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

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

/// <summary>The store refused the request: missing permission, a bad signature, or credentials it does not accept.</summary>
public sealed class StoreAccessDeniedException : CheckpointStorageException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="location">The store's location.</param>
    /// <param name="credentialSource">Where the credentials came from (never the secret itself).</param>
    /// <param name="detail">What the server said.</param>
    /// <param name="innerException">The cause, if any.</param>
    public StoreAccessDeniedException(Uri location, string credentialSource, string detail, Exception? innerException = null)
        : base($"Access to {location} was denied ({detail}); credentials came from {credentialSource}.", innerException)
    {
        Location = location;
        CredentialSource = credentialSource;
    }

    /// <summary>The store's location.</summary>
    public Uri Location { get; }

    /// <summary>Where the credentials came from.</summary>
    public string CredentialSource { get; }
}

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

/// <summary>A transient failure kept happening until the retry budget was spent.</summary>
public sealed class RetriesExhaustedException : CheckpointStorageException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="operation">What was attempted.</param>
    /// <param name="attempts">How many attempts were made.</param>
    /// <param name="lastCause">The failure of the last attempt.</param>
    public RetriesExhaustedException(string operation, int attempts, Exception lastCause)
        : base($"{operation} failed after {attempts} attempt(s); last cause: {lastCause.GetType().Name}: {lastCause.Message}", lastCause)
    {
        Operation = operation;
        Attempts = attempts;
    }

    /// <summary>What was attempted.</summary>
    public string Operation { get; }

    /// <summary>How many attempts were made.</summary>
    public int Attempts { get; }
}

/// <summary>No credentials could be found, or those found cannot be used.</summary>
public sealed class CredentialsException : CheckpointStorageException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="sourcesTried">The credential sources that were tried, in order.</param>
    /// <param name="innerException">The cause, if any.</param>
    public CredentialsException(string message, IReadOnlyList<string> sourcesTried, Exception? innerException = null)
        : base($"{message} Sources tried: {(sourcesTried.Count == 0 ? "none" : string.Join(", ", sourcesTried))}.", innerException)
    {
        SourcesTried = sourcesTried;
    }

    /// <summary>The credential sources that were tried, in order.</summary>
    public IReadOnlyList<string> SourcesTried { get; }
}

/// <summary>A configuration value or environment variable is missing or invalid.</summary>
public sealed class CheckpointConfigurationException : CheckpointStorageException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="key">The configuration key or environment variable.</param>
    /// <param name="value">The value found, or <see langword="null"/> when it was missing.</param>
    /// <param name="expected">What is allowed.</param>
    public CheckpointConfigurationException(string key, string? value, string expected)
        : base(value is null ? $"{key} is not set; expected {expected}." : $"{key} = '{ObjectKey.Printable(value)}' is not valid; expected {expected}.")
    {
        Key = key;
        Value = value;
        Expected = expected;
    }

    /// <summary>The configuration key or environment variable.</summary>
    public string Key { get; }

    /// <summary>The value found, or <see langword="null"/> when it was missing.</summary>
    public string? Value { get; }

    /// <summary>What is allowed.</summary>
    public string Expected { get; }
}
