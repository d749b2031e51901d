using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

using Konduktor.Storage.Testing;

namespace Konduktor.Storage.TestKit.Tests;

/// <summary>Starts a <see cref="GcsTestServer"/> with one bucket per test and speaks its JSON API with a raw <see cref="HttpClient"/>.</summary>
public abstract class GcsTestServerTestBase : IAsyncLifetime
{
    protected const string Bucket = "bkt";
    protected const int Chunk = 256 * 1024;

    protected GcsTestServer Server { get; private set; } = null!;

    protected HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await GcsTestServer.StartAsync();
        Server.CreateBucket(Bucket);

        // 308 is GCS's "Resume Incomplete", not a redirect to follow.
        Http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = Server.Endpoint, Timeout = TimeSpan.FromSeconds(60) };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }

    protected static byte[] Bytes(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    protected static string ObjectPath(string name, string bucket = Bucket) =>
        $"storage/v1/b/{bucket}/o/{Uri.EscapeDataString(name)}";

    protected async Task<HttpResponseMessage> UploadMediaAsync(string name, byte[] content, string query = "", string bucket = Bucket, string? hash = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"upload/storage/v1/b/{bucket}/o?uploadType=media&name={Uri.EscapeDataString(name)}{query}")
        {
            Content = new ByteArrayContent(content),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (hash is not null)
        {
            request.Headers.Add("x-goog-hash", hash);
        }

        return await Http.SendAsync(request);
    }

    /// <summary>Starts a resumable session the way Google's .NET client does (gzip-compressed JSON resource).</summary>
    protected async Task<HttpResponseMessage> InitiateAsync(string name, string query = "", string bucket = Bucket, string resourceJson = "", long? declaredLength = null)
    {
        var json = resourceJson.Length > 0 ? resourceJson : JsonSerializer.Serialize(new { name });
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(json));
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, $"upload/storage/v1/b/{bucket}/o?uploadType=resumable{query}")
        {
            Content = new ByteArrayContent(compressed.ToArray()),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Content.Headers.ContentEncoding.Add("gzip");
        if (declaredLength is { } length)
        {
            request.Headers.Add("X-Upload-Content-Length", length.ToString(CultureInfo.InvariantCulture));
        }

        return await Http.SendAsync(request);
    }

    protected async Task<Uri> StartSessionAsync(string name, string query = "")
    {
        using var response = await InitiateAsync(name, query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.Location!;
    }

    /// <summary>PUTs <paramref name="body"/> to a session with <c>Content-Range: <paramref name="range"/></c>.</summary>
    protected async Task<HttpResponseMessage> PutAsync(Uri session, byte[] body, string range, string? hash = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, session) { Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Range", range);
        if (hash is not null)
        {
            request.Headers.Add("x-goog-hash", hash);
        }

        return await Http.SendAsync(request);
    }

    protected Task<HttpResponseMessage> PutChunkAsync(Uri session, byte[] content, long offset, int length, long? total) =>
        PutAsync(session, content[(int)offset..(int)(offset + length)], $"bytes {offset}-{offset + length - 1}/{(total is { } t ? t.ToString(CultureInfo.InvariantCulture) : "*")}");

    protected static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    /// <summary>Asserts a GCS JSON error: the status, <c>error.code</c> and <c>error.errors[0].reason</c>; returns the message.</summary>
    protected static async Task<string> AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string reason)
    {
        Assert.Equal(status, response.StatusCode);
        var error = (await JsonAsync(response)).GetProperty("error");
        Assert.Equal((int)status, error.GetProperty("code").GetInt32());
        Assert.Equal(reason, error.GetProperty("errors")[0].GetProperty("reason").GetString());
        return error.GetProperty("message").GetString()!;
    }

    protected static long Generation(JsonElement resource) =>
        long.Parse(resource.GetProperty("generation").GetString()!, CultureInfo.InvariantCulture);

    protected static string? RangeHeader(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Range", out var values) ? values.Single() : null;

    protected static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? string.Join(",", values) : "";
}
