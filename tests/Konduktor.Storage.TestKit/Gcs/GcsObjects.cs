using System.Globalization;
using System.Text.Json.Nodes;

using Microsoft.AspNetCore.Http;

namespace Konduktor.Storage.Testing;

/// <summary>The bucket and object endpoints under <c>/storage/v1/b/{bucket}</c>: bucket get, object get (metadata or <c>alt=media</c>), list, delete.</summary>
internal sealed class GcsObjects(GcsBuckets buckets, Func<Uri> endpoint)
{
    private const int MaxPageSize = 1000;

    private Uri BaseUri => new(endpoint(), "storage/v1/");

    public Task GetBucketAsync(GcsRequest request, string bucket)
    {
        request.AllowOnly("GET /storage/v1/b/{bucket}");
        RequireJson(request);
        var created = buckets.Created(bucket) ?? throw GcsError.BucketNotFound(bucket);
        return GcsHttp.WriteJsonAsync(request.Context, 200, GcsJson.Bucket(bucket, created));
    }

    public Task GetAsync(GcsRequest request, string bucket, string name)
    {
        request.AllowOnly("GET /storage/v1/b/{bucket}/o/{object}", ["generation", .. GcsPreconditions.Parameters]);
        var preconditions = GcsPreconditions.From(request);
        var stored = Find(request, bucket, name);
        preconditions.CheckRead(stored);
        return request.String("alt") == "media" ? DownloadAsync(request.Context, stored) : WriteResourceAsync(request, stored);
    }

    public Task ListAsync(GcsRequest request, string bucket)
    {
        request.AllowOnly("GET /storage/v1/b/{bucket}/o", "prefix", "delimiter", "maxResults", "pageToken", "startOffset", "endOffset", "versions", "includeTrailingDelimiter", "includeFoldersAsPrefixes", "softDeleted");
        RequireJson(request);
        foreach (var unsupported in (string[])["versions", "includeTrailingDelimiter", "includeFoldersAsPrefixes", "softDeleted"])
        {
            request.RequireFalseOrAbsent(unsupported);
        }

        var maxResults = request.Int64("maxResults") ?? MaxPageSize;
        if (maxResults < 1)
        {
            throw GcsError.BadRequest($"Invalid maxResults {maxResults}: at least 1.");
        }

        var query = new GcsListQuery(
            request.String("prefix") ?? "",
            request.String("delimiter"),
            (int)Math.Min(maxResults, MaxPageSize),
            request.String("pageToken"),
            request.String("startOffset"),
            request.String("endOffset"));
        var page = buckets.List(bucket, query);
        var body = new JsonObject { ["kind"] = "storage#objects" };
        if (page.NextPageToken is { } token)
        {
            body["nextPageToken"] = token;
        }

        // GCS leaves out empty arrays.
        if (page.Prefixes.Count > 0)
        {
            body["prefixes"] = new JsonArray([.. page.Prefixes.Select(p => JsonValue.Create(p))]);
        }

        if (page.Items.Count > 0)
        {
            body["items"] = new JsonArray([.. page.Items.Select(item => GcsJson.Object(item, BaseUri))]);
        }

        return GcsHttp.WriteJsonAsync(request.Context, 200, body);
    }

    public void Delete(GcsRequest request, string bucket, string name)
    {
        request.AllowOnly("DELETE /storage/v1/b/{bucket}/o/{object}", ["generation", .. GcsPreconditions.Parameters]);
        buckets.Delete(bucket, name, request.Int64("generation"), GcsPreconditions.From(request));
        GcsHttp.WriteEmpty(request.Context, 204);
    }

    /// <summary>The live object, or 404; with <c>generation=</c>, only if that is the live generation (older ones are not kept).</summary>
    private GcsStoredObject Find(GcsRequest request, string bucket, string name)
    {
        var stored = buckets.Find(bucket, name);
        return stored is not null && (request.Int64("generation") is not { } generation || generation == stored.Generation)
            ? stored
            : throw GcsError.ObjectNotFound(bucket, name);
    }

