namespace Konduktor.Storage;

/// <summary>What publishing an artifact does when the run already has an output at that path.</summary>
public enum OutputWriteMode
{
    /// <summary>The publish fails with <see cref="Stores.PreconditionFailedException"/>; the existing output is kept.</summary>
    CreateOnly,

    /// <summary>The existing output is replaced.</summary>
    Replace,
}
