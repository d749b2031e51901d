using System.Runtime.CompilerServices;

using Microsoft.Win32.SafeHandles;

namespace Konduktor.Storage;

/// <summary>
/// A store that keeps objects as plain files under one root directory: the embedded default, for a local disk or a
/// mounted volume (PVC, NFS, hostPath). Keys map to paths under the root ('/' is the directory separator).
/// </summary>
/// <remarks>
/// <para>
/// Writes go to a temporary file in <see cref="TempFolderName"/> under the root, are flushed to disk, and are then
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
public sealed class FileSystemCheckpointStore : ICheckpointStore, ILocalFileStore
{
    /// <summary>The folder under the root that holds writes in progress; never listed, and no key may start with it.</summary>
    public const string TempFolderName = ".konduktor-tmp";

    // Striped rather than per key so the table never grows; shared by every store in the process so two stores over one
    // root still serialise conditional deletes against publishes.
    private static readonly Lock[] KeyLocks = [.. Enumerable.Range(0, 64).Select(_ => new Lock())];

    private static readonly EnumerationOptions DirectoryListing = new()
    {
        AttributesToSkip = 0,
        IgnoreInaccessible = false,
        MatchType = MatchType.Simple,
        RecurseSubdirectories = false,
        ReturnSpecialDirectories = false,
    };

    private static readonly EnumerationOptions AnyFileBelow = new()
    {
        AttributesToSkip = FileAttributes.ReparsePoint,
        IgnoreInaccessible = true,
        MatchType = MatchType.Simple,
        RecurseSubdirectories = true,
        ReturnSpecialDirectories = false,
    };

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
    public async Task<ObjectInfo> PutAsync(string key, Stream content, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var writer = await OpenWriteAsync(key, options, cancellationToken).ConfigureAwait(false);
        await using (writer.ConfigureAwait(false))
        {
            await content.CopyToAsync(writer, cancellationToken).ConfigureAwait(false);
            return await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }
    }

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

    /// <summary>Publishes a flushed temporary file under <paramref name="key"/>; called by the writer.</summary>
    internal ObjectInfo Publish(string key, string tempPath, bool createOnly)
    {
        var (parent, final) = ResolveParent(key);
        for (var attempt = 0; ; attempt++)
        {
            CreateFolders(parent);
            int errno;
            lock (KeyLockOf(final))
            {
                errno = !FileSystemNative.IsPosix ? PublishPortably(tempPath, final, createOnly)
                    : createOnly ? FileSystemNative.Link(tempPath, final)
                    : FileSystemNative.Rename(tempPath, final);
            }

            if (errno == 0)
            {
                break;
            }

            if (errno == FileSystemNative.ENOENT && attempt < 3)
            {
                // A concurrent delete removed the (empty) parent folder between creating it and publishing: create it again.
                continue;
            }

            if (errno == FileSystemNative.EEXIST && createOnly && !Directory.Exists(final))
            {
                throw new PreconditionFailedException(Location, key, "it already exists");
            }

            throw FileSystemNative.Error(errno, createOnly ? "create" : "replace", final);
        }

        FileSystemNative.FlushDirectory(parent);
        if (createOnly)
        {
            TryDeleteFile(tempPath);
        }

        return Describe(key, final) ?? throw new ObjectNotFoundException(Location, key);
    }

    /// <summary>Deletes a temporary file, ignoring failures (it is in the temp folder, which is never listed).</summary>
    internal static void TryDeleteFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Maps a permission failure to the exception users see.</summary>
    internal StoreAccessDeniedException AccessDenied(string detail, Exception? cause) =>
        new(Location, $"file-system permissions of {Environment.UserName}", detail, cause);

    private static string RootOf(Uri location)
    {
        // The one location parser, on the string the URI was made of (Uri would drop a fragment or query and rewrite dot segments).
        var parsed = CheckpointLocation.FromUri(location);
        return parsed.Scheme == "file"
            ? Path.TrimEndingDirectorySeparator(parsed.Uri.LocalPath)
            : throw new ArgumentException($"'{location.OriginalString}' is not a local file location (expected file:///abs/dir).", nameof(location));
    }

    private static int PublishPortably(string tempPath, string final, bool createOnly)
    {
        try
        {
            // Where link(2) is not available, MoveFileEx without replace is itself atomic.
            File.Move(tempPath, final, overwrite: !createOnly);
            return 0;
        }
        catch (IOException) when (createOnly && File.Exists(final))
        {
            return FileSystemNative.EEXIST;
        }
    }

    private static Lock KeyLockOf(string path) =>
        KeyLocks[(int)((uint)StringComparer.Ordinal.GetHashCode(path) % (uint)KeyLocks.Length)];

