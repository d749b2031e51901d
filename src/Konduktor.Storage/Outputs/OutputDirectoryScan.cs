namespace Konduktor.Storage;

/// <summary>
/// Finds the files the output sync mirrors: regular files under the directory, and symbolic links to regular files that
/// stay inside it. Everything else is reported, never read: special files (a pipe may never end), links that point
/// nowhere or outside the directory, links to directories (their files are synced where they really are, or not at all
/// when outside), and directories that cannot be listed.
/// </summary>
internal static class OutputDirectoryScan
{
    /// <summary>One file to sync: its path relative to the root ('/'-separated) and its local path.</summary>
    public sealed record Entry(string Name, string LocalPath);

    public static (List<Entry> Files, List<OutputSyncProblem> Problems) Scan(string root, CancellationToken cancellationToken)
    {
        var files = new List<Entry>();
        var problems = new List<OutputSyncProblem>();
        var realRoot = RealPath.Resolve(root);
        Walk(root, "", realRoot, files, problems, cancellationToken);
        files.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return (files, problems);
    }

    private static void Walk(string directory, string prefix, string realRoot, List<Entry> files, List<OutputSyncProblem> problems, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        string[] entries;
        try
        {
            entries = Directory.GetFileSystemEntries(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add(new(prefix.TrimEnd('/'), $"the directory cannot be listed: {e.Message}"));
            return;
        }

        foreach (var path in entries)
        {
            var name = prefix + Path.GetFileName(path);
            if (ObjectKey.Check(name) is { } invalid)
            {
                problems.Add(new(name, $"its name cannot be an object key: {invalid}"));
                continue;
            }

            try
            {
                switch (LocalFileSource.KindOf(path, followLinks: false))
                {
                    case LocalFileKind.Regular:
                        files.Add(new(name, path));
                        break;
                    case LocalFileKind.Directory:
                        Walk(path, name + "/", realRoot, files, problems, cancellationToken);
                        break;
                    case LocalFileKind.SymbolicLink:
                        CheckLink(path, name, realRoot, files, problems);
                        break;
                    case LocalFileKind.Missing:
                        break; // deleted since the listing
                    case var special:
                        problems.Add(new(name, $"it is {LocalFileSource.Describe(special)}, not a regular file: not read, as reading it may never end"));
                        break;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                problems.Add(new(name, e.Message));
            }
        }
    }

    private static void CheckLink(string path, string name, string realRoot, List<Entry> files, List<OutputSyncProblem> problems)
    {
        var target = new FileInfo(path).LinkTarget ?? "?";
        var kind = LocalFileSource.KindOf(path, followLinks: true);
        if (kind is LocalFileKind.Missing or LocalFileKind.LinkLoop)
        {
            var what = kind == LocalFileKind.Missing ? "does not exist" : "is part of a loop of symbolic links";
            problems.Add(new(name, $"it is a symbolic link to '{target}', which {what}: nothing to sync"));
            return;
        }

        var real = RealPath.Resolve(path);
        if (!RealPath.IsUnder(real, realRoot))
        {
            problems.Add(new(name, $"it is a symbolic link to '{target}', which is outside the synced directory '{realRoot}': not read"));
            return;
        }

        if (kind == LocalFileKind.Regular)
        {
            files.Add(new(name, path));
        }
        else if (kind != LocalFileKind.Directory)
        {
            problems.Add(new(name, $"it is a symbolic link to {LocalFileSource.Describe(kind)}, not a regular file: not read"));
        }

        // A link to a directory inside the root is not followed: its files are synced where they really are.
    }
}
