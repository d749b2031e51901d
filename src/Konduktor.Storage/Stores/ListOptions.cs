namespace Konduktor.Storage.Stores;

/// <summary>Options of one listing.</summary>
public sealed class ListOptions
{
    /// <summary>Rolls keys up into "folders" at the first occurrence of this string after the prefix (usually "/"). Default: none.</summary>
    public string? Delimiter { get; init; }

    /// <summary>How many entries to fetch per request. Default: 1000.</summary>
    public int PageSize { get; init; } = 1000;
}
