namespace Konduktor.Storage;

/// <summary>
/// Where runtime outputs live (a public contract, documented in the README):
/// <c>{run}/outputs/{scope}/{path}</c> the plain object (after the final sync, or a published artifact);
/// <c>{run}/outputs/.konduktor/{scope}/{path}.meta</c> the output's record (length, checksum, and the pieces while a
/// growing file is synced incrementally); <c>{run}/outputs/.konduktor/{scope}/{path}.pieces/…</c> those pieces.
/// Output paths below are relative to <c>{run}/outputs/</c> and start with the scope.
/// </summary>
internal static class OutputLayout
{
    /// <summary>The folder, under a run's outputs, of the library's own records; no scope may take this name.</summary>
    public const string InternalFolder = ".konduktor";

    public const string MetaSuffix = ".meta";

    public const string PiecesSuffix = ".pieces/";

    public static string Root(string run) => run + "/outputs/";

    public static string PlainKey(string run, string path) => Root(run) + path;

    public static string InternalRoot(string run) => Root(run) + InternalFolder + "/";

    public static string MetaKey(string run, string path) => InternalRoot(run) + path + MetaSuffix;

    /// <summary>The folder of a file's pieces, relative to <see cref="InternalRoot"/>.</summary>
    public static string PiecesFolder(string path) => path + PiecesSuffix;

    /// <summary>Checks an output path (scope first) and throws naming what is wrong.</summary>
    /// <exception cref="ArgumentException">Not a valid relative key, or inside the library's own folder.</exception>
    public static void ValidatePath(string path, string paramName)
    {
        ObjectKey.Validate(path, paramName);
        if (path == InternalFolder || path.StartsWith(InternalFolder + "/", StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{ObjectKey.Printable(path)}' is not a valid output path: '{InternalFolder}/' is the library's own folder.", paramName);
        }
    }

    /// <summary>Normalizes a prefix: empty (everything) or a path, without a trailing '/'.</summary>
    /// <exception cref="ArgumentException">Not a valid prefix.</exception>
    public static string NormalizePrefix(string? prefix, string paramName)
    {
        var trimmed = (prefix ?? "").TrimEnd('/');
        if (trimmed.Length > 0)
        {
            ValidatePath(trimmed, paramName);
        }

        return trimmed;
    }
}
