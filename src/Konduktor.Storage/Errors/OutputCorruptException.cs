namespace Konduktor.Storage;

/// <summary>An output file read back from the store is not what was synced or published: its length or checksum differs.</summary>
/// <param name="run">The run the output belongs to.</param>
/// <param name="path">The output's path under the run's outputs (e.g. <c>rank-00000/metrics.jsonl</c>).</param>
/// <param name="expected">What the output should have (e.g. <c>length 10</c> or a checksum).</param>
/// <param name="actual">What it has.</param>
/// <param name="innerException">The store's error, when there was one.</param>
public sealed class OutputCorruptException(string run, string path, string expected, string actual, Exception? innerException = null)
    : CheckpointStorageException($"Output '{ObjectKey.Printable(path)}' of run '{ObjectKey.Printable(run)}' is corrupt: it should have {expected} but has {actual}.", innerException)
{
    /// <summary>The run the output belongs to.</summary>
    public string Run { get; } = run;

    /// <summary>The output's path under the run's outputs.</summary>
    public string Path { get; } = path;

    /// <summary>What the output should have.</summary>
    public string Expected { get; } = expected;

    /// <summary>What it has.</summary>
    public string Actual { get; } = actual;
}
