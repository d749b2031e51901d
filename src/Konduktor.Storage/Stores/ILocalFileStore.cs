using Microsoft.Win32.SafeHandles;

namespace Konduktor.Storage.Stores;

/// <summary>
/// A store that keeps its objects as files on a local file system (the file-system store), or a decorator of one that
/// forwards these calls to the store it wraps. The manager finds it on the store it is given, so a decorator that forwards
/// it keeps the kernel copies (<c>copy_file_range</c>, like <c>cp</c>) of saves and restores and the refusal of local
/// directories that overlap the store. Every member answers "not here" (<see langword="null"/>) when the objects are not
/// local files after all, and callers then stream through <see cref="ICheckpointStore"/>.
/// </summary>
public interface ILocalFileStore
{
    /// <summary>
    /// The absolute path of the directory the objects are kept under, as configured; <see langword="null"/> when the store
    /// (e.g. a decorated one) keeps them elsewhere.
    /// </summary>
    string? LocalRoot { get; }

    /// <summary>Opens a stored object as a local file for reading; <see langword="null"/> when objects are not local files.</summary>
    /// <param name="key">The object's key.</param>
    /// <exception cref="ObjectNotFoundException">No object has that key.</exception>
    /// <exception cref="StoreAccessDeniedException">File-system permissions refused the read, or the key leads outside the root.</exception>
    FileStream? OpenLocalFile(string key);

    /// <summary>
    /// Appends <paramref name="length"/> bytes of the local file <paramref name="source"/> from <paramref name="offset"/>
    /// (fewer only if it ends first) to <paramref name="writer"/>, copied inside the kernel where the file system can,
    /// adding the bytes as the store holds them to <paramref name="hash"/>.
    /// </summary>
    /// <param name="writer">A writer this store's <see cref="ICheckpointStore.OpenWriteAsync"/> returned.</param>
    /// <param name="source">The local file to copy from.</param>
    /// <param name="offset">Where in <paramref name="source"/> to start.</param>
    /// <param name="length">How many bytes to copy at most.</param>
    /// <param name="hash">Receives the bytes appended, read back as stored.</param>
    /// <param name="onProgress">Receives the writer's length after each chunk.</param>
    /// <param name="cancellationToken">Cancels the copy.</param>
    /// <returns>
    /// How many bytes were appended; <see langword="null"/> when <paramref name="writer"/> does not write a local file of
    /// this store (the caller then streams the bytes into it).
    /// </returns>
    Task<long?> AppendLocalFileAsync(
        ObjectWriteStream writer, SafeFileHandle source, long offset, long length, ContentHash hash, Action<long>? onProgress, CancellationToken cancellationToken = default);
}
