namespace Konduktor.Storage;

/// <summary>
/// The local directory a restore fills, and how a verified download takes its place.
/// </summary>
/// <remarks>
/// <para>
/// An existing directory is filled in place and never renamed, so a mount point, a volume or the target of a symbolic link
/// works like any directory: the files are staged in a hidden folder inside it (on its own file system), and once all are
/// verified its previous entries are moved aside into a second hidden folder, the staged ones moved in, and the previous
/// ones deleted. A directory that does not exist yet is staged beside it, in its parent, and renamed into place. A symbolic
/// link as the target is followed (the link stays); a file there is refused.
/// </para>
/// <para>
/// Staging names have a fixed length, whatever the target's name. Until <see cref="Commit"/> succeeds the target is
/// unchanged; disposing removes the staging folder and any parent folders this restore created, and a swap that fails
/// half-way moves everything back first.
/// </para>
/// </remarks>
internal sealed class RestoreTarget : IDisposable
{
    private const string StagingPrefix = ".konduktor-restore-";
    private const string PreviousPrefix = ".konduktor-previous-";

    private static readonly EnumerationOptions EveryEntry = new()
    {
        AttributesToSkip = 0,
        IgnoreInaccessible = false,
        RecurseSubdirectories = false,
        ReturnSpecialDirectories = false,
    };

    private static readonly EnumerationOptions FoldersBelow = new()
    {
        AttributesToSkip = FileAttributes.ReparsePoint,
        IgnoreInaccessible = false,
        RecurseSubdirectories = true,
        ReturnSpecialDirectories = false,
    };

    private readonly string _id;
    private readonly bool _inPlace;
    private readonly string? _createdFolder;
    private bool _committed;

    private RestoreTarget(string directory, string id, bool inPlace, string? createdFolder)
    {
        Directory = directory;
        _id = id;
        _inPlace = inPlace;
        _createdFolder = createdFolder;
        Staging = Path.Join(inPlace ? directory : Path.GetDirectoryName(directory), StagingPrefix + id);
    }

    /// <summary>The directory being restored, symbolic links resolved.</summary>
    public string Directory { get; }

    /// <summary>Where the files are downloaded and verified before they take the target's place.</summary>
    public string Staging { get; }

    /// <summary>
    /// Checks <paramref name="directory"/> and creates the staging folder for it. Nothing is written when the directory is
    /// refused.
    /// </summary>
    /// <param name="directory">The directory the caller named.</param>
    /// <param name="store">The manager's store, which the directory must not overlap.</param>
    /// <exception cref="ArgumentException">
    /// The directory is a file-system root, overlaps a file-system store, is a file, or holds a mount point; the message
    /// names the path.
    /// </exception>
    public static RestoreTarget Create(string directory, ICheckpointStore store)
    {
        var (real, parent) = Check(directory, store);
        var id = Guid.NewGuid().ToString("N");
        if (System.IO.Directory.Exists(real))
        {
            var target = new RestoreTarget(real, id, inPlace: true, createdFolder: null);
            System.IO.Directory.CreateDirectory(target.Staging);
            return target;
        }

        var created = parent;
        while (Path.GetDirectoryName(created) is { } up && !Path.Exists(up))
        {
            created = up;
        }

        var fresh = new RestoreTarget(real, id, inPlace: false, Path.Exists(parent) ? null : created);
        try
        {
            System.IO.Directory.CreateDirectory(fresh.Staging);
        }
        catch
        {
            fresh.Dispose();
            throw;
        }

        return fresh;
    }

    /// <summary>
    /// Refuses <paramref name="directory"/> as <see cref="Create"/> would, without writing anything: a restore checks its
    /// target before it looks for a checkpoint, so a bad target is an error even when there is nothing to restore.
    /// </summary>
    /// <exception cref="ArgumentException">As for <see cref="Create"/>.</exception>
    public static void ThrowIfRefused(string directory, ICheckpointStore store) => Check(directory, store);

    private static (string Real, string Parent) Check(string directory, ICheckpointStore store)
    {
        var given = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        var real = RealPath.Resolve(given);
        var named = real == given ? $"'{given}'" : $"'{given}' (really '{real}')";
        var parent = Path.GetDirectoryName(real) ?? throw new ArgumentException($"Cannot restore into a file-system root: {named}.", nameof(directory));
        LocalStoreOverlap.ThrowIfOverlaps(store, directory, "restore into");
        if (System.IO.Directory.Exists(real))
        {
            ThrowIfHoldsMountPoint(given, real);
        }
        else if (Path.Exists(real))
        {
            throw new ArgumentException($"Cannot restore into {named}: it is a file, not a directory. Remove it or choose another directory.", nameof(directory));
        }

        return (real, parent);
    }

