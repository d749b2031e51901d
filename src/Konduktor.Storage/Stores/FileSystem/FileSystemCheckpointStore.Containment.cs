namespace Konduktor.Storage;

// Root containment: keys are checked, and paths resolved so that no symbolic link leads outside the root.
public sealed partial class FileSystemCheckpointStore
{
    /// <summary>Maps a permission failure to the exception users see.</summary>
    internal StoreAccessDeniedException AccessDenied(string detail, Exception? cause) =>
        new(Location, $"file-system permissions of {Environment.UserName}", detail, cause);

    private void ValidateKey(string key)
    {
        ObjectKey.Validate(key);
        if (key.StartsWith(TempFolderName, StringComparison.Ordinal) && (key.Length == TempFolderName.Length || key[TempFolderName.Length] == '/'))
        {
            throw new ArgumentException($"'{ObjectKey.Printable(key)}' is not a valid key for {Location}: '{TempFolderName}' is reserved for writes in progress.", nameof(key));
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
}
