namespace Konduktor.Storage;

/// <summary>A run has no runtime outputs at all, or none under the path or prefix asked for.</summary>
/// <param name="location">The store's location.</param>
/// <param name="run">The run whose outputs were looked for.</param>
/// <param name="path">The output path or prefix looked for; empty for all of the run's outputs.</param>
public sealed class OutputNotFoundException(Uri location, string run, string path)
    : CheckpointStorageException(path.Length == 0
        ? $"Run '{ObjectKey.Printable(run)}' has no outputs in {location}."
        : $"Run '{ObjectKey.Printable(run)}' has no output '{ObjectKey.Printable(path)}' (file or folder) in {location}.")
{
    /// <summary>The store's location.</summary>
    public Uri Location { get; } = location;

    /// <summary>The run whose outputs were looked for.</summary>
    public string Run { get; } = run;

    /// <summary>The output path or prefix looked for; empty for all of the run's outputs.</summary>
    public string Path { get; } = path;
}
