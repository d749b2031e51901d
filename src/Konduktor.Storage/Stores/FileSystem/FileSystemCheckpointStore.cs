using System.Runtime.CompilerServices;

using Microsoft.Win32.SafeHandles;

namespace Konduktor.Storage;

/// <summary>
/// A store that keeps objects as plain files under one root directory: the embedded default, for a local disk or a
/// mounted volume (PVC, NFS, hostPath). Keys map to paths under the root ('/' is the directory separator).
/// </summary>
/// <remarks>
/// <para>
/// Writes go to a temporary file in <c>.konduktor-tmp</c> under the root, are flushed to disk, and are then
/// published with rename(2) (unconditional writes) or link(2) (create-only writes, which fail atomically when the key is
/// taken), after which the parent directory is flushed too. A partial write is never visible under its key.
/// </para>
/// <para>
/// The store never reads or writes outside its root: a symbolic link inside the root is followed only when it resolves
/// inside the root, and listings skip symbolic links altogether (so a link can neither loop nor show an object twice).
/// A key and a folder cannot share a name on a file system: writing <c>a</c> while <c>a/b</c> exists fails with
/// <see cref="IOException"/>. Conditional deletes are atomic against writers in this process and verified against
/// writers in other processes.
/// </para>
/// </remarks>
public sealed partial class FileSystemCheckpointStore : ICheckpointStore, ILocalFileStore
{
    /// <summary>The folder under the root that holds writes in progress; never listed, and no key may start with it.</summary>
    internal const string TempFolderName = ".konduktor-tmp";

    private readonly string _root;
    private readonly string _tempFolder;

    /// <summary>Creates a store rooted at an absolute directory, which is created on the first write if missing.</summary>
    /// <param name="rootDirectory">An absolute path, e.g. <c>/data/checkpoints</c>.</param>
    /// <exception cref="ArgumentException">The path is empty, not absolute, or an existing file.</exception>
    public FileSystemCheckpointStore(string rootDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rootDirectory);
        if (!Path.IsPathFullyQualified(rootDirectory))
        {
            throw new ArgumentException($"The root directory '{rootDirectory}' is not an absolute path.", nameof(rootDirectory));
        }

        if (File.Exists(rootDirectory))
        {
            throw new ArgumentException($"The root directory '{rootDirectory}' is a file, not a directory.", nameof(rootDirectory));
        }

