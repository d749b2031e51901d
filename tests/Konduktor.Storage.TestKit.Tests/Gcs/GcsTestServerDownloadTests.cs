using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace Konduktor.Storage.TestKit.Tests;

/// <summary>The GCS test server's <c>alt=media</c> downloads: whole reads with hashes, ranged reads without, generations, preconditions.</summary>
public sealed class GcsTestServerDownloadTests : GcsTestServerTestBase
{
    [Fact]
    public async Task Download_Whole_200WithHashGenerationAndLengths()
    {
        var content = Bytes(3000);
        using var upload = await UploadMediaAsync("a", content);
        var resource = await JsonAsync(upload);

        using var response = await Http.GetAsync(ObjectPath("a") + "?alt=media");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal($"crc32c={resource.GetProperty("crc32c").GetString()},md5={resource.GetProperty("md5Hash").GetString()}", Header(response, "x-goog-hash"));
        Assert.Equal(resource.GetProperty("generation").GetString(), Header(response, "x-goog-generation"));
        Assert.Equal("3000", Header(response, "x-goog-stored-content-length"));
        Assert.Equal(3000, response.Content.Headers.ContentLength);
        Assert.Equal(1, Server.Counters.Downloads);
    }

    [Theory]
    [InlineData("bytes=2-5", 2, 4)]
    [InlineData("bytes=95-", 95, 5)]
    [InlineData("bytes=-3", 97, 3)]
    [InlineData("bytes=90-1000", 90, 10)]
    [InlineData("bytes=-1000", 0, 100)]
    [InlineData("bytes=0-0", 0, 1)]
    public async Task Download_Range_206WithContentRangeAndNoHash(string range, int offset, int length)
    {
        var content = Bytes(100);
        using var upload = await UploadMediaAsync("a", content);

        using var request = new HttpRequestMessage(HttpMethod.Get, ObjectPath("a") + "?alt=media");
        request.Headers.TryAddWithoutValidation("Range", range);
        using var response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(content[offset..(offset + length)], await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(new ContentRangeHeaderValue(offset, offset + length - 1, 100), response.Content.Headers.ContentRange);
        Assert.Equal("", Header(response, "x-goog-hash"));
        Assert.Equal("100", Header(response, "x-goog-stored-content-length"));
    }

    [Theory]
    [InlineData("bytes=100-")]
    [InlineData("bytes=-0")]
    public async Task Download_UnsatisfiableRange_416(string range)
    {
        using var upload = await UploadMediaAsync("a", Bytes(100));

        using var request = new HttpRequestMessage(HttpMethod.Get, ObjectPath("a") + "?alt=media");
        request.Headers.TryAddWithoutValidation("Range", range);
        using var response = await Http.SendAsync(request);

        await AssertErrorAsync(response, HttpStatusCode.RequestedRangeNotSatisfiable, "requestedRangeNotSatisfiable");
        Assert.Equal("bytes */100", Header(response, "Content-Range"));
    }

    [Fact]
    public async Task Download_MultipleRanges_501()
    {
        using var upload = await UploadMediaAsync("a", Bytes(100));

        using var request = new HttpRequestMessage(HttpMethod.Get, ObjectPath("a") + "?alt=media");
        request.Headers.TryAddWithoutValidation("Range", "bytes=0-1,5-6");
        using var response = await Http.SendAsync(request);

        await AssertErrorAsync(response, HttpStatusCode.NotImplemented, "notImplemented");
    }

    [Fact]
    public async Task Download_Generation_OnlyTheLiveOne()
    {
        using var first = await UploadMediaAsync("a", [1]);
        var old = Generation(await JsonAsync(first));
        using var second = await UploadMediaAsync("a", [2]);
        var live = Generation(await JsonAsync(second));

        using var current = await Http.GetAsync(ObjectPath("a") + $"?alt=media&generation={live}");
        using var previous = await Http.GetAsync(ObjectPath("a") + $"?alt=media&generation={old}");

        Assert.Equal(new byte[] { 2 }, await current.Content.ReadAsByteArrayAsync());
        await AssertErrorAsync(previous, HttpStatusCode.NotFound, "notFound");
    }

    [Fact]
    public async Task Download_Preconditions_412And304()
    {
        using var upload = await UploadMediaAsync("a", [1]);
        var generation = Generation(await JsonAsync(upload));

        using var match = await Http.GetAsync(ObjectPath("a") + $"?alt=media&ifGenerationMatch={generation}");
        using var mismatch = await Http.GetAsync(ObjectPath("a") + $"?alt=media&ifGenerationMatch={generation + 1}");
        using var notMatch = await Http.GetAsync(ObjectPath("a") + $"?alt=media&ifGenerationNotMatch={generation}");
        using var notMatchOther = await Http.GetAsync(ObjectPath("a") + $"?alt=media&ifGenerationNotMatch={generation + 1}");

        Assert.Equal(HttpStatusCode.OK, match.StatusCode);
        await AssertErrorAsync(mismatch, HttpStatusCode.PreconditionFailed, "conditionNotMet");
        Assert.Equal(HttpStatusCode.NotModified, notMatch.StatusCode);
        Assert.Equal(HttpStatusCode.OK, notMatchOther.StatusCode);
    }

    [Fact]
    public async Task Download_MissingObject_404()
    {
        using var response = await Http.GetAsync(ObjectPath("missing") + "?alt=media");

        await AssertErrorAsync(response, HttpStatusCode.NotFound, "notFound");
    }

    [Fact]
    public async Task Download_ParallelRangedReads_ReassembleTheObject()
    {
        const int part = 512 * 1024;
        var content = Bytes(16 * part);
        Server.PutObject(Bucket, "big", content);

        var parts = await Task.WhenAll(Enumerable.Range(0, 16).Select(async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, ObjectPath("big") + "?alt=media");
            request.Headers.Range = new RangeHeaderValue(i * part, ((i + 1) * part) - 1);
            using var response = await Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            return await response.Content.ReadAsByteArrayAsync();
        }));

        Assert.True(content.AsSpan().SequenceEqual(parts.SelectMany(p => p).ToArray()), "the parts differ from the object");
        Assert.Equal(16, Server.Counters.Downloads);
    }

    [Fact]
    public async Task Download_EmptyObject_WholeIs200Empty()
    {
        Server.PutObject(Bucket, "empty", []);

        using var response = await Http.GetAsync(ObjectPath("empty") + "?alt=media");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(0.ToString(CultureInfo.InvariantCulture), Header(response, "x-goog-stored-content-length"));
    }
}