    private static bool FillPage(IEnumerator<StoreEntry> walk, List<StoreEntry> page, int pageSize)
    {
        while (page.Count < pageSize)
        {
            if (!walk.MoveNext())
            {
                return false;
            }

            page.Add(walk.Current);
        }

        return true;
    }

    private static bool ContainsObject(string directory)
    {
        try
        {
            using var files = Directory.EnumerateFiles(directory, "*", AnyFileBelow).GetEnumerator();
            return files.MoveNext();
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
    }

    private void ValidateKey(string key)
    {
        ObjectKey.Validate(key);
        if (key.StartsWith(TempFolderName, StringComparison.Ordinal) && (key.Length == TempFolderName.Length || key[TempFolderName.Length] == '/'))
        {
            throw new ArgumentException($"'{ObjectKey.Printable(key)}' is not a valid key for {Location}: '{TempFolderName}' is reserved for writes in progress.", nameof(key));
        }
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

    /// <summary>The real folder that holds <paramref name="key"/> and the path of the key in it, refusing links out of the root.</summary>
    private (string Parent, string Final) ResolveParent(string key)
    {
        var slash = key.LastIndexOf('/');
        var parent = slash < 0 ? _root : ResolveInside(key, key[..slash]);
        return (parent, Path.Join(parent, slash < 0 ? key : key[(slash + 1)..]));
    }

    /// <summary>The real path of the file behind <paramref name="key"/>, refusing links out of the root.</summary>
    private string ResolveReadable(string key)
    {
        var (_, final) = ResolveParent(key);
        return new FileInfo(final).LinkTarget is null ? final : ResolveInside(key, key);
    }

    private string ResolveInside(string key, string relative)
    {
        var real = RealPath.Resolve(Path.Join(_root, relative));
        if (!RealPath.IsUnder(real, _root) || real == _root)
        {
            throw AccessDenied($"'{ObjectKey.Printable(key)}' goes through a symbolic link that leads outside the store's root, to '{real}'", null);
        }

        if (RealPath.IsUnder(real, _tempFolder))
        {
            throw AccessDenied($"'{ObjectKey.Printable(key)}' goes through a symbolic link into the store's temp folder", null);
        }

        return real;
    }

    private string NewTempPath(string purpose) => Path.Join(_tempFolder, $"{purpose}-{Guid.NewGuid():N}.tmp");

    private static ObjectInfo? Describe(string key, string path) =>
        FileSystemNative.TryStat(path, out var identity)
            ? new ObjectInfo(key, identity.Length, identity.LastModified, identity.ETag)
            : null;

    /// <summary>Creates the missing folders from the root down to <paramref name="directory"/>, flushing each new entry.</summary>
    private void CreateFolders(string directory)
    {
        if (Directory.Exists(directory))
        {
            return;
        }

        if (!Directory.Exists(_root))
        {
            Directory.CreateDirectory(_root);
        }

        var current = _root;
        foreach (var part in Path.GetRelativePath(_root, directory).Split(Path.DirectorySeparatorChar))
        {
            var next = Path.Join(current, part);
            if (!Directory.Exists(next))
            {
                Directory.CreateDirectory(next);
                FileSystemNative.FlushDirectory(current);
            }

            current = next;
        }
    }

    private bool Delete(string key, string? ifMatch)
    {
        var (parent, final) = ResolveParent(key);
        if (new FileInfo(final).LinkTarget is not null)
        {
            // Checks where the link leads; the link itself is what gets deleted.
            _ = ResolveInside(key, key);
        }

        Directory.CreateDirectory(_tempFolder);
        var grave = NewTempPath("del");
        lock (KeyLockOf(final))
        {
            if (!FileSystemNative.TryStat(final, out var current))
            {
                return false;
            }

            if (ifMatch is not null && current.ETag != ifMatch)
            {
                throw new PreconditionFailedException(Location, key, $"expected version {ifMatch}, found {current.ETag}");
            }

            // Renaming first makes the delete atomic: of two deletes only one finds the file.
            var errno = FileSystemNative.IsPosix ? FileSystemNative.Rename(final, grave) : MovePortably(final, grave);
            if (errno == FileSystemNative.ENOENT)
            {
                return false;
            }

            if (errno != 0)
            {
                throw FileSystemNative.Error(errno, "delete", final);
            }

            if (ifMatch is not null && (!FileSystemNative.TryStat(grave, out var moved) || moved.ETag != ifMatch))
            {
                // Another process replaced the file between the check and the rename: put its version back unless an
                // even newer one took the key meanwhile (which would have replaced it anyway).
                _ = FileSystemNative.IsPosix ? FileSystemNative.Link(grave, final) : MovePortably(grave, final);
                TryDeleteFile(grave);
                throw new PreconditionFailedException(Location, key, $"expected version {ifMatch}, found another version written concurrently");
            }

            TryDeleteFile(grave);
        }

        FileSystemNative.FlushDirectory(parent);
        RemoveEmptyFolders(parent);
        return true;
    }

    private static int MovePortably(string from, string to)
    {
        try
        {
            File.Move(from, to, overwrite: false);
            return 0;
        }
        catch (FileNotFoundException)
        {
            return FileSystemNative.ENOENT;
        }
    }

    /// <summary>Removes now-empty folders up to the root; a folder a writer fills meanwhile is simply left.</summary>
    private void RemoveEmptyFolders(string directory)
    {
        var current = directory;
        while (current.Length > _root.Length && RealPath.IsUnder(current, _root))
        {
            try
            {
                Directory.Delete(current, recursive: false);
            }
            catch (IOException)
            {
                return;
            }
            catch (UnauthorizedAccessException)
            {
                return;
            }

            current = Path.GetDirectoryName(current)!;
        }
    }

    /// <summary>Yields the entries under <paramref name="prefix"/> in ordinal key order, one folder read at a time.</summary>
    private IEnumerable<StoreEntry> Walk(string prefix, string? delimiter)
    {
        var slash = prefix.LastIndexOf('/');
        var folderKey = prefix[..(slash + 1)];
        var namePrefix = prefix[(slash + 1)..];
        var start = folderKey.Length == 0 ? _root : ResolveInside(prefix, folderKey[..^1]);
        var rollUpFolders = delimiter == "/";
        string? lastRolledUp = null;
        var stack = new Stack<IEnumerator<WalkItem>>();
        stack.Push(ReadFolder(start, folderKey, namePrefix).GetEnumerator());
        while (stack.TryPeek(out var top))
        {
            if (!top.MoveNext())
            {
                top.Dispose();
                _ = stack.Pop();
                continue;
            }

            var item = top.Current;
            if (item.IsFolder)
            {
                if (!rollUpFolders)
                {
                    stack.Push(ReadFolder(item.Path, item.Key + "/", string.Empty).GetEnumerator());
                }
                else if (ContainsObject(item.Path))
                {
                    // Folders left empty by deletes are not objects, so they roll up into nothing.
                    yield return new StoreEntry(item.Key + "/", true, null);
                }

                continue;
            }

            var cut = string.IsNullOrEmpty(delimiter) ? -1 : item.Key.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal);
            if (cut >= 0)
            {
                // Keys sharing a folder are adjacent in ordinal order, so remembering the last folder suffices.
                var folder = item.Key[..(cut + delimiter!.Length)];
                if (folder != lastRolledUp)
                {
                    lastRolledUp = folder;
                    yield return new StoreEntry(folder, true, null);
                }

                continue;
            }

            if (Describe(item.Key, item.Path) is { } info)
            {
                yield return new StoreEntry(item.Key, false, info);
            }
        }
    }

    /// <summary>
    /// One folder's entries, sorted so that walking depth-first yields keys in ordinal order: a folder sorts as its name
    /// plus '/', which is where all of its keys sort ("a-b" &lt; "a.b" &lt; "a/…" &lt; "a0").
    /// </summary>
    private static List<WalkItem> ReadFolder(string directory, string keyPrefix, string namePrefix)
    {
        var items = new List<WalkItem>();
        if (!Directory.Exists(directory))
        {
            return items;
        }

        try
        {
            foreach (var info in new DirectoryInfo(directory).EnumerateFileSystemInfos("*", DirectoryListing))
            {
                if (!info.Name.StartsWith(namePrefix, StringComparison.Ordinal)
                    || (keyPrefix.Length == 0 && info.Name == TempFolderName)
                    || info.Attributes.HasFlag(FileAttributes.ReparsePoint))
                {
                    continue;
                }

                var key = keyPrefix + info.Name;
                if (ObjectKey.Check(key) is not null)
                {
                    // A file no key can name (placed by something else) cannot be read through the store either.
                    continue;
                }

                var isFolder = info is DirectoryInfo;
                items.Add(new WalkItem(key, info.FullName, isFolder, isFolder ? info.Name + "/" : info.Name));
            }
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }

        items.Sort(static (a, b) => string.CompareOrdinal(a.SortName, b.SortName));
        return items;
    }

    private readonly record struct WalkItem(string Key, string Path, bool IsFolder, string SortName);
}
