using System.Net;
using System.Net.Http.Headers;
using System.Text;

using Konduktor.Storage.Testing;

namespace Konduktor.Storage.TestKit.Tests;

/// <summary>The GCS test server's endpoints outside transfers: buckets, object resources, CRC-32C, errors, 501 for gaps, delete.</summary>
public sealed class GcsTestServerApiTests : GcsTestServerTestBase
{
    [Fact]
    public async Task StartAsync_BindsLoopbackOnAFreePort()
    {
        Assert.Equal("127.0.0.1", Server.Endpoint.Host);
        Assert.NotEqual(0, Server.Endpoint.Port);
        Assert.Equal(new Uri(Server.Endpoint, "storage/v1/"), Server.BaseUri);
        await using var second = await GcsTestServer.StartAsync();
        Assert.NotEqual(Server.Endpoint.Port, second.Endpoint.Port);
    }

    [Fact]
    public async Task GetBucket_Existing_ReturnsBucketResource()
    {
        using var response = await Http.GetAsync($"storage/v1/b/{Bucket}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bucket = await JsonAsync(response);
        Assert.Equal("storage#bucket", bucket.GetProperty("kind").GetString());
        Assert.Equal(Bucket, bucket.GetProperty("name").GetString());
    }

    [Fact]
    public async Task GetBucket_Missing_Answers404InGcsErrorFormat()
    {
        using var response = await Http.GetAsync("storage/v1/b/nope");

        var message = await AssertErrorAsync(response, HttpStatusCode.NotFound, "notFound");
        Assert.Contains("nope", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ObjectOperations_MissingBucket_Answer404()
    {
        using var get = await Http.GetAsync(ObjectPath("a", "nope"));
        using var media = await Http.GetAsync(ObjectPath("a", "nope") + "?alt=media");
        using var list = await Http.GetAsync("storage/v1/b/nope/o");
        using var delete = await Http.DeleteAsync(ObjectPath("a", "nope"));
        using var upload = await UploadMediaAsync("a", [1], bucket: "nope");
        using var initiate = await InitiateAsync("a", bucket: "nope");

        foreach (var response in new[] { get, media, list, delete, upload, initiate })
        {
            await AssertErrorAsync(response, HttpStatusCode.NotFound, "notFound");
        }
    }

    [Fact]
    public async Task UnknownEndpoint_Answers501NamingMethodAndPath()
    {
        using var response = await Http.PatchAsync(ObjectPath("a"), new StringContent("{}"));

        var message = await AssertErrorAsync(response, HttpStatusCode.NotImplemented, "notImplemented");
        Assert.Contains("PATCH /storage/v1/b/bkt/o/a", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownParameter_Answers501NamingIt()
    {
        using var response = await Http.GetAsync($"storage/v1/b/{Bucket}/o?matchGlob=*.bin");

        var message = await AssertErrorAsync(response, HttpStatusCode.NotImplemented, "notImplemented");
        Assert.Contains("'matchGlob'", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnimplementedUploadType_Answers501()
    {
        using var response = await Http.PostAsync($"upload/storage/v1/b/{Bucket}/o?uploadType=xml&name=a", new ByteArrayContent([1]));

        var message = await AssertErrorAsync(response, HttpStatusCode.NotImplemented, "notImplemented");
        Assert.Contains("uploadType=xml", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidParameterValue_Answers400NamingIt()
    {
        using var response = await Http.GetAsync(ObjectPath("a") + "?ifGenerationMatch=abc");

        var message = await AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid");
        Assert.Contains("ifGenerationMatch", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("123456789", "4waSgw==", "JfnnlDI7RTiF9RgfG2JNCw==")] // CRC-32C check value 0xE3069283; MD5 25f9e794…
    [InlineData("", "AAAAAA==", "1B2M2Y8AsgTpgAmY7PhCfg==")]
    public async Task Upload_ReportsCrc32cBigEndianBase64AndMd5(string text, string crc32c, string md5)
    {
        var content = Encoding.ASCII.GetBytes(text);

        using var response = await UploadMediaAsync("check", content);

        var resource = await JsonAsync(response);
        Assert.Equal(crc32c, resource.GetProperty("crc32c").GetString());
        Assert.Equal(md5, resource.GetProperty("md5Hash").GetString());
    }

    [Fact]
    public async Task Upload_32ZeroBytes_MatchesRfc3720Crc32cVector()
    {
        // RFC 3720 B.4: 32 bytes of zeros have CRC-32C 0x8A9136AA.
        using var response = await UploadMediaAsync("zeros", new byte[32]);

        Assert.Equal(Convert.ToBase64String([0x8A, 0x91, 0x36, 0xAA]), (await JsonAsync(response)).GetProperty("crc32c").GetString());
    }

    [Fact]
    public async Task ObjectResource_HasGcsFieldsWithNumbersAsStrings()
    {
        using var upload = await UploadMediaAsync("dir/file.bin", Bytes(10));
        var generation = Generation(await JsonAsync(upload));

        using var response = await Http.GetAsync(ObjectPath("dir/file.bin"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var resource = await JsonAsync(response);
        Assert.Equal("storage#object", resource.GetProperty("kind").GetString());
        Assert.Equal($"{Bucket}/dir/file.bin/{generation}", resource.GetProperty("id").GetString());
        Assert.Equal("dir/file.bin", resource.GetProperty("name").GetString());
        Assert.Equal(Bucket, resource.GetProperty("bucket").GetString());
        Assert.Equal("1", resource.GetProperty("metageneration").GetString());
        Assert.Equal("10", resource.GetProperty("size").GetString());
        Assert.Equal("application/octet-stream", resource.GetProperty("contentType").GetString());
        Assert.False(string.IsNullOrEmpty(resource.GetProperty("etag").GetString()));
        Assert.True(DateTimeOffset.TryParse(resource.GetProperty("timeCreated").GetString(), out _));
        Assert.True(DateTimeOffset.TryParse(resource.GetProperty("updated").GetString(), out _));
        Assert.False(resource.TryGetProperty("metadata", out _));
    }

    [Fact]
    public async Task GetObject_Preconditions_412OnMismatch304OnNotMatch()
    {
        using var upload = await UploadMediaAsync("a", [1]);
        var generation = Generation(await JsonAsync(upload));

        using var match = await Http.GetAsync(ObjectPath("a") + $"?ifGenerationMatch={generation}");
        using var mismatch = await Http.GetAsync(ObjectPath("a") + $"?ifGenerationMatch={generation + 1}");
        using var notMatch = await Http.GetAsync(ObjectPath("a") + $"?ifGenerationNotMatch={generation}");
        using var otherGeneration = await Http.GetAsync(ObjectPath("a") + $"?generation={generation + 1}");
        using var missing = await Http.GetAsync(ObjectPath("b") + "?ifGenerationMatch=0");

        Assert.Equal(HttpStatusCode.OK, match.StatusCode);
        await AssertErrorAsync(mismatch, HttpStatusCode.PreconditionFailed, "conditionNotMet");
        Assert.Equal(HttpStatusCode.NotModified, notMatch.StatusCode);
        await AssertErrorAsync(otherGeneration, HttpStatusCode.NotFound, "notFound");
        await AssertErrorAsync(missing, HttpStatusCode.NotFound, "notFound");
    }

    [Fact]
    public async Task Delete_WithGenerationPrecondition_412Then204Then404()
    {
        using var upload = await UploadMediaAsync("a", [1]);
        var generation = Generation(await JsonAsync(upload));

        using var wrong = await Http.DeleteAsync(ObjectPath("a") + $"?ifGenerationMatch={generation + 1}");
        Assert.True(Server.TryGetObject(Bucket, "a", out _, out _));
        using var right = await Http.DeleteAsync(ObjectPath("a") + $"?ifGenerationMatch={generation}");
        using var again = await Http.DeleteAsync(ObjectPath("a") + $"?ifGenerationMatch={generation}");

        await AssertErrorAsync(wrong, HttpStatusCode.PreconditionFailed, "conditionNotMet");
        Assert.Equal(HttpStatusCode.NoContent, right.StatusCode);
        Assert.False(Server.TryGetObject(Bucket, "a", out _, out _));
        await AssertErrorAsync(again, HttpStatusCode.NotFound, "notFound");
    }

    [Fact]
    public async Task Delete_GenerationNotLive_404AndKeepsObject()
    {
        using var upload = await UploadMediaAsync("a", [1]);
        var generation = Generation(await JsonAsync(upload));

        using var response = await Http.DeleteAsync(ObjectPath("a") + $"?generation={generation - 1}");

        await AssertErrorAsync(response, HttpStatusCode.NotFound, "notFound");
        Assert.True(Server.TryGetObject(Bucket, "a", out _, out _));
    }

    [Fact]
    public async Task ObjectNames_EncodedSlashesRawSlashesAndUnicode_AddressTheSameObject()
    {
        const string name = "run/rank 00001/step-ä€😀.bin";
        using var upload = await UploadMediaAsync(name, [7, 8]);
        Assert.Equal(HttpStatusCode.OK, upload.StatusCode);

        using var encoded = await Http.GetAsync(ObjectPath(name) + "?alt=media");
        using var raw = await Http.GetAsync($"storage/v1/b/{Bucket}/o/run/rank%2000001/{Uri.EscapeDataString("step-ä€😀.bin")}?alt=media");
        using var viaDownloadPath = await Http.GetAsync("download/" + ObjectPath(name) + "?alt=media");

        Assert.Equal([7, 8], await encoded.Content.ReadAsByteArrayAsync());
        Assert.Equal([7, 8], await raw.Content.ReadAsByteArrayAsync());
        Assert.Equal([7, 8], await viaDownloadPath.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task PutObjectAndTryGetObject_BypassHttpAndCountNothing()
    {
        var generation = Server.PutObject(Bucket, "planted", [1, 2, 3]);

        Assert.True(Server.TryGetObject(Bucket, "planted", out var content, out var read));
        Assert.Equal([1, 2, 3], content);
        Assert.Equal(generation, read);
        Assert.False(Server.TryGetObject(Bucket, "absent", out var none, out var zero));
        Assert.Empty(none);
        Assert.Equal(0, zero);
        Assert.False(Server.TryGetObject("nope", "planted", out _, out _));
        Assert.Throws<InvalidOperationException>(() => Server.PutObject("nope", "x", [1]));
        Assert.Equal(0, Server.Counters.Requests);
    }

    [Fact]
    public async Task Requests_CountsEveryRequest()
    {
        using var a = await Http.GetAsync($"storage/v1/b/{Bucket}");
        using var b = await Http.GetAsync("storage/v1/b/nope");
        using var c = await Http.GetAsync("nothing/here");

        Assert.Equal(3, Server.Counters.Requests);
        Assert.Equal(HttpStatusCode.NotImplemented, c.StatusCode);
    }

    [Fact]
    public async Task ErrorResponses_AreJson()
    {
        using var response = await Http.GetAsync("storage/v1/b/nope");

        Assert.Equal(new MediaTypeHeaderValue("application/json") { CharSet = "UTF-8" }, response.Content.Headers.ContentType);
    }
}