        var full = Path.GetFullPath(rootDirectory);
        var trimmed = Path.TrimEndingDirectorySeparator(full);
        Location = new UriBuilder(Uri.UriSchemeFile, string.Empty) { Path = trimmed.EndsWith(Path.DirectorySeparatorChar) ? trimmed : trimmed + Path.DirectorySeparatorChar }.Uri;
        _root = Path.TrimEndingDirectorySeparator(RealPath.Resolve(full));
        _tempFolder = Path.Join(_root, TempFolderName);
    }

    /// <summary>Creates a store rooted at a <c>file:///abs/dir</c> location.</summary>
    /// <param name="location">An absolute <c>file</c> URI without a host.</param>
    /// <exception cref="ArgumentException">The URI is relative, not exactly a local <c>file</c> URI (parsed like <see cref="CheckpointLocation.FromUri"/>: <c>file:///abs/dir</c>, <c>file:/abs/dir</c> or <c>file://localhost/abs/dir</c>, no query, fragment, empty or dot segments), or names a host.</exception>
    public FileSystemCheckpointStore(Uri location)
        : this(RootOf(location))
    {
    }

    /// <inheritdoc />
    public Uri Location { get; }

    /// <inheritdoc />
    public StoreCapabilities Capabilities { get; } = new() { CreateOnly = true, ConditionalDelete = true, ServerChecksumAlgorithm = null };

    /// <inheritdoc />
    string? ILocalFileStore.LocalRoot => Path.TrimEndingDirectorySeparator(Location.LocalPath);

    /// <inheritdoc />
    FileStream? ILocalFileStore.OpenLocalFile(string key) => OpenFile(key);

    /// <inheritdoc />
    async Task<long?> ILocalFileStore.AppendLocalFileAsync(
        ObjectWriteStream writer, SafeFileHandle source, long offset, long length, ContentHash hash, Action<long>? onProgress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(hash);
        return writer is FileSystemObjectWriter local && local.Store == this
            ? (await local.AppendFileAsync(source, offset, length, hash, onProgress, cancellationToken).ConfigureAwait(false)).Bytes
            : null;
    }

    /// <inheritdoc />
    /// <exception cref="StoreAccessDeniedException">File-system permissions refused the write, or the key leads outside the root.</exception>
    /// <exception cref="IOException">The disk is full, or a folder or file is in the way of the key.</exception>
    public Task<ObjectInfo> PutAsync(string key, Stream content, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default) =>
        StreamedPut.PutAsync(this, key, content, options, bufferSize: null, cancellationToken);

    /// <inheritdoc />
    /// <exception cref="StoreAccessDeniedException">File-system permissions refused the write, or the key leads outside the root.</exception>
    public Task<ObjectWriteStream> OpenWriteAsync(string key, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ValidateKey(key);
        cancellationToken.ThrowIfCancellationRequested();
        return Guard<ObjectWriteStream>(() =>
        {
            // Fail before any byte is written when the key could never be published.
            _ = ResolveParent(key);
            Directory.CreateDirectory(_tempFolder);
            return new FileSystemObjectWriter(this, key, NewTempPath("put"), options?.CreateOnly ?? false);
        });
    }

    /// <inheritdoc />
    /// <exception cref="StoreAccessDeniedException">File-system permissions refused the read, or the key leads outside the root.</exception>
    public Task<Stream> OpenReadAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default)
    {
        ValidateKey(key);
        range?.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        return Guard<Stream>(() =>
        {
            var file = OpenFile(key);
            if (range is not { } r)
            {
                return file;
            }

            var length = file.Length;
            var offset = Math.Min(r.Offset, length);
            var count = Math.Min(r.Length ?? long.MaxValue, length - offset);
            file.Position = offset;
            return new FileRangeReadStream(file, offset, count);
        });
    }

    /// <summary>Opens an object's file for reading (a restore copies it to a local file inside the kernel).</summary>
    /// <exception cref="ObjectNotFoundException">No object has that key.</exception>
    /// <exception cref="StoreAccessDeniedException">File-system permissions refused the read, or the key leads outside the root.</exception>
    private FileStream OpenFile(string key)
    {
        ValidateKey(key);
        return Mapped(() =>
        {
            var path = ResolveReadable(key);
            try
            {
                return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException
                                       || (ex is UnauthorizedAccessException && Directory.Exists(path))
                                       || (ex is IOException && !File.Exists(path)))
            {
                // A folder of other objects is not an object either.
                throw new ObjectNotFoundException(Location, key, ex);
            }
        });
    }

    /// <inheritdoc />
    /// <exception cref="StoreAccessDeniedException">File-system permissions refused the request, or the key leads outside the root.</exception>
    public Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default)
    {
        ValidateKey(key);
        cancellationToken.ThrowIfCancellationRequested();
        return Guard(() => Describe(key, ResolveReadable(key)));
    }

    /// <inheritdoc />
    /// <remarks>Each page of <see cref="ListOptions.PageSize"/> entries is read from disk on the thread pool; folders are read one at a time, so memory stays bounded by the largest folder.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="ListOptions.PageSize"/> is less than 1.</exception>
    /// <exception cref="StoreAccessDeniedException">File-system permissions refused reading a folder, or the prefix leads outside the root.</exception>
    public async IAsyncEnumerable<StoreEntry> ListAsync(string prefix, ListOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectKey.ValidatePrefix(prefix);
        var pageSize = options?.PageSize ?? 1000;
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1, "options.PageSize");
        using var walk = Walk(prefix, options?.Delimiter).GetEnumerator();
        var page = new List<StoreEntry>(Math.Min(pageSize, 4096));
        var more = true;
        while (more)
        {
            cancellationToken.ThrowIfCancellationRequested();
            page.Clear();
            more = await Task.Run(() => Mapped(() => FillPage(walk, page, pageSize)), cancellationToken).ConfigureAwait(false);
            foreach (var entry in page)
            {
                yield return entry;
            }
        }
    }

    /// <inheritdoc />
    /// <exception cref="StoreAccessDeniedException">File-system permissions refused the delete, or the key leads outside the root.</exception>
    public Task<bool> DeleteAsync(string key, string? ifMatch = null, CancellationToken cancellationToken = default)
    {
        ValidateKey(key);
        cancellationToken.ThrowIfCancellationRequested();
        return Guard(() => Delete(key, ifMatch));
    }

    private static string RootOf(Uri location)
    {
        // The one location parser, on the string the URI was made of (Uri would drop a fragment or query and rewrite dot segments).
        var parsed = CheckpointLocation.FromUri(location);
        return parsed.Scheme == "file"
            ? Path.TrimEndingDirectorySeparator(parsed.Uri.LocalPath)
            : throw new ArgumentException($"'{location.OriginalString}' is not a local file location (expected file:///abs/dir).", nameof(location));
    }

    private Task<T> Guard<T>(Func<T> operation)
    {
        try
        {
            return Task.FromResult(Mapped(operation));
        }
        catch (Exception ex) when (ex is CheckpointStorageException or IOException)
        {
            return Task.FromException<T>(ex);
        }
    }

    private T Mapped<T>(Func<T> operation)
    {
        try
        {
            return operation();
        }
        catch (UnauthorizedAccessException ex)
        {
            throw AccessDenied(ex.Message, ex);
        }
    }

    private static ObjectInfo? Describe(string key, string path) =>
        FileSystemNative.TryStat(path, out var identity)
            ? new ObjectInfo(key, identity.Length, identity.LastModified, identity.ETag)
            : null;
}
