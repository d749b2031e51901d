
namespace Konduktor.Storage;

/// <summary>What a save of a local directory does with the symbolic links in it.</summary>
public enum SymbolicLinkPolicy
{
    /// <summary>
    /// A link is saved as what it points to, under the link's own name: a link to a file (inside the directory or outside
    /// it) as that file's content, a link to a directory as that directory's files. A link that points nowhere, a loop of
    /// links, a link to a directory that contains it (which would never end) and a link to a special file fail the save,
    /// naming the link.
    /// </summary>
    Follow,

    /// <summary>Any symbolic link in the directory fails the save, naming the link.</summary>
    Refuse,
}
