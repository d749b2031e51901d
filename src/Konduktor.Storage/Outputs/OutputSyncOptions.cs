namespace Konduktor.Storage;

/// <summary>
/// Options of the output sync (section <c>Konduktor:Outputs</c>): which local directory is mirrored to
/// <c>{location}/{run}/outputs/{scope}/</c>, and how often.
/// </summary>
public sealed class OutputSyncOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Konduktor:Outputs";

    /// <summary>
    /// The local directory to mirror. Default: <c>KONDUKTOR_OUTPUT_DIR</c> when set, else <c>outputs</c> under the current
    /// directory. A relative path is resolved against the current directory.
    /// </summary>
    public string? LocalDirectory { get; set; }

    /// <summary>
    /// Whether a local directory that does not exist is created when the sync starts (the default); when
    /// <see langword="false"/>, a missing directory fails start-up with an error naming it.
    /// </summary>
    public bool CreateLocalDirectory { get; set; } = true;

    /// <summary>How often the directory is synced. Must be positive. Default: 30 seconds.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Where outputs go (a location URI like <c>Konduktor:Checkpoints:Location</c>). Default: the checkpoint location.</summary>
    public string? Location { get; set; }

    /// <summary>The run the outputs belong to. Default: the checkpoint manager's run (<c>KONDUKTOR_JOB_NAME</c>).</summary>
    public string? RunId { get; set; }

    /// <summary>The scope folder under the run's outputs. Default: the checkpoint manager's scope (<c>rank-00000</c>, …).</summary>
    public string? Scope { get; set; }

    /// <summary>
    /// Whether a checkpoint commit syncs the outputs first, so the store's outputs always cover the newest checkpoint's
    /// steps. Default: <see langword="true"/>.
    /// </summary>
    public bool SyncBeforeCheckpointCommit { get; set; } = true;

    /// <summary>
    /// A growing file's new bytes are uploaded as small pieces; once the pieces not yet merged add up to this many MiB they
    /// are uploaded once more as one piece, which keeps the pieces few and the bytes sent within a small constant factor of
    /// the file's size. Between 1 and 1024. Default: 8.
    /// </summary>
    public int MergeMiB { get; set; } = 8;

    /// <summary>How many files are uploaded at once. Between 1 and 64. Default: 4.</summary>
    public int Concurrency { get; set; } = 4;
}
