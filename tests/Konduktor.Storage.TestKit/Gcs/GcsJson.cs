using System.Globalization;
using System.Text.Json.Nodes;

namespace Konduktor.Storage.Testing;

/// <summary>The JSON documents of the GCS JSON API: resources and errors, with numbers as strings where GCS writes them so.</summary>
internal static class GcsJson
{
    public static JsonObject Bucket(string name, DateTimeOffset created) => new()
    {
        ["kind"] = "storage#bucket",
        ["id"] = name,
        ["name"] = name,
        ["projectNumber"] = "0",
        ["metageneration"] = "1",
        ["location"] = "US",
        ["storageClass"] = "STANDARD",
        ["etag"] = "CAE=",
        ["timeCreated"] = Time(created),
        ["updated"] = Time(created),
    };

    public static JsonObject Object(GcsStoredObject stored, Uri baseUri)
    {
        var generation = stored.Generation.ToString(CultureInfo.InvariantCulture);
        var path = $"b/{Uri.EscapeDataString(stored.Bucket)}/o/{Uri.EscapeDataString(stored.Name)}";
        var resource = new JsonObject
        {
            ["kind"] = "storage#object",
            ["id"] = $"{stored.Bucket}/{stored.Name}/{generation}",
            ["selfLink"] = new Uri(baseUri, path).AbsoluteUri,
            ["mediaLink"] = new Uri(baseUri, $"{path}?generation={generation}&alt=media").AbsoluteUri,
            ["name"] = stored.Name,
            ["bucket"] = stored.Bucket,
            ["generation"] = generation,
            ["metageneration"] = GcsStoredObject.Metageneration.ToString(CultureInfo.InvariantCulture),
            ["contentType"] = stored.ContentType,
            ["storageClass"] = "STANDARD",
            ["size"] = stored.Content.Length.ToString(CultureInfo.InvariantCulture),
            ["md5Hash"] = stored.Md5,
            ["crc32c"] = stored.Crc32C,
            ["etag"] = ETag(stored),
            ["timeCreated"] = Time(stored.Created),
            ["updated"] = Time(stored.Created),
            ["timeStorageClassUpdated"] = Time(stored.Created),
        };
        if (stored.Metadata is { Count: > 0 } metadata)
        {
            var map = new JsonObject();
            foreach (var (key, value) in metadata)
            {
                map[key] = value;
            }

            resource["metadata"] = map;
        }

        return resource;
    }

    public static JsonObject Error(GcsError error) => new()
    {
        ["error"] = new JsonObject
        {
            ["code"] = error.Status,
            ["message"] = error.Message,
            ["errors"] = new JsonArray(new JsonObject
            {
                ["domain"] = "global",
                ["reason"] = error.Reason,
                ["message"] = error.Message,
            }),
        },
    };

    /// <summary>Like GCS's, the etag changes with every generation (GCS encodes generation and metageneration).</summary>
    public static string ETag(GcsStoredObject stored) =>
        Convert.ToBase64String(BitConverter.GetBytes(stored.Generation)).TrimEnd('=');

    private static string Time(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
