namespace Konduktor.Storage;

// The publish protocol: temporary files, create-only publishing with link(2), deletes, and the folders around them.
public sealed partial class FileSystemCheckpointStore
{
    // Striped rather than per key so the table never grows; shared by every store in the process so two stores over one
    // root still serialise conditional deletes against publishes.
    private static readonly Lock[] KeyLocks = [.. Enumerable.Range(0, 64).Select(_ => new Lock())];

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

            if (errno == Posix.ENOENT && attempt < 3)
            {
                // A concurrent delete removed the (empty) parent folder between creating it and publishing: create it again.
                continue;
            }

            if (errno == Posix.EEXIST && createOnly && !Directory.Exists(final))
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
            return Posix.EEXIST;
        }
    }

    private static Lock KeyLockOf(string path) =>
        KeyLocks[(int)((uint)StringComparer.Ordinal.GetHashCode(path) % (uint)KeyLocks.Length)];

    private string NewTempPath(string purpose) => Path.Join(_tempFolder, $"{purpose}-{Guid.NewGuid():N}.tmp");

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
            if (errno == Posix.ENOENT)
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
            return Posix.ENOENT;
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
}