    private Task WriteResourceAsync(GcsRequest request, GcsStoredObject stored)
    {
        RequireJson(request);
        return GcsHttp.WriteJsonAsync(request.Context, 200, GcsJson.Object(stored, BaseUri));
    }

    /// <summary>
    /// Streams the object from its stored array. A whole read carries <c>x-goog-hash</c>; a ranged one answers 206 without
    /// it, since the whole object's hash cannot check a part.
    /// </summary>
    private static async Task DownloadAsync(HttpContext context, GcsStoredObject stored)
    {
        var size = stored.Content.Length;
        (long Offset, long Length)? range;
        try
        {
            range = ByteRange.Parse(context.Request.Headers.Range.ToString(), size);
        }
        catch (GcsError e) when (e.Status == 416)
        {
            context.Response.Headers.ContentRange = $"bytes */{size}";
            throw;
        }

        var headers = context.Response.Headers;
        headers["x-goog-generation"] = GcsHttp.Invariant(stored.Generation);
        headers["x-goog-metageneration"] = GcsHttp.Invariant(GcsStoredObject.Metageneration);
        headers["x-goog-stored-content-length"] = GcsHttp.Invariant(size);
        headers["x-goog-stored-content-encoding"] = "identity";
        headers.ETag = GcsJson.ETag(stored);
        headers.LastModified = stored.Created.ToString("R", CultureInfo.InvariantCulture);
        headers.AcceptRanges = "bytes";
        var (offset, length) = (0L, size);
        if (range is { } part)
        {
            (offset, length) = part;
            context.Response.StatusCode = 206;
            headers.ContentRange = $"bytes {offset}-{offset + length - 1}/{size}";
        }
        else
        {
            context.Response.StatusCode = 200;
            headers["x-goog-hash"] = $"crc32c={stored.Crc32C},md5={stored.Md5}";
        }

        context.Response.ContentType = stored.ContentType;
        context.Response.ContentLength = length;
        await stored.Content.WriteToAsync(context.Response.Body, offset, length, context.RequestAborted).ConfigureAwait(false);
    }

    private static void RequireJson(GcsRequest request)
    {
        if (request.String("alt") is { } alt && alt != "json")
        {
            throw alt == "media" ? GcsError.BadRequest("alt=media only applies to object reads.") : GcsError.NotImplemented($"alt={alt}");
        }
    }

    /// <summary>One <c>Range: bytes=…</c> of a download (<c>a-b</c>, <c>a-</c> or <c>-n</c>), clamped to the object like GCS does.</summary>
    private static class ByteRange
    {
        public static (long Offset, long Length)? Parse(string header, long size)
        {
            if (header.Length == 0)
            {
                return null;
            }

            if (!header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase))
            {
                throw GcsError.BadRequest($"Invalid Range '{header}': expected bytes=….");
            }

            var spec = header[6..].Trim();
            if (spec.Contains(',', StringComparison.Ordinal))
            {
                throw GcsError.NotImplemented($"multiple ranges (Range: {header})");
            }

            var dash = spec.IndexOf('-', StringComparison.Ordinal);
            var first = dash > 0 ? Number(spec[..dash], header) : null;
            var last = dash >= 0 && dash < spec.Length - 1 ? Number(spec[(dash + 1)..], header) : null;
            if (dash < 0 || (first is null && last is null) || (first is { } f && last is { } l && l < f))
            {
                throw GcsError.BadRequest($"Invalid Range '{header}'.");
            }

            if (first is null)
            {
                // A suffix: the last n bytes.
                return last == 0 || size == 0 ? throw Unsatisfiable(header, size) : (size - Math.Min(last!.Value, size), Math.Min(last.Value, size));
            }

            if (first >= size)
            {
                throw Unsatisfiable(header, size);
            }

            var end = Math.Min(last ?? (size - 1), size - 1);
            return (first.Value, end - first.Value + 1);
        }

        private static long? Number(string text, string header) =>
            long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : throw GcsError.BadRequest($"Invalid Range '{header}'.");

        private static GcsError Unsatisfiable(string header, long size) =>
            new(416, "requestedRangeNotSatisfiable", $"The requested range cannot be satisfied: {header} of an object of {size} bytes.");
    }
}
