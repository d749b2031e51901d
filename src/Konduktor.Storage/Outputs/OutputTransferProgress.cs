namespace Konduktor.Storage;

/// <summary>Where a pull of outputs stands, reported through <see cref="IProgress{T}"/> as the bytes arrive.</summary>
/// <param name="Path">The output being downloaded (see <see cref="OutputFileInfo.Path"/>).</param>
/// <param name="FileBytes">Bytes of <paramref name="Path"/> downloaded so far.</param>
/// <param name="FileLength">The length of <paramref name="Path"/>.</param>
/// <param name="TotalBytes">Bytes of the whole pull downloaded so far.</param>
/// <param name="TotalLength">The length of everything the pull downloads.</param>
/// <param name="FilesDone">Files downloaded and verified so far.</param>
/// <param name="FileCount">Files the pull downloads.</param>
public readonly record struct OutputTransferProgress(string Path, long FileBytes, long FileLength, long TotalBytes, long TotalLength, int FilesDone, int FileCount);
