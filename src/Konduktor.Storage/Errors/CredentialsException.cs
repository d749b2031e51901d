namespace Konduktor.Storage;

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
