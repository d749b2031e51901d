namespace Konduktor.Storage;

/// <summary>
/// How background saves stage and pace their work (configuration section <c>Konduktor:Checkpoints:Background</c>).
/// </summary>
public sealed class BackgroundSaveOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Konduktor:Checkpoints:Background";

    /// <summary>
    /// How many saves may be uploading at once (1 to 16). The next save waits for a slot (back-pressure), and that wait
    /// counts as time the caller was blocked. Default: 1.
    /// </summary>
    public int MaxInFlight { get; set; } = 1;

    /// <summary>
    /// Memory for captured content, shared by the saves in flight, in MiB (0 to 1048576; 0 stages everything on disk).
    /// Content beyond it goes to <see cref="StagingDirectory"/>, so a checkpoint of any size costs at most this much memory
    /// (plus the store's upload buffers). Default: 64.
    /// </summary>
    public int MemoryLimitMiB { get; set; } = 64;

    /// <summary>
    /// Disk space for captured content beyond <see cref="MemoryLimitMiB"/>, shared by the saves in flight, in MiB
    /// (0 to 67108864). A step that does not fit waits for earlier saves to free their staging, or fails when none is in
    /// flight. Default: 65536 (64 GiB).
    /// </summary>
    public int DiskLimitMiB { get; set; } = 64 * 1024;

    /// <summary>
    /// The local directory for staged content beyond the memory limit and for linked or copied local files; each saver uses
    /// a folder of its own inside it and removes it when disposed. Default: the system's temporary directory.
    /// </summary>
    public string? StagingDirectory { get; set; }

    /// <summary>
    /// Whether a local file added to a background save is captured as a hard link (instant, no space used) rather than a
    /// copy. A link is a snapshot only if the program replaces the file (writes a new file, then renames it) instead of
    /// rewriting it in place; set <see langword="false"/> when it rewrites files in place. A link across file systems falls
    /// back to a copy. Default: <see langword="true"/>.
    /// </summary>
    public bool LinkLocalFiles { get; set; } = true;
}
