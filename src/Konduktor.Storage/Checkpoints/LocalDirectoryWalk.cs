namespace Konduktor.Storage;

/// <summary>
/// Lists what <see cref="CheckpointManager.SaveDirectoryAsync"/> saves from a local directory: every regular file, named by
/// its path relative to the directory. Nothing is left out silently: a symbolic link is followed (saved as what it points
/// to, under its own name) or refused as <see cref="SymbolicLinkPolicy"/> says; a link that points nowhere, a loop of
/// links, a link back into a directory that contains it, and special files (pipes, sockets, devices) fail the walk, naming
/// the path, before anything is uploaded.
/// </summary>
internal static class LocalDirectoryWalk
{
    private const string OptionKey = CheckpointManagerOptions.SectionName + ":SymbolicLinks";

    /// <summary>The files under <paramref name="root"/>: their names in the checkpoint ('/'-separated) and their local paths, by name.</summary>
    /// <exception cref="IOException">A link, loop or special file the rule refuses; the message names it.</exception>
    /// <exception cref="UnauthorizedAccessException">A directory in the tree cannot be read.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    internal static List<(string Name, string Path)> Files(string root, SymbolicLinkPolicy links, CancellationToken cancellationToken) =>
        Files(root, links, storeRoot: null, cancellationToken);

    /// <summary>
    /// The files under <paramref name="root"/>, refusing a followed link to a directory that overlaps
    /// <paramref name="storeRoot"/> (a file-system store's root): it would copy the store into the checkpoint being written to it.
    /// </summary>
    internal static List<(string Name, string Path)> Files(string root, SymbolicLinkPolicy links, string? storeRoot, CancellationToken cancellationToken)
    {
        var files = new List<(string Name, string Path)>();

        // The real paths of the directories from the root down to the one being read: a link back to any of them (or to
        // a directory containing one) would be followed forever.
        var chain = new List<string> { RealPath.Resolve(root) };
        var walk = new Walker(links, storeRoot is null ? null : RealPath.Resolve(storeRoot), files, cancellationToken);
        walk.Walk(root, "", chain);
        files.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return files;
    }

    /// <summary>One walk: the rule, the store to keep clear of, and what it found so far.</summary>
    private sealed class Walker(SymbolicLinkPolicy links, string? storeRoot, List<(string Name, string Path)> files, CancellationToken cancellationToken)
    {
        public void Walk(string directory, string prefix, List<string> chain)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var entries = Directory.GetFileSystemEntries(directory);
            Array.Sort(entries, StringComparer.Ordinal);
            foreach (var path in entries)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var entryName = Path.GetFileName(path);
                var name = prefix + entryName;
                switch (LocalFileSource.KindOf(path, followLinks: false))
                {
                    case LocalFileKind.Regular:
                        files.Add((name, path));
                        break;
                    case LocalFileKind.Directory:
                        Descend(path, name, Path.Join(chain[^1], entryName), chain);
                        break;
                    case LocalFileKind.SymbolicLink:
                        FollowLink(path, name, chain);
                        break;
                    case LocalFileKind.Missing:
                        // Deleted since the directory was listed: it is not there to save.
                        break;
                    case var special:
                        throw LocalFileSource.NotARegularFile(path, special);
                }
            }
        }

        private void FollowLink(string path, string name, List<string> chain)
        {
            var target = new FileInfo(path).LinkTarget ?? "?";
            if (links == SymbolicLinkPolicy.Refuse)
            {
                throw new IOException(
                    $"'{path}' is a symbolic link (to '{target}'), and {OptionKey} is {SymbolicLinkPolicy.Refuse}: links are not saved. "
                    + $"Remove it, or set {OptionKey} to {SymbolicLinkPolicy.Follow} to save what it points to.");
            }

            switch (LocalFileSource.KindOf(path, followLinks: true))
            {
                case LocalFileKind.Regular:
                    // Opened through the link when it is copied: saved with the target's content, under the link's name.
                    files.Add((name, path));
                    break;
                case LocalFileKind.Directory:
                    var real = RealPath.Resolve(path);
                    if (chain.FirstOrDefault(c => RealPath.IsUnder(c, real)) is { } inside)
                    {
                        throw new IOException(
                            $"The symbolic link '{path}' points to '{target}', the directory '{real}', which contains '{inside}' where the link was reached: "
                            + "following it would loop forever. Remove the link, or point it at a directory outside its own ancestors.");
                    }

                    if (storeRoot is not null && (real == storeRoot || RealPath.IsUnder(real, storeRoot) || RealPath.IsUnder(storeRoot, real)))
                    {
                        throw new IOException(
                            $"The symbolic link '{path}' points to '{target}', the directory '{real}', which overlaps the root of the file-system checkpoint store, '{storeRoot}': "
                            + "following it would copy the store into the checkpoint being written to it. Remove the link, or keep the store elsewhere.");
                    }

                    Descend(path, name, real, chain);
                    break;
                case LocalFileKind.Missing:
                    throw new IOException($"The symbolic link '{path}' points to '{target}', which does not exist: there is nothing to save under its name. Remove the link, or create what it points to.");
                case LocalFileKind.LinkLoop:
                    throw new IOException($"The symbolic link '{path}' (to '{target}') is part of a loop of symbolic links: it names no file. Remove the loop.");
                case var special:
                    throw new IOException(
                        $"The symbolic link '{path}' points to '{target}', which is {LocalFileSource.Describe(special)}, not a regular file, so it cannot be saved: "
                        + "reading a pipe, a socket or a device may never end. Remove the link from the directory.");
            }
        }

        private void Descend(string path, string name, string real, List<string> chain)
        {
            chain.Add(real);
            Walk(path, name + "/", chain);
            chain.RemoveAt(chain.Count - 1);
        }
    }
}
