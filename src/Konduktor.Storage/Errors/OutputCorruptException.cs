namespace Konduktor.Storage;

/// <summary>
/// An output file read back from the store is not what was synced or published: its length or checksum differs, or its
/// record is damaged. Thrown by the library (<see cref="RunOutputs"/>); the message names the run, the path and both sides.
/// </summary>
public sealed class OutputCorruptException : CheckpointStorageException
{
    internal OutputCorruptException(string run, string path, string expected, string actual, Exception? innerException = null)
        : base($"Output '{ObjectKey.Printable(path)}' of run '{ObjectKey.Printable(run)}' is corrupt: it should have {expected} but has {actual}.", innerException) =>
        (Run, Path, Expected, Actual) = (run, path, expected, actual);

    /// <summary>The run the output belongs to.</summary>
    public string Run { get; }

    /// <summary>The output's path under the run's outputs (e.g. <c>rank-00000/metrics.jsonl</c>).</summary>
    public string Path { get; }

    /// <summary>What the output should have (e.g. <c>length 10</c> or a checksum).</summary>
    public string Expected { get; }

    /// <summary>What it has.</summary>
    public string Actual { get; }
}
