
namespace Konduktor.Storage;

/// <summary>How a <see cref="CheckpointManager"/> names, keeps and protects checkpoints (configuration section <c>Konduktor:Checkpoints</c>).</summary>
public sealed class CheckpointManagerOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Konduktor:Checkpoints";

    /// <summary>
    /// Where checkpoints live, used by <c>AddKonduktorCheckpoints</c> to pick the store: <c>file:///abs/dir</c> (or a local
    /// path, absolute or relative to the current directory), <c>memory://name</c>, <c>s3://bucket/prefix</c>,
    /// <c>gs://bucket/prefix</c>. A <see cref="CheckpointManager"/> constructed by hand is given its store instead.
    /// </summary>
    public string? Location { get; set; }

    /// <summary>
    /// The run id; overrides <see cref="JobContext.JobName"/>. One of the two is required. Must be stable across restarts.
    /// Either is one folder name on the store: 1 to 128 bytes of UTF-8, no '/', '\' or control characters, not starting
    /// with '.', no surrounding whitespace (checked when the manager is built).
    /// </summary>
    public string? RunId { get; set; }

    /// <summary>
    /// <c>rank</c> (default: one scope per pod, <c>rank-00003</c>; any case, surrounding whitespace ignored) or a fixed scope
    /// name shared by every pod that uses it, following the same rules as a run id.
    /// </summary>
    public string Scope { get; set; } = "rank";

    /// <summary>Which checkpoints to keep after each save.</summary>
    public RetentionOptions Retention { get; set; } = new();

    /// <summary>Retries, timeouts and the stall detector for store operations.</summary>
    public ResilienceOptions Resilience { get; set; } = new();

    /// <summary>Uncommitted data younger than this is never collected as garbage (it may be a save in progress). Default: 1 hour.</summary>
    public TimeSpan GarbageGracePeriod { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The size of each buffer on the data path, in bytes. Default: 1 MiB.</summary>
    public int BufferSize { get; set; } = 1024 * 1024;

    /// <summary>
    /// What <see cref="CheckpointManager.SaveDirectoryAsync"/> does with a symbolic link in the directory it saves. Default:
    /// <see cref="SymbolicLinkPolicy.Follow"/>. A link is never silently left out: it is saved, or the save fails naming it.
    /// </summary>
    public SymbolicLinkPolicy SymbolicLinks { get; set; } = SymbolicLinkPolicy.Follow;
}

/// <summary>What a save of a local directory does with the symbolic links in it.</summary>
public enum SymbolicLinkPolicy
{
    /// <summary>
    /// A link is saved as what it points to, under the link's own name: a link to a file (inside the directory or outside
    /// it) as that file's content, a link to a directory as that directory's files. A link that points nowhere, a loop of
    /// links, a link to a directory that contains it (which would never end) and a link to a special file fail the save,
    /// naming the link.
    /// </summary>
    Follow,

    /// <summary>Any symbolic link in the directory fails the save, naming the link.</summary>
    Refuse,
}

/// <summary>Which checkpoints retention keeps; the policies combine (a checkpoint any policy keeps is kept).</summary>
public sealed class RetentionOptions
{
    /// <summary>Keep the newest N valid checkpoints. Default: 3. Zero keeps only what the other policies and the safety rules keep.</summary>
    public int KeepLast { get; set; } = 3;

    /// <summary>Keep every checkpoint whose step is a multiple of this, forever. Default: none.</summary>
    public long? KeepEvery { get; set; }

    /// <summary>Keep the best K checkpoints by <see cref="BestMetric"/>. Default: none.</summary>
    public int? KeepBest { get; set; }

    /// <summary>The metadata key whose value (a number) ranks checkpoints for <see cref="KeepBest"/>.</summary>
    public string? BestMetric { get; set; }

    /// <summary>Whether a smaller (<see cref="BestMode.Min"/>, e.g. a loss) or larger (<see cref="BestMode.Max"/>, e.g. an accuracy) metric is better.</summary>
    public BestMode BestMode { get; set; } = BestMode.Min;

    /// <summary>Steps that are never deleted.</summary>
    public IList<long> Pinned { get; } = [];

    /// <summary>Whether retention is applied after every successful save. Default: <see langword="true"/>.</summary>
    public bool ApplyAfterSave { get; set; } = true;
}

/// <summary>Which end of a metric is better.</summary>
public enum BestMode
{
    /// <summary>Smaller is better (loss, error).</summary>
    Min,

    /// <summary>Larger is better (accuracy, reward).</summary>
    Max,
}
