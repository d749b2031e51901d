using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Konduktor.Storage.TestKit.Tests;

/// <summary>The GCS test server's uploads: media, multipart and resumable sessions, hashes and generation preconditions.</summary>
public sealed class GcsTestServerUploadTests : GcsTestServerTestBase
{
    [Fact]
    public async Task MediaUpload_StoresBytesAndContentType()
    {
        var content = Bytes(1000);

        using var response = await UploadMediaAsync("a", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(Server.TryGetObject(Bucket, "a", out var stored, out var generation));
        Assert.Equal(content, stored);
        Assert.Equal(Generation(await JsonAsync(response)), generation);
    }

    [Fact]
    public async Task Writes_GetIncreasingGenerationsUniqueAcrossObjects()
    {
        using var a1 = await UploadMediaAsync("a", [1]);
        using var b1 = await UploadMediaAsync("b", [1]);
        using var a2 = await UploadMediaAsync("a", [2]);

        var generations = new[] { Generation(await JsonAsync(a1)), Generation(await JsonAsync(b1)), Generation(await JsonAsync(a2)) };
        Assert.True(generations[0] < generations[1] && generations[1] < generations[2]);
        Assert.True(generations[0] > int.MaxValue);
    }

    [Fact]
    public async Task MediaUpload_IfGenerationMatch0_CreatesOnlyOnce()
    {
        using var first = await UploadMediaAsync("a", [1], "&ifGenerationMatch=0");
        using var second = await UploadMediaAsync("a", [2], "&ifGenerationMatch=0");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        await AssertErrorAsync(second, HttpStatusCode.PreconditionFailed, "conditionNotMet");
        Assert.True(Server.TryGetObject(Bucket, "a", out var stored, out _));
        Assert.Equal(new byte[] { 1 }, stored);
    }

    [Fact]
    public async Task MediaUpload_GenerationPreconditions()
    {
        using var first = await UploadMediaAsync("a", [1]);
        var generation = Generation(await JsonAsync(first));

        using var staleMatch = await UploadMediaAsync("a", [2], $"&ifGenerationMatch={generation + 1}");
        using var notMatchSame = await UploadMediaAsync("a", [3], $"&ifGenerationNotMatch={generation}");
        using var notMatchMissing = await UploadMediaAsync("b", [4], "&ifGenerationNotMatch=5");
        using var match = await UploadMediaAsync("a", [5], $"&ifGenerationMatch={generation}");

        await AssertErrorAsync(staleMatch, HttpStatusCode.PreconditionFailed, "conditionNotMet");
        await AssertErrorAsync(notMatchSame, HttpStatusCode.PreconditionFailed, "conditionNotMet");
        await AssertErrorAsync(notMatchMissing, HttpStatusCode.PreconditionFailed, "conditionNotMet");
        Assert.Equal(HttpStatusCode.OK, match.StatusCode);
        Assert.True(Server.TryGetObject(Bucket, "a", out var stored, out _));
        Assert.Equal(new byte[] { 5 }, stored);
    }

    [Fact]
    public async Task MediaUpload_XGoogHashMismatch_400AndNothingStored()
    {
        var content = Bytes(100);
        using var good = await UploadMediaAsync("probe", content);
        var crc32c = (await JsonAsync(good)).GetProperty("crc32c").GetString();

        using var bad = await UploadMediaAsync("a", content, hash: "crc32c=AAAAAA==");
        using var badMd5 = await UploadMediaAsync("a", content, hash: $"crc32c={crc32c},md5=AAAAAAAAAAAAAAAAAAAAAA==");
        using var matching = await UploadMediaAsync("b", content, hash: $"crc32c={crc32c}");

        Assert.Contains("CRC32C", await AssertErrorAsync(bad, HttpStatusCode.BadRequest, "invalid"), StringComparison.Ordinal);
        Assert.Contains("MD5", await AssertErrorAsync(badMd5, HttpStatusCode.BadRequest, "invalid"), StringComparison.Ordinal);
        Assert.False(Server.TryGetObject(Bucket, "a", out _, out _));
        Assert.Equal(HttpStatusCode.OK, matching.StatusCode);
    }

    [Fact]
    public async Task MultipartUpload_StoresResourceFieldsAndMedia()
    {
        var media = Bytes(5000);

        using var response = await MultipartAsync("""{"name":"m/1","contentType":"text/plain","metadata":{"step":"7"}}""", media);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var resource = await JsonAsync(response);
        Assert.Equal("text/plain", resource.GetProperty("contentType").GetString());
        Assert.Equal("7", resource.GetProperty("metadata").GetProperty("step").GetString());
        Assert.True(Server.TryGetObject(Bucket, "m/1", out var stored, out _));
        Assert.Equal(media, stored);
    }

    [Fact]
    public async Task MultipartUpload_ResourceCrc32cMismatch_400AndNothingStored()
    {
        using var response = await MultipartAsync("""{"name":"m","crc32c":"AAAAAA=="}""", Bytes(10));

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid");
        Assert.False(Server.TryGetObject(Bucket, "m", out _, out _));
    }

    [Fact]
    public async Task MultipartUpload_UnimplementedResourceField_501NamingIt()
    {
        using var response = await MultipartAsync("""{"name":"m","cacheControl":"no-cache"}""", Bytes(10));

        Assert.Contains("cacheControl", await AssertErrorAsync(response, HttpStatusCode.NotImplemented, "notImplemented"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resumable_GzippedInitiationThenChunks_308WithRangeThenObject()
    {
        var content = Bytes((2 * Chunk) + 1000);
        using var initiation = await InitiateAsync("r", resourceJson: """{"name":"r","contentType":"application/x-test","metadata":{"k":"v"}}""");
        Assert.Equal(HttpStatusCode.OK, initiation.StatusCode);
        var session = initiation.Headers.Location!;
        Assert.Contains("upload_id=", session.Query, StringComparison.Ordinal);
        Assert.Equal(Server.Endpoint.Port, session.Port);

        using var first = await PutChunkAsync(session, content, 0, Chunk, null);
        using var second = await PutChunkAsync(session, content, Chunk, Chunk, content.Length);
        using var last = await PutChunkAsync(session, content, 2 * Chunk, 1000, content.Length);

        Assert.Equal((HttpStatusCode)308, first.StatusCode);
        Assert.Equal($"bytes=0-{Chunk - 1}", RangeHeader(first));
        Assert.Equal((HttpStatusCode)308, second.StatusCode);
        Assert.Equal($"bytes=0-{(2 * Chunk) - 1}", RangeHeader(second));
        Assert.Equal(HttpStatusCode.OK, last.StatusCode);
        var resource = await JsonAsync(last);
        Assert.Equal("application/x-test", resource.GetProperty("contentType").GetString());
        Assert.Equal("v", resource.GetProperty("metadata").GetProperty("k").GetString());
        Assert.True(Server.TryGetObject(Bucket, "r", out var stored, out _));
        Assert.Equal(content, stored);
        Assert.Equal(1, Server.Counters.ResumableInitiations);
    }

    [Fact]
    public async Task Resumable_NameInQueryAndEmptyBody_Works()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"upload/storage/v1/b/{Bucket}/o?uploadType=resumable&name=q");
        using var initiation = await Http.SendAsync(request);
        var session = initiation.Headers.Location!;

        using var done = await PutAsync(session, [1, 2], "bytes 0-1/2");

        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.True(Server.TryGetObject(Bucket, "q", out var stored, out _));
        Assert.Equal(new byte[] { 1, 2 }, stored);
    }

    [Fact]
    public async Task Resumable_NonFinalChunkNotMultipleOf256KiB_400()
    {
        var session = await StartSessionAsync("r");

        using var response = await PutChunkAsync(session, Bytes(Chunk + 1), 0, Chunk + 1, null);

        Assert.Contains("256 KiB", await AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resumable_StatusQueries_308WithoutRangeUntilBytesPersistedThenWithIt()
    {
        var content = Bytes(Chunk * 2);
        var session = await StartSessionAsync("r");

        using var before = await PutAsync(session, [], "bytes */*");
        using var chunk = await PutChunkAsync(session, content, 0, Chunk, null);
        using var after = await PutAsync(session, [], "bytes */*");
        using var withTotal = await PutAsync(session, [], $"bytes */{content.Length}");

        Assert.Equal((HttpStatusCode)308, before.StatusCode);
        Assert.Null(RangeHeader(before));
        Assert.Equal((HttpStatusCode)308, after.StatusCode);
        Assert.Equal($"bytes=0-{Chunk - 1}", RangeHeader(after));
        Assert.Equal((HttpStatusCode)308, withTotal.StatusCode);
        Assert.Equal(3, Server.Counters.StatusQueries);
        Assert.False(Server.TryGetObject(Bucket, "r", out _, out _));
    }

    [Fact]
    public async Task Resumable_ChunkNotAtPersistedOffset_IsNotPersistedAnd308TellsWhereToResume()
    {
        var content = Bytes(Chunk * 3);
        var session = await StartSessionAsync("r");
        using var first = await PutChunkAsync(session, content, 0, Chunk, null);

        using var gap = await PutChunkAsync(session, content, 2 * Chunk, Chunk, content.Length);
        using var overlap = await PutChunkAsync(session, content, 0, Chunk, null);

        Assert.Equal((HttpStatusCode)308, gap.StatusCode);
        Assert.Equal($"bytes=0-{Chunk - 1}", RangeHeader(gap));
        Assert.Equal((HttpStatusCode)308, overlap.StatusCode);
        Assert.Equal($"bytes=0-{Chunk - 1}", RangeHeader(overlap));
        Assert.False(Server.TryGetObject(Bucket, "r", out _, out _));

        using var second = await PutChunkAsync(session, content, Chunk, 2 * Chunk, content.Length);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.True(Server.TryGetObject(Bucket, "r", out var stored, out _));
        Assert.Equal(content, stored);
    }

    [Fact]
    public async Task Resumable_FinaliseWithEmptyBodyAndTotal_CompletesAtPersistedLength()
    {
        var content = Bytes(Chunk);
        var session = await StartSessionAsync("r");
        using var chunk = await PutChunkAsync(session, content, 0, Chunk, null);

        using var done = await PutAsync(session, [], $"bytes */{Chunk}");

        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.Equal($"{Chunk}", (await JsonAsync(done)).GetProperty("size").GetString());
        Assert.True(Server.TryGetObject(Bucket, "r", out var stored, out _));
        Assert.Equal(content, stored);
    }

    [Fact]
    public async Task Resumable_EmptyObject_CompletesWithStarZero()
    {
        var session = await StartSessionAsync("empty");

        using var done = await PutAsync(session, [], "bytes */0");

        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.True(Server.TryGetObject(Bucket, "empty", out var stored, out _));
        Assert.Empty(stored);
    }

    [Fact]
    public async Task Resumable_FinalChunkHashMismatch_400NothingStoredThenCorrectRetryCompletes()
    {
        var content = Bytes(Chunk + 10);
        using var probe = await UploadMediaAsync("probe", content);
        var crc32c = (await JsonAsync(probe)).GetProperty("crc32c").GetString();
        var session = await StartSessionAsync("r");
        using var first = await PutChunkAsync(session, content, 0, Chunk, null);

        using var bad = await PutAsync(session, content[Chunk..], $"bytes {Chunk}-{content.Length - 1}/{content.Length}", "crc32c=AAAAAA==");
        Assert.False(Server.TryGetObject(Bucket, "r", out _, out _));
        using var good = await PutAsync(session, content[Chunk..], $"bytes {Chunk}-{content.Length - 1}/{content.Length}", $"crc32c={crc32c}");

        await AssertErrorAsync(bad, HttpStatusCode.BadRequest, "invalid");
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        Assert.True(Server.TryGetObject(Bucket, "r", out var stored, out _));
        Assert.Equal(content, stored);
    }

    [Fact]
    public async Task Resumable_AfterCompletion_FurtherPutsAnswerTheObjectAgain()
    {
        var session = await StartSessionAsync("r");
        using var done = await PutAsync(session, [1, 2, 3], "bytes 0-2/3");
        var generation = Generation(await JsonAsync(done));

        using var query = await PutAsync(session, [], "bytes */*");
        using var resend = await PutAsync(session, [1, 2, 3], "bytes 0-2/3");

        Assert.Equal(HttpStatusCode.OK, query.StatusCode);
        Assert.Equal(generation, Generation(await JsonAsync(query)));
        Assert.Equal(generation, Generation(await JsonAsync(resend)));
        Assert.True(Server.TryGetObject(Bucket, "r", out _, out var live));
        Assert.Equal(generation, live);
    }

    [Fact]
    public async Task Resumable_IfGenerationMatch0OnExistingObject_412AtInitiation()
    {
        using var existing = await UploadMediaAsync("r", [1]);

        using var initiation = await InitiateAsync("r", "&ifGenerationMatch=0");

        await AssertErrorAsync(initiation, HttpStatusCode.PreconditionFailed, "conditionNotMet");
    }

    [Fact]
    public async Task Resumable_RacingWriterWinsBeforeCompletion_412AndTheWinnerStays()
    {
        var session = await StartSessionAsync("r", "&ifGenerationMatch=0");
        using var winner = await UploadMediaAsync("r", [9], "&ifGenerationMatch=0");

        using var loser = await PutAsync(session, [1, 2, 3], "bytes 0-2/3");

        Assert.Equal(HttpStatusCode.OK, winner.StatusCode);
        await AssertErrorAsync(loser, HttpStatusCode.PreconditionFailed, "conditionNotMet");
        Assert.True(Server.TryGetObject(Bucket, "r", out var stored, out _));
        Assert.Equal(new byte[] { 9 }, stored);
    }

    [Fact]
    public async Task Resumable_DeclaredLengthDiffersFromUpload_400()
    {
        using var initiation = await InitiateAsync("r", declaredLength: 5);

        using var response = await PutAsync(initiation.Headers.Location!, [1, 2, 3], "bytes 0-2/3");

        Assert.Contains("X-Upload-Content-Length", await AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resumable_Cancel_499ThenTheSessionIsGone()
    {
        var session = await StartSessionAsync("r");

        using var cancel = await Http.DeleteAsync(session);
        using var after = await PutAsync(session, [1], "bytes 0-0/1");

        Assert.Equal((HttpStatusCode)499, cancel.StatusCode);
        await AssertErrorAsync(after, HttpStatusCode.NotFound, "notFound");
    }

    [Theory]
    [InlineData("bytes 0-1")]
    [InlineData("bytes 3-1/5")]
    [InlineData("bytes 0-9/5")]
    [InlineData("items 0-1/2")]
    public async Task Resumable_MalformedContentRange_400NamingIt(string range)
    {
        var session = await StartSessionAsync("r");

        using var response = await PutAsync(session, [1, 2], range);

        Assert.Contains("Content-Range", await AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resumable_ChunkedBodyShorterThanContentRange_400AndNothingPersisted()
    {
        var session = await StartSessionAsync("r");
        using var request = new HttpRequestMessage(HttpMethod.Put, session) { Content = new StreamContent(new UnknownLengthStream(new byte[5])) };
        request.Content.Headers.TryAddWithoutValidation("Content-Range", "bytes 0-9/10");

        using var response = await Http.SendAsync(request);
        using var query = await PutAsync(session, [], "bytes */*");

        Assert.Null(request.Content.Headers.ContentLength);
        Assert.Contains("announces 10", await AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid"), StringComparison.Ordinal);
        Assert.Null(RangeHeader(query));
    }

    [Fact]
    public async Task Resumable_UnknownSession_404()
    {
        using var response = await PutAsync(new Uri(Server.Endpoint, $"upload/storage/v1/b/{Bucket}/o?uploadType=resumable&upload_id=nope"), [1], "bytes 0-0/1");

        await AssertErrorAsync(response, HttpStatusCode.NotFound, "notFound");
    }

    [Fact]
    public async Task Resumable_64MiBIn8MiBChunks_StoresExactlyTheBytesSent()
    {
        const int chunk = 8 * 1024 * 1024;
        var content = Bytes(64 * 1024 * 1024);
        var session = await StartSessionAsync("big");
        var bytesBefore = Server.Counters.UploadBodyBytesReceived;

        for (var offset = 0; offset < content.Length; offset += chunk)
        {
            var last = offset + chunk == content.Length;
            using var response = await PutChunkAsync(session, content, offset, chunk, last ? content.Length : null);
            Assert.Equal(last ? HttpStatusCode.OK : (HttpStatusCode)308, response.StatusCode);
        }

        Assert.True(Server.TryGetObject(Bucket, "big", out var stored, out _));
        Assert.True(content.AsSpan().SequenceEqual(stored), "the stored object differs from the bytes sent");
        Assert.Equal(content.Length, Server.Counters.UploadBodyBytesReceived - bytesBefore);
    }

    [Fact]
    public async Task ParallelUploads_AllStoredWithDistinctGenerations()
    {
        var uploads = Enumerable.Range(0, 16).Select(async i =>
        {
            var content = Bytes(Chunk + i + 1, seed: i);
            var session = await StartSessionAsync($"p/{i}");
            using var first = await PutChunkAsync(session, content, 0, Chunk, null);
            using var last = await PutChunkAsync(session, content, Chunk, i + 1, content.Length);
            Assert.Equal(HttpStatusCode.OK, last.StatusCode);
            return content;
        });

        var results = await Task.WhenAll(uploads);

        var generations = new HashSet<long>();
        for (var i = 0; i < results.Length; i++)
        {
            Assert.True(Server.TryGetObject(Bucket, $"p/{i}", out var stored, out var generation));
            Assert.Equal(results[i], stored);
            Assert.True(generations.Add(generation));
        }
    }

    private async Task<HttpResponseMessage> MultipartAsync(string resourceJson, byte[] media)
    {
        var content = new MultipartContent("related");
        content.Add(new StringContent(resourceJson, Encoding.UTF8, "application/json"));
        var mediaPart = new ByteArrayContent(media);
        mediaPart.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Add(mediaPart);
        using (content)
        {
            return await Http.PostAsync($"upload/storage/v1/b/{Bucket}/o?uploadType=multipart", content);
        }
    }

    /// <summary>A body whose length HttpClient cannot know, so it goes chunked.</summary>
    private sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
