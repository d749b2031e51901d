namespace Konduktor.Storage;

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
