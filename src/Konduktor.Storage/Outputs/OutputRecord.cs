using System.Text.Json;
using System.Text.Json.Serialization;

namespace Konduktor.Storage;

/// <summary>
/// The record of one output (<c>…/.konduktor/{path}.meta</c>): what its newest synced content is and where its bytes are.
/// Written after the bytes it names, so a reader never finds a record whose bytes are not there yet.
/// </summary>
/// <param name="Format">Always <see cref="CurrentFormat"/>.</param>
/// <param name="Path">The output's path (scope first).</param>
/// <param name="Length">The content's length.</param>
/// <param name="Checksum">The whole content's checksum (<c>xxh128:…</c>).</param>
/// <param name="ModifiedUtc">When this content was synced.</param>
/// <param name="Pieces">
/// <see langword="null"/> when the content is the plain object at its path; else the pieces that, in order, make it up.
/// </param>
internal sealed record OutputRecord(string Format, string Path, long Length, string Checksum, DateTimeOffset ModifiedUtc, IReadOnlyList<OutputPiece>? Pieces)
{
    public const string CurrentFormat = "konduktor-output/1";

    /// <summary>Records larger than this are refused unread (a growing file keeps a few dozen pieces).</summary>
    public const int MaxBytes = 4 * 1024 * 1024;

    public bool IsPlain => Pieces is null;

    public OutputFileInfo ToInfo() => new(Path, Length, Checksum, ModifiedUtc, IsPlain);

    public byte[] Serialize() => JsonSerializer.SerializeToUtf8Bytes(this, OutputJsonContext.Default.OutputRecord);

    /// <summary>Reads a record and checks that it is whole and about <paramref name="path"/>.</summary>
    /// <returns>The record, or <see langword="null"/> with <paramref name="problem"/> saying why it cannot be trusted.</returns>
    public static OutputRecord? Parse(ReadOnlySpan<byte> json, string path, out string? problem)
    {
        OutputRecord? record;
        try
        {
            record = JsonSerializer.Deserialize(json, OutputJsonContext.Default.OutputRecord);
        }
        catch (JsonException e)
        {
            problem = $"its record is not valid JSON ({e.Message})";
            return null;
        }

        problem = record switch
        {
            null => "its record is empty",
            { Format: not CurrentFormat } => $"its record has the format '{record.Format}', not '{CurrentFormat}'",
            _ when record.Path != path => $"its record names the path '{ObjectKey.Printable(record.Path)}'",
            { Length: < 0 } => "its record has a negative length",
            _ when !Stores.ContentHash.IsSupported(record.Checksum) => $"its record has the checksum '{record.Checksum}', which this library cannot verify",
            { Pieces: { } pieces } => CheckPieces(path, record.Length, pieces),
            _ => null,
        };
        return problem is null ? record : null;
    }

    /// <summary>Pieces must lie in the output's own pieces folder and cover its content exactly, in order.</summary>
    private static string? CheckPieces(string path, long length, IReadOnlyList<OutputPiece> pieces)
    {
        var folder = OutputLayout.PiecesFolder(path);
        long offset = 0;
        foreach (var piece in pieces)
        {
            if (piece is null || piece.Key is null || !piece.Key.StartsWith(folder, StringComparison.Ordinal) || ObjectKey.Check(piece.Key) is not null
                || piece.Key.AsSpan(folder.Length).Contains('/'))
            {
                return $"its record names a piece outside '{ObjectKey.Printable(folder)}'";
            }

            if (piece.Offset != offset || piece.Length < 0 || !Stores.ContentHash.IsSupported(piece.Checksum))
            {
                return $"its record's piece '{ObjectKey.Printable(piece.Key)}' does not continue at byte {offset} with a valid length and checksum";
            }

            offset += piece.Length;
        }

        return offset == length ? null : $"its record's pieces hold {offset} bytes, not {length}";
    }
}

/// <summary>One piece of a growing file: the bytes [<paramref name="Offset"/>, +<paramref name="Length"/>).</summary>
/// <param name="Key">The piece's key, relative to <c>{run}/outputs/.konduktor/</c>.</param>
/// <param name="Offset">Where in the file the piece starts.</param>
/// <param name="Length">How many bytes it holds.</param>
/// <param name="Checksum">Its bytes' checksum.</param>
internal sealed record OutputPiece(string Key, long Offset, long Length, string Checksum);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(OutputRecord))]
internal sealed partial class OutputJsonContext : JsonSerializerContext;
