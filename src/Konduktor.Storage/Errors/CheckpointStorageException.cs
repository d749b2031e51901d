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
