
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

    /// <summary>
    /// How the ranks of a multi-node job checkpoint: <see cref="CheckpointMode.Collective"/> (one step for all ranks, the
    /// default when <c>NUM_NODES</c> is more than 1 and <see cref="Scope"/> is <c>rank</c>) or <see cref="CheckpointMode.PerRank"/>
    /// (independent scopes; the default otherwise). Collective needs <see cref="Scope"/> <c>rank</c>. With one node both
    /// behave alike.
    /// </summary>
    public CheckpointMode? Mode { get; set; }

    /// <summary>Collective checkpoints: how long a rank waits for the others.</summary>
    public CollectiveOptions Collective { get; set; } = new();

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
