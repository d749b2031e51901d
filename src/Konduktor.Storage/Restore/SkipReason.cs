namespace Konduktor.Storage;

/// <summary>Why a restore passed over a checkpoint.</summary>
public enum SkipReason
{
    /// <summary>The step folder has data but no manifest: the save was never committed (torn).</summary>
    NotCommitted,

    /// <summary>The manifest cannot be parsed, is too large, names files outside its step, or disagrees with where it was found.</summary>
    InvalidManifest,

    /// <summary>A file the manifest lists is missing from the store.</summary>
    MissingFile,

    /// <summary>A file on the store has another length than the manifest says.</summary>
    LengthMismatch,

    /// <summary>A file's bytes do not match its checksum, or the file was replaced while it was read.</summary>
    ChecksumMismatch,

    /// <summary>This manager found the checkpoint corrupt earlier (e.g. while a caller read it as a stream).</summary>
    KnownCorrupt,

    /// <summary>
    /// A collective step that a rank found torn or corrupt in its own part (or whose part is not the one the step commit
    /// lists): every rank passes over it.
    /// </summary>
    PartCorrupt,
}
