using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Konduktor.Storage.Testing;

/// <summary>Hashes a client expects the finished object to have, from <c>x-goog-hash</c> or the resource's <c>crc32c</c>/<c>md5Hash</c>.</summary>
internal sealed record GcsExpectedHashes(string? Crc32C, string? Md5)
{
    public static readonly GcsExpectedHashes None = new(null, null);

    /// <summary>Parses <c>x-goog-hash: crc32c=…,md5=…</c> (one header or several).</summary>
    public static GcsExpectedHashes FromHeader(string header)
    {
        string? crc32c = null, md5 = null;
        foreach (var part in header.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            var algorithm = equals < 0 ? part : part[..equals];
            var value = equals < 0 ? "" : part[(equals + 1)..];
            if (algorithm.Equals("crc32c", StringComparison.OrdinalIgnoreCase))
            {
                crc32c = value;
            }
            else if (algorithm.Equals("md5", StringComparison.OrdinalIgnoreCase))
            {
                md5 = value;
            }
            else
            {
                throw GcsError.BadRequest($"Invalid x-goog-hash part '{part}': expected crc32c=… or md5=….");
            }
        }

        return new GcsExpectedHashes(crc32c, md5);
    }

    /// <summary>400 when a given hash differs from the content's; nothing is stored then.</summary>
    public void Verify(GcsContent content, string source)
    {
        if (Crc32C is not null && Crc32C != content.Crc32C)
        {
            throw GcsError.BadRequest($"Provided CRC32C \"{Crc32C}\" ({source}) doesn't match calculated CRC32C \"{content.Crc32C}\".");
        }

        if (Md5 is not null && Md5 != content.Md5)
        {
            throw GcsError.BadRequest($"Provided MD5 hash \"{Md5}\" ({source}) doesn't match calculated MD5 hash \"{content.Md5}\".");
        }
    }
}

/// <summary>The object resource a client sends with a multipart upload or a resumable initiation (the fields this server honours).</summary>
internal sealed record GcsUploadResource(string? Name, string? ContentType, IReadOnlyDictionary<string, string>? Metadata, GcsExpectedHashes Hashes)
{
    public static readonly GcsUploadResource Empty = new(null, null, null, GcsExpectedHashes.None);

    private static readonly HashSet<string> IgnoredFields = new(StringComparer.Ordinal) { "kind", "bucket", "size" };

    /// <summary>Parses the JSON resource, gunzipping it first when the request says <c>Content-Encoding: gzip</c>.</summary>
    public static GcsUploadResource Parse(byte[] body, string contentEncoding, string bucket)
    {
        if (contentEncoding.Equals("gzip", StringComparison.OrdinalIgnoreCase))
        {
            using var gunzip = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
            using var plain = new MemoryStream();
            gunzip.CopyTo(plain);
            body = plain.ToArray();
        }
        else if (contentEncoding.Length > 0 && !contentEncoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            throw GcsError.NotImplemented($"Content-Encoding: {contentEncoding} on an object resource");
        }

        if (body.Length == 0)
        {
            return Empty;
        }

        JsonObject resource;
        try
        {
            resource = JsonNode.Parse(body) as JsonObject ?? throw GcsError.BadRequest("The object resource is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw GcsError.BadRequest($"The object resource is not valid JSON: {e.Message}");
        }

        string? name = null, contentType = null, crc32c = null, md5 = null;
        Dictionary<string, string>? metadata = null;
        foreach (var (field, value) in resource)
        {
            switch (field)
            {
                case "name":
                    name = Text(field, value);
                    break;
                case "contentType":
                    contentType = Text(field, value);
                    break;
                case "crc32c":
                    crc32c = Text(field, value);
                    break;
                case "md5Hash":
                    md5 = Text(field, value);
                    break;
                case "metadata" when value is JsonObject map:
                    metadata = map.ToDictionary(p => p.Key, p => Text($"metadata.{p.Key}", p.Value) ?? "", StringComparer.Ordinal);
                    break;
                case "bucket" when value is not null && Text(field, value) != bucket:
                    throw GcsError.BadRequest($"The resource's bucket '{value}' differs from the bucket in the path '{bucket}'.");
                default:
                    if (value is not null && !IgnoredFields.Contains(field) && field != "metadata")
                    {
                        throw GcsError.NotImplemented($"the object resource field '{field}'");
                    }

                    break;
            }
        }

        return new GcsUploadResource(name, contentType, metadata, new GcsExpectedHashes(crc32c, md5));
    }

    private static string? Text(string field, JsonNode? value) => value switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => throw GcsError.BadRequest($"The object resource field '{field}' must be a string."),
    };
}

/// <summary>A parsed <c>Content-Range</c> of a resumable-session PUT: <c>bytes A-B/TOTAL</c>, <c>bytes A-B/*</c>, <c>bytes */TOTAL</c> or <c>bytes */*</c>.</summary>
internal sealed record GcsContentRange(long? First, long? Last, long? Total)
{
    /// <summary>A status query (or a finalisation with an empty body): no bytes carried.</summary>
    public bool IsQuery => First is null;

    public long Length => IsQuery ? 0 : Last!.Value - First!.Value + 1;

    public static GcsContentRange Parse(string header, long? contentLength)
    {
        if (header.Length == 0)
        {
            // A PUT without Content-Range uploads the whole object in one request.
            return contentLength is > 0 and var length ? new GcsContentRange(0, length - 1, length) : new GcsContentRange(null, null, 0);
        }

        var invalid = GcsError.BadRequest($"Invalid Content-Range '{header}': expected 'bytes A-B/TOTAL', 'bytes A-B/*', 'bytes */TOTAL' or 'bytes */*'.");
        if (!header.StartsWith("bytes ", StringComparison.OrdinalIgnoreCase))
        {
            throw invalid;
        }

        var parts = header[6..].Trim().Split('/');
        if (parts.Length != 2)
        {
            throw invalid;
        }

        long? total = parts[1] == "*" ? null : Number(parts[1]) ?? throw invalid;
        if (parts[0] == "*")
        {
            return new GcsContentRange(null, null, total);
        }

        var dash = parts[0].IndexOf('-', StringComparison.Ordinal);
        if (dash < 0 || Number(parts[0][..dash]) is not { } first || Number(parts[0][(dash + 1)..]) is not { } last || last < first)
        {
            throw invalid;
        }

        if (total is { } t && last >= t)
        {
            throw GcsError.BadRequest($"Invalid Content-Range '{header}': the range ends past the total size.");
        }

        return new GcsContentRange(first, last, total);
    }

    private static long? Number(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
}
