namespace Konduktor.Storage;

/// <summary>A checkpoint file's bytes differ from what its manifest promises.</summary>
/// <param name="step">The checkpoint's step.</param>
/// <param name="file">The file's name in the checkpoint.</param>
/// <param name="expected">What the manifest promises (length or checksum).</param>
/// <param name="actual">What the store returned.</param>
/// <param name="innerException">The cause, if any.</param>
public sealed class CheckpointCorruptException(long step, string file, string expected, string actual, Exception? innerException = null)
    : CheckpointStorageException($"Checkpoint step {step} is corrupt: file '{ObjectKey.Printable(file)}' should have {expected} but has {actual}.", innerException)
{
    /// <summary>The checkpoint's step.</summary>
    public long Step { get; } = step;

    /// <summary>The file's name in the checkpoint.</summary>
    public string File { get; } = file;

    /// <summary>What the manifest promises.</summary>
    public string Expected { get; } = expected;

    /// <summary>What the store returned.</summary>
    public string Actual { get; } = actual;
}
