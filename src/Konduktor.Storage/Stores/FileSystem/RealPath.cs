namespace Konduktor.Storage;

/// <summary>
/// Resolves symbolic links the way the kernel does (like realpath(3)), but also for paths whose tail does not exist
/// yet, so the store can check where a write would land before it creates anything.
/// </summary>
internal static class RealPath
{
    private const int MaxLinks = 40;

    /// <summary>Returns <paramref name="absolutePath"/> with every symbolic link in it resolved and '.'/'..' removed.</summary>
    /// <exception cref="IOException">The path has too many levels of symbolic links (a loop).</exception>
    internal static string Resolve(string absolutePath)
    {
        if (!FileSystemNative.IsPosix)
        {
            return Path.GetFullPath(absolutePath);
        }

        var pending = new Stack<string>();
        Push(pending, absolutePath);
        var result = "/";
        var links = 0;
        while (pending.TryPop(out var part))
        {
            if (part is "" or ".")
            {
                continue;
            }

            if (part == "..")
            {
                result = Path.GetDirectoryName(result) ?? "/";
                continue;
            }

            var candidate = Path.Join(result, part);
            var target = new FileInfo(candidate).LinkTarget;
            if (target is null)
            {
                // Not a link, or not there (yet): either way the kernel would use it as it is.
                result = candidate;
                continue;
            }

            if (++links > MaxLinks)
            {
                throw new IOException($"Too many levels of symbolic links resolving '{absolutePath}'.");
            }

            Push(pending, target);
            if (target.StartsWith('/'))
            {
                result = "/";
            }
        }

        return result;
    }

    /// <summary>Whether <paramref name="path"/> is <paramref name="directory"/> or inside it (both resolved).</summary>
    internal static bool IsUnder(string path, string directory) =>
        path == directory
        || (path.StartsWith(directory, StringComparison.Ordinal)
            && (directory.EndsWith(Path.DirectorySeparatorChar) || path[directory.Length] == Path.DirectorySeparatorChar));

    private static void Push(Stack<string> pending, string path)
    {
        var parts = path.Split('/');
        for (var i = parts.Length - 1; i >= 0; i--)
        {
            pending.Push(parts[i]);
        }
    }
}
