namespace Konduktor.Storage;

/// <summary>Progress of a save or a restore, reported through <see cref="IProgress{T}"/> as bytes move.</summary>
/// <param name="Step">The checkpoint's step.</param>
/// <param name="File">The file being transferred.</param>
/// <param name="FileBytes">Bytes of <paramref name="File"/> transferred so far.</param>
/// <param name="FileLength">The file's length when known.</param>
/// <param name="TotalBytes">Bytes of the whole checkpoint transferred so far.</param>
public readonly record struct TransferProgress(long Step, string File, long FileBytes, long? FileLength, long TotalBytes);
