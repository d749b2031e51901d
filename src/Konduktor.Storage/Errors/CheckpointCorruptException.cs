namespace Konduktor.Storage;

/// <summary>A checkpoint file's bytes differ from what its manifest promises.</summary>
public sealed class CheckpointCorruptException : CheckpointStorageException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="step">The checkpoint's step.</param>
    /// <param name="file">The file's name in the checkpoint.</param>
    /// <param name="expected">What the manifest promises (length or checksum).</param>
    /// <param name="actual">What the store returned.</param>
    /// <param name="innerException">The cause, if any.</param>
    public CheckpointCorruptException(long step, string file, string expected, string actual, Exception? innerException = null)
        : base($"Checkpoint step {step} is corrupt: file '{ObjectKey.Printable(file)}' should have {expected} but has {actual}.", innerException)
    {
        Step = step;
        File = file;
        Expected = expected;
        Actual = actual;
    }

    /// <summary>The checkpoint's step.</summary>
    public long Step { get; }

    /// <summary>The file's name in the checkpoint.</summary>
    public string File { get; }

    /// <summary>What the manifest promises.</summary>
    public string Expected { get; }

    /// <summary>What the store returned.</summary>
    public string Actual { get; }
}
