using System.Runtime.CompilerServices;

namespace Konduktor.Storage;

/// <summary>
/// The listing skeleton of a bucket store: argument checks, the page loop, and the merge of a page's objects and rolled-up
/// folders into ordinal order with the store's prefix taken off. The service supplies only the request of one page.
/// A source file shared by the store packages, compiled into each of them.
/// </summary>
internal static class BucketListing
{
    /// <summary>The most names one page of either service holds, whatever is asked.</summary>
    public const int MaxPageSize = 1000;

    /// <summary>Lists <paramref name="prefix"/> page by page.</summary>
    /// <param name="prefix">The key prefix relative to the store.</param>
    /// <param name="options">Page size and delimiter.</param>
    /// <param name="fetchPage">Fetches one page: (delimiter or <see langword="null"/>, page size, continuation token) to its entries and the next token.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="ListOptions.PageSize"/> is less than 1.</exception>
    public static async IAsyncEnumerable<StoreEntry> ListAsync(
        string prefix,
        ListOptions? options,
        Func<string?, int, string?, CancellationToken, Task<(IEnumerable<StoreEntry> Entries, string? Next)>> fetchPage,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ObjectKey.ValidatePrefix(prefix);
        var pageSize = options?.PageSize ?? MaxPageSize;
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1, "options.PageSize");
        pageSize = Math.Min(pageSize, MaxPageSize);
        var delimiter = string.IsNullOrEmpty(options?.Delimiter) ? null : options.Delimiter;
        string? token = null;
        do
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (entries, next) = await fetchPage(delimiter, pageSize, token, cancellationToken).ConfigureAwait(false);
            foreach (var entry in entries)
            {
                yield return entry;
            }

            token = next;
        }
        while (!string.IsNullOrEmpty(token));
    }

    /// <summary>A page's objects and rolled-up folders, merged into ordinal order, with the store's prefix taken off.</summary>
    /// <remarks>An object no key can name (e.g. a "folder marker" ending in '/') is left out: it cannot be read through the store either.</remarks>
    public static List<StoreEntry> Merge<TObject>(
        BucketPath path, IEnumerable<TObject?> objects, IEnumerable<string?> folders, Func<TObject, string?> nameOf, Func<string, TObject, ObjectInfo> infoOf)
    {
        var entries = new List<StoreEntry>();
        foreach (var folder in folders)
        {
            if (path.KeyOf(folder) is { } key)
            {
                entries.Add(new StoreEntry(key, true, null));
            }
        }

        foreach (var obj in objects)
        {
            if (obj is not null && path.KeyOf(nameOf(obj)) is { } key && ObjectKey.Check(key) is null)
            {
                entries.Add(new StoreEntry(key, false, infoOf(key, obj)));
            }
        }

        entries.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return entries;
    }
}
