namespace Konduktor.Storage;

// Listing: a directory walk that yields keys in ordinal order, one folder read at a time.
public sealed partial class FileSystemCheckpointStore
{
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
