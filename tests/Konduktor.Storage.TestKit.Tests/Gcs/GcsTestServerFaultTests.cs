using System.Net;

namespace Konduktor.Storage.TestKit.Tests;

/// <summary>The GCS test server's switchable faults and the counters tests use to prove resumption.</summary>
public sealed class GcsTestServerFaultTests : GcsTestServerTestBase
{
    [Fact]
    public async Task FailInitiations_AnswersStatusThenRecovers()
    {
        Server.Faults.FailInitiations(2);

        using var first = await InitiateAsync("a");
        using var second = await InitiateAsync("a");
        using var third = await InitiateAsync("a");

        await AssertErrorAsync(first, HttpStatusCode.ServiceUnavailable, "backendError");
        await AssertErrorAsync(second, HttpStatusCode.ServiceUnavailable, "backendError");
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        Assert.Equal(3, Server.Counters.ResumableInitiations);
        Assert.Equal(2, Server.Counters.FaultsInjected);
    }

    [Fact]
    public async Task FailInitiations_LeavesOtherRequestsAlone()
    {
        Server.Faults.FailInitiations(1, 500);

        using var media = await UploadMediaAsync("a", [1]);
        using var bucket = await Http.GetAsync($"storage/v1/b/{Bucket}");
        using var initiation = await InitiateAsync("a");

        Assert.Equal(HttpStatusCode.OK, media.StatusCode);
        Assert.Equal(HttpStatusCode.OK, bucket.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, initiation.StatusCode);
    }

    [Fact]
    public async Task FailDownloads_AnswersStatusThenRecovers()
    {
        Server.PutObject(Bucket, "a", [1, 2]);
        Server.Faults.FailDownloads(1, 500);

        using var metadata = await Http.GetAsync(ObjectPath("a"));
        using var failed = await Http.GetAsync(ObjectPath("a") + "?alt=media");
        using var recovered = await Http.GetAsync(ObjectPath("a") + "?alt=media");

        Assert.Equal(HttpStatusCode.OK, metadata.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal(new byte[] { 1, 2 }, await recovered.Content.ReadAsByteArrayAsync());
        Assert.Equal(2, Server.Counters.Downloads);
        Assert.Equal(1, Server.Counters.FaultsInjected);
    }

    [Fact]
    public async Task TooManyRequests_Answers429WithRetryAfterOnAnyRequest()
    {
        Server.Faults.TooManyRequests(2, 7);

        using var bucket = await Http.GetAsync($"storage/v1/b/{Bucket}");
        using var upload = await UploadMediaAsync("a", [1]);
        using var after = await Http.GetAsync($"storage/v1/b/{Bucket}");

        await AssertErrorAsync(bucket, HttpStatusCode.TooManyRequests, "rateLimitExceeded");
        Assert.Equal(TimeSpan.FromSeconds(7), bucket.Headers.RetryAfter?.Delta);
        await AssertErrorAsync(upload, HttpStatusCode.TooManyRequests, "rateLimitExceeded");
        Assert.False(Server.TryGetObject(Bucket, "a", out _, out _));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(2, Server.Counters.FaultsInjected);
    }

    [Fact]
    public async Task ResetMidChunk_CutsTheConnectionAfterTheBytesAndPersistsNothingOfTheChunk()
    {
        var content = Bytes(3 * Chunk);
        var session = await StartSessionAsync("r");
        using var first = await PutChunkAsync(session, content, 0, Chunk, null);
        var before = Server.Counters.UploadBodyBytesReceived;
        Server.Faults.ResetMidChunk(1, 100_000);

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => PutChunkAsync(session, content, Chunk, 2 * Chunk, content.Length));
        using var query = await PutAsync(session, [], "bytes */*");
        using var resumed = await PutChunkAsync(session, content, Chunk, 2 * Chunk, content.Length);

        Assert.Equal($"bytes=0-{Chunk - 1}", RangeHeader(query));
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        Assert.True(Server.TryGetObject(Bucket, "r", out var stored, out _));
        Assert.Equal(content, stored);
        Assert.Equal(100_000 + (2 * Chunk), Server.Counters.UploadBodyBytesReceived - before);
        Assert.Equal(1, Server.Counters.FaultsInjected);
        Assert.Equal(1, Server.Counters.StatusQueries);
    }

    [Fact]
    public async Task ResetMidChunk_SparesStatusQueries()
    {
        var session = await StartSessionAsync("r");
        Server.Faults.ResetMidChunk(1, 10);

        using var query = await PutAsync(session, [], "bytes */*");

        Assert.Equal((HttpStatusCode)308, query.StatusCode);
        Assert.Equal(0, Server.Counters.FaultsInjected);
    }

    [Fact]
    public async Task Clear_SwitchesEveryFaultOff()
    {
        Server.PutObject(Bucket, "a", [1]);
        Server.Faults.FailInitiations(5);
        Server.Faults.FailDownloads(5);
        Server.Faults.ResetMidChunk(5, 1);
        Server.Faults.TooManyRequests(5, 1);

        Server.Faults.Clear();
        using var initiation = await InitiateAsync("b");
        using var chunk = await PutAsync(initiation.Headers.Location!, [1, 2], "bytes 0-1/2");
        using var download = await Http.GetAsync(ObjectPath("a") + "?alt=media");

        Assert.Equal(HttpStatusCode.OK, initiation.StatusCode);
        Assert.Equal(HttpStatusCode.OK, chunk.StatusCode);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(0, Server.Counters.FaultsInjected);
    }

    [Fact]
    public void Faults_InvalidArguments_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Server.Faults.FailInitiations(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Server.Faults.FailDownloads(1, 200));
        Assert.Throws<ArgumentOutOfRangeException>(() => Server.Faults.ResetMidChunk(1, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Server.Faults.TooManyRequests(1, -1));
    }

    [Fact]
    public async Task Counters_CountBodyBytesOfEveryUploadKind()
    {
        using var media = await UploadMediaAsync("a", new byte[1000]);
        var afterMedia = Server.Counters.UploadBodyBytesReceived;
        using var download = await Http.GetAsync(ObjectPath("a") + "?alt=media");

        Assert.Equal(1000, afterMedia);
        Assert.Equal(afterMedia, Server.Counters.UploadBodyBytesReceived);
        Assert.Equal(0, Server.Counters.ResumableInitiations);
        Assert.Equal(2, Server.Counters.Requests);
    }
}
