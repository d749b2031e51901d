using System.Buffers;
using System.IO.Hashing;

namespace Konduktor.Storage.Stores;

/// <summary>
/// The checksum of a checkpoint file, computed while the bytes stream through (xxHash128: several GB/s on one core,
/// far faster than any network). Its text form names the algorithm, <c>xxh128:&lt;32 hex digits&gt;</c>, so the
/// algorithm can change later without breaking old manifests.
/// </summary>
public sealed class ContentHash
{
    /// <summary>The algorithm prefix of the text form.</summary>
    public const string Algorithm = "xxh128";

    private static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789abcdef");

    private readonly XxHash128 _hash = new();

    /// <summary>How many bytes went in so far.</summary>
    public long Length { get; private set; }

    /// <summary>Adds bytes to the hash.</summary>
    /// <param name="data">The next bytes of the content.</param>
    public void Append(ReadOnlySpan<byte> data)
    {
        _hash.Append(data);
        Length += data.Length;
    }

    /// <summary>The checksum of the bytes so far, as <c>xxh128:…</c>.</summary>
    public string Current() => Format(_hash.GetCurrentHash());

    /// <summary>The checksum of <paramref name="data"/>, as <c>xxh128:…</c>.</summary>
    /// <param name="data">The whole content.</param>
    public static string Of(ReadOnlySpan<byte> data) => Format(XxHash128.Hash(data));

    /// <summary>Whether <paramref name="checksum"/> is a checksum this library can verify.</summary>
    /// <param name="checksum">A manifest's checksum value.</param>
    public static bool IsSupported(string? checksum) =>
        checksum is { Length: 39 } && checksum.StartsWith(Algorithm + ":", StringComparison.Ordinal)
        && checksum.AsSpan(7).ContainsAnyExcept(HexDigits) is false;

    private static string Format(byte[] hash) => $"{Algorithm}:{Convert.ToHexStringLower(hash)}";
}
