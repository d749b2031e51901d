using System.Collections.Concurrent;
using System.Net;

using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Konduktor.Storage.Testing;

/// <summary>
/// The upload endpoint <c>/upload/storage/v1/b/{bucket}/o</c>: <c>uploadType=media</c>, <c>multipart</c> and
/// <c>resumable</c> (initiation, chunks, status queries, cancellation).
/// </summary>
internal sealed class GcsUploads(GcsBuckets buckets, GcsTestServerFaults faults, GcsTestServerCounters counters, Func<Uri> endpoint)
    : IDisposable
{
    /// <summary>GCS requires every chunk but the last to be a multiple of 256 KiB.</summary>
    public const int ChunkGranularity = 256 * 1024;

    private static readonly string[] UploadParameters = ["uploadType", "name", .. GcsPreconditions.Parameters];

    private readonly ConcurrentDictionary<string, ResumableSession> _sessions = new(StringComparer.Ordinal);

    /// <summary>POST: a media or multipart upload, or the initiation of a resumable session.</summary>
    public async Task PostAsync(GcsRequest request, string bucket)
    {
        var uploadType = request.RequiredString("uploadType");
        request.AllowOnly($"POST /upload (uploadType={uploadType})", UploadParameters);
        switch (uploadType)
        {
            case "media":
                await MediaAsync(request, bucket).ConfigureAwait(false);
                break;
            case "multipart":
                await MultipartAsync(request, bucket).ConfigureAwait(false);
                break;
            case "resumable":
                await InitiateAsync(request, bucket).ConfigureAwait(false);
                break;
            default:
                throw GcsError.NotImplemented($"uploadType={uploadType}");
        }
    }

    /// <summary>PUT on a session URI: a chunk, the last chunk, or a status query.</summary>
    public async Task PutAsync(GcsRequest request, string bucket)
    {
        request.AllowOnly("PUT /upload (a resumable session)", "uploadType", "upload_id", "name");
        var session = Session(request, bucket);
        RejectContentEncoding(request);
        var range = GcsContentRange.Parse(request.Header("Content-Range"), request.Context.Request.ContentLength);
        if (request.Context.Request.ContentLength is { } sent && sent != range.Length)
        {
            throw GcsError.BadRequest($"Content-Length {sent} differs from the {range.Length} bytes Content-Range '{request.Header("Content-Range")}' announces.");
        }

        var hashes = GcsExpectedHashes.FromHeader(request.Header("x-goog-hash"));
        var cancellationToken = request.Context.RequestAborted;
        if (!range.IsQuery && faults.TryTakeReset(out var afterBytes))
        {
            counters.FaultInjected();
            await GcsHttp.SkipAsync(request.Context.Request, Math.Min(afterBytes, range.Length), cancellationToken).ConfigureAwait(false);
            request.Context.Abort();
            return;
        }

        var chunk = range.IsQuery ? [] : await GcsHttp.ReadToEndAsync(request.Context.Request, cancellationToken).ConfigureAwait(false);
        if (chunk.Length != range.Length)
        {
            throw GcsError.BadRequest($"The body has {chunk.Length} bytes; Content-Range '{request.Header("Content-Range")}' announces {range.Length}.");
        }

        var (done, persisted) = session.Accept(range, chunk, hashes, buckets);
        if (done is not null)
        {
            await GcsHttp.WriteJsonAsync(request.Context, 200, GcsJson.Object(done, BaseUri)).ConfigureAwait(false);
            return;
        }

        // 308 "Resume Incomplete" with the persisted range; no Range header while nothing is persisted, as GCS answers.
        if (persisted > 0)
        {
            request.Context.Response.Headers.Range = $"bytes=0-{GcsHttp.Invariant(persisted - 1)}";
        }

        GcsHttp.WriteEmpty(request.Context, 308);
    }

    /// <summary>DELETE on a session URI cancels the session (GCS answers 499).</summary>
    public void Cancel(GcsRequest request, string bucket)
    {
        request.AllowOnly("DELETE /upload (a resumable session)", "uploadType", "upload_id", "name");
        var session = Session(request, bucket);
        _sessions.TryRemove(session.Id, out _);
        session.Cancel();
        GcsHttp.WriteEmpty(request.Context, 499);
    }

    private Uri BaseUri => new(endpoint(), "storage/v1/");

    public void Dispose()
    {
        foreach (var session in _sessions.Values)
        {
            session.Dispose();
        }
    }

    private ResumableSession Session(GcsRequest request, string bucket)
    {
        var id = request.RequiredString("upload_id");
        return _sessions.TryGetValue(id, out var session) && session.Bucket == bucket
            ? session
            : throw new GcsError(404, "notFound", $"No such upload session: upload_id={id} in bucket {bucket}.");
    }

    private async Task MediaAsync(GcsRequest request, string bucket)
    {
        buckets.RequireBucket(bucket);
        RejectContentEncoding(request);
        var name = ValidName(request.RequiredString("name"));
        var contentType = request.Context.Request.ContentType is { Length: > 0 } type ? type : null;
        var bytes = await GcsHttp.ReadToEndAsync(request.Context.Request, request.Context.RequestAborted).ConfigureAwait(false);
        await StoreAsync(request, bucket, new GcsObjectProperties(name, contentType ?? DefaultContentType, null), bytes, GcsExpectedHashes.None).ConfigureAwait(false);
    }

    private async Task MultipartAsync(GcsRequest request, string bucket)
    {
        buckets.RequireBucket(bucket);
        RejectContentEncoding(request);
        if (!MediaTypeHeaderValue.TryParse(request.Context.Request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/related", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 } boundary)
        {
            throw GcsError.BadRequest($"A multipart upload needs Content-Type: multipart/related; boundary=…, not '{request.Context.Request.ContentType}'.");
        }

        var reader = new MultipartReader(boundary, request.Context.Request.Body);
        var cancellationToken = request.Context.RequestAborted;
        // Each part is read before the next is asked for: moving on drains the current one.
        var metadataPart = await reader.ReadNextSectionAsync(cancellationToken).ConfigureAwait(false) ?? throw MultipartShape();
        var resource = GcsUploadResource.Parse(await ReadPartAsync(metadataPart, cancellationToken).ConfigureAwait(false), "", bucket);
        var mediaPart = await reader.ReadNextSectionAsync(cancellationToken).ConfigureAwait(false) ?? throw MultipartShape();
        var bytes = await ReadPartAsync(mediaPart, cancellationToken).ConfigureAwait(false);
        if (await reader.ReadNextSectionAsync(cancellationToken).ConfigureAwait(false) is not null)
        {
            throw MultipartShape();
        }

        var properties = Properties(request, resource, mediaPart.ContentType);
        await StoreAsync(request, bucket, properties, bytes, resource.Hashes).ConfigureAwait(false);
    }

    private async Task InitiateAsync(GcsRequest request, string bucket)
    {
        buckets.RequireBucket(bucket);
        var body = await GcsHttp.ReadToEndAsync(request.Context.Request, request.Context.RequestAborted).ConfigureAwait(false);
        var resource = GcsUploadResource.Parse(body, request.Header("Content-Encoding"), bucket);
        var properties = Properties(request, resource, request.Header("X-Upload-Content-Type"));
        long? declaredLength = null;
        if (request.Header("X-Upload-Content-Length") is { Length: > 0 } declared)
        {
            declaredLength = long.TryParse(declared, out var value) && value >= 0
                ? value
                : throw GcsError.BadRequest($"Invalid X-Upload-Content-Length '{declared}'.");
        }

        var preconditions = GcsPreconditions.From(request);
        preconditions.CheckWrite(buckets.Find(bucket, properties.Name));
        var session = new ResumableSession(Guid.NewGuid().ToString("N"), bucket, properties, preconditions, declaredLength, resource.Hashes);
        _sessions[session.Id] = session;
        // The session URI names the host the client used, as GCS does: a client behind a proxy keeps sending its chunks there.
        var host = request.Context.Request.Host;
        var root = host.HasValue && IPAddress.TryParse(host.Host, out var address) && IPAddress.IsLoopback(address)
            ? new Uri($"http://{host.Value}/")
            : endpoint();
        var location = new Uri(root, $"upload/storage/v1/b/{Uri.EscapeDataString(bucket)}/o?uploadType=resumable&upload_id={session.Id}");
        request.Context.Response.Headers.Location = location.AbsoluteUri;
        request.Context.Response.Headers["X-GUploader-UploadID"] = session.Id;
        GcsHttp.WriteEmpty(request.Context, 200);
    }

    private async Task StoreAsync(GcsRequest request, string bucket, GcsObjectProperties properties, byte[] bytes, GcsExpectedHashes resourceHashes)
    {
        var content = new GcsContent([bytes]);
        resourceHashes.Verify(content, "object resource");
        GcsExpectedHashes.FromHeader(request.Header("x-goog-hash")).Verify(content, "x-goog-hash");
        var stored = buckets.Put(bucket, properties, content, GcsPreconditions.From(request));
        await GcsHttp.WriteJsonAsync(request.Context, 200, GcsJson.Object(stored, BaseUri)).ConfigureAwait(false);
    }

    private const string DefaultContentType = "application/octet-stream";

    private static GcsObjectProperties Properties(GcsRequest request, GcsUploadResource resource, string? fallbackContentType)
    {
        var name = resource.Name ?? request.String("name") ?? throw new GcsError(400, "required", "Required: the object name (resource 'name' or query 'name').");
        if (resource.Name is not null && request.String("name") is { } queried && queried != resource.Name)
        {
            throw GcsError.BadRequest($"The query name '{queried}' differs from the resource name '{resource.Name}'.");
        }

        var contentType = resource.ContentType ?? (string.IsNullOrEmpty(fallbackContentType) ? DefaultContentType : fallbackContentType);
        return new GcsObjectProperties(ValidName(name), contentType, resource.Metadata);
    }

    /// <summary>GCS object names are 1–1024 bytes of UTF-8 without carriage return or line feed.</summary>
    private static string ValidName(string name) =>
        name.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(name) > 1024 || name.Contains('\r', StringComparison.Ordinal) || name.Contains('\n', StringComparison.Ordinal)
            ? throw GcsError.BadRequest($"Invalid object name '{name}': 1–1024 bytes of UTF-8 without CR or LF.")
            : name;

    private static void RejectContentEncoding(GcsRequest request)
    {
        if (request.Header("Content-Encoding") is { Length: > 0 } encoding && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            throw GcsError.NotImplemented($"Content-Encoding: {encoding} on object data");
        }
    }

    private static GcsError MultipartShape() =>
        GcsError.BadRequest("A multipart upload has exactly two parts: the JSON object resource, then the media.");

    private static async Task<byte[]> ReadPartAsync(MultipartSection section, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await section.Body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }
}
