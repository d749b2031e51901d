namespace Konduktor.Storage.Testing;

/// <summary>
/// Orders strings as their UTF-8 bytes compare, which is how GCS lists object names. Plain ordinal comparison of UTF-16
/// differs for characters above U+FFFF against U+E000–U+FFFF; shifting surrogates above that block fixes it.
/// </summary>
internal sealed class Utf8OrdinalComparer : IComparer<string>
{
    public static Utf8OrdinalComparer Instance { get; } = new();

    public int Compare(string? x, string? y)
    {
        if (x is null || y is null)
        {
            return x is null ? (y is null ? 0 : -1) : 1;
        }

        var length = Math.Min(x.Length, y.Length);
        for (var i = 0; i < length; i++)
        {
            if (x[i] != y[i])
            {
                return CodePointOrder(x[i]) - CodePointOrder(y[i]);
            }
        }

        return x.Length - y.Length;
    }

    private static int CodePointOrder(char c) => c < 0xD800 ? c : c >= 0xE000 ? c - 0x800 : c + 0x2000;
}