    /// <summary>Puts the verified staged files in place of the directory's content.</summary>
    /// <exception cref="IOException">The swap failed; the directory holds its previous content again, and the message says why.</exception>
    public void Commit()
    {
        if (_inPlace)
        {
            ReplaceContent();
        }
        else
        {
            System.IO.Directory.Move(Staging, Directory);
        }

        _committed = true;
    }

    /// <summary>Removes what an uncommitted restore created: the staging folder, and parent folders it had to create.</summary>
    public void Dispose()
    {
        if (_committed)
        {
            return;
        }

        TryDeleteDirectory(Staging);
        if (_createdFolder is null)
        {
            return;
        }

        for (var folder = Path.GetDirectoryName(Staging); folder is not null && RealPath.IsUnder(folder, _createdFolder); folder = Path.GetDirectoryName(folder))
        {
            try
            {
                System.IO.Directory.Delete(folder);
            }
            catch (IOException)
            {
                return;
            }
            catch (UnauthorizedAccessException)
            {
                return;
            }
        }
    }

    /// <summary>Refuses a directory with a mount point anywhere below it: replacing its content could neither move nor delete it.</summary>
    private static void ThrowIfHoldsMountPoint(string directory, string real)
    {
        foreach (var folder in System.IO.Directory.EnumerateDirectories(real, "*", FoldersBelow))
        {
            if (FileSystemNative.IsMountPoint(folder))
            {
                var shown = Path.Join(directory, Path.GetRelativePath(real, folder));
                throw new ArgumentException(
                    $"Cannot restore into '{directory}': '{shown}' inside it is a mount point, and a restore replaces the directory's whole content. Unmount it, or choose another directory.",
                    nameof(directory));
            }
        }
    }

    private static void Move(string from, string to)
    {
        if (!FileSystemNative.IsPosix)
        {
            if (System.IO.Directory.Exists(from))
            {
                System.IO.Directory.Move(from, to);
            }
            else
            {
                File.Move(from, to);
            }

            return;
        }

        // rename(2) moves any kind of entry (file, folder, link, socket) without following it.
        if (FileSystemNative.Rename(from, to) is var errno and not 0)
        {
            throw FileSystemNative.Error(errno, $"move to '{to}' the entry", from);
        }
    }

    private static void TryDeleteDirectory(string path, bool recursive = true)
    {
        try
        {
            if (System.IO.Directory.Exists(path))
            {
                System.IO.Directory.Delete(path, recursive);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Moves the previous entries aside, the staged ones in, and deletes the previous ones; on failure, moves everything back.</summary>
    private void ReplaceContent()
    {
        var previous = Path.Join(Directory, PreviousPrefix + _id);
        System.IO.Directory.CreateDirectory(previous);
        var old = System.IO.Directory.EnumerateFileSystemEntries(Directory, "*", EveryEntry)
            .Where(e => e != Staging && e != previous)
            .Select(Path.GetFileName)
            .ToList();
        var staged = System.IO.Directory.EnumerateFileSystemEntries(Staging, "*", EveryEntry).Select(Path.GetFileName).ToList();
        var movedOut = 0;
        var movedIn = 0;
        try
        {
            for (; movedOut < old.Count; movedOut++)
            {
                Move(Path.Join(Directory, old[movedOut]), Path.Join(previous, old[movedOut]));
            }

            for (; movedIn < staged.Count; movedIn++)
            {
                Move(Path.Join(Staging, staged[movedIn]), Path.Join(Directory, staged[movedIn]));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var restored = true;
            for (var i = movedIn - 1; i >= 0; i--)
            {
                restored &= TryMove(Path.Join(Directory, staged[i]), Path.Join(Staging, staged[i]));
            }

            for (var i = movedOut - 1; i >= 0; i--)
            {
                restored &= TryMove(Path.Join(previous, old[i]), Path.Join(Directory, old[i]));
            }

            if (!restored)
            {
                throw new IOException($"Could not replace the content of '{Directory}' with the restored checkpoint ({e.Message}), nor put all of its previous content back: what is missing is in '{previous}'.", e);
            }

            // Empty again: everything went back.
            TryDeleteDirectory(previous, recursive: false);
            throw new IOException($"Could not replace the content of '{Directory}' with the restored checkpoint, so its previous content was put back: {e.Message}", e);
        }

        TryDeleteDirectory(previous);
        TryDeleteDirectory(Staging);
    }

    private static bool TryMove(string from, string to)
    {
        try
        {
            Move(from, to);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
