namespace Konduktor.Storage;

/// <summary>
/// Keeps a saved or restored local directory and a file-system store apart: saving a directory that holds the store would
/// copy the store into itself, and restoring into one would replace the store with the checkpoint it is reading.
/// </summary>
internal static class LocalStoreOverlap
{
    /// <summary>
    /// Refuses <paramref name="directory"/> when it is the store's root, lies inside it, or contains it, comparing real
    /// paths (symbolic links resolved). Stores that keep nothing under a local directory never overlap.
    /// </summary>
    /// <param name="store">The manager's store (decorators included).</param>
    /// <param name="directory">The directory the caller named.</param>
    /// <param name="action">What the caller asked for, e.g. "restore into".</param>
    /// <exception cref="ArgumentException">The directory and the store overlap; the message names both.</exception>
    internal static void ThrowIfOverlaps(ICheckpointStore store, string directory, string action)
    {
        if ((store as ILocalFileStore)?.LocalRoot is not { } root)
        {
            return;
        }

        var given = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        var real = RealPath.Resolve(given);
        var realRoot = RealPath.Resolve(root);
        var relation = real == realRoot ? "is"
            : RealPath.IsUnder(real, realRoot) ? "is inside"
            : RealPath.IsUnder(realRoot, real) ? "contains"
            : null;
        if (relation is null)
        {
            return;
        }

        var resolved = real == given ? string.Empty : $" (really '{real}')";
        throw new ArgumentException(
            $"Cannot {action} '{given}'{resolved}: it {relation} the root of the file-system checkpoint store, '{root}'. "
            + "A saved or restored directory and the store must not overlap: choose a directory outside the store, or a store location outside this directory.",
            nameof(directory));
    }
}
