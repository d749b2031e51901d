using System.Diagnostics;

using Konduktor.Storage.Testing;

using static Konduktor.Storage.Gcs.Tests.GcsTestStores;

namespace Konduktor.Storage.Gcs.Tests;

/// <summary>Transient answers are retried by the store's policy (honouring Retry-After); permanent ones are clear errors.</summary>
public sealed class GcsStoreFaultTests
{
    [Fact]
    public async Task PutAsync_503OnInitiation_IsRetriedAndStored()
    {
        await using var server = await GcsTestServer.StartAsync();
        var bucket = NewBucket(server);
        using var store = Create(server, bucket);
        server.Faults.FailInitiations(2);

        await store.PutAsync("k", new MemoryStream([1, 2, 3]));

        Assert.True(server.TryGetObject(bucket, "k", out var stored, out _));
        Assert.Equal([1, 2, 3], stored);
        Assert.Equal(2, server.Counters.FaultsInjected);
        Assert.Equal(3, server.Counters.ResumableInitiations);
    }

    [Fact]
    public async Task PutAsync_503OnEveryInitiation_GivesUpWithRetriesExhausted()
    {
        await using var server = await GcsTestServer.StartAsync();
        using var store = Create(server, retries: FastRetries(maxRetryAttempts: 2));
        server.Faults.FailInitiations(100);

        var error = await Assert.ThrowsAsync<RetriesExhaustedException>(() => store.PutAsync("k", new MemoryStream([1])));

        Assert.Equal(3, error.Attempts);
        Assert.IsType<TransientStoreException>(error.InnerException);
    }

    [Fact]
    public async Task OpenReadAsync_503OnDownloads_IsRetriedAndReadsEveryByte()
    {
        await using var server = await GcsTestServer.StartAsync();
        using var store = Create(server, chunkSizeMiB: 0.25, concurrency: 2);
        var data = RandomBytes((2 * MiB) + 3, 7);
        await store.PutAsync("d.bin", new MemoryStream(data));

        // The read that opens the stream is the caller's to retry (ResilientCheckpointStore); the chunks after it are the store's.
        var stream = await store.OpenReadAsync("d.bin");
        server.Faults.FailDownloads(3);
        using var copy = new MemoryStream();
        await using (stream)
        {
            await stream.CopyToAsync(copy);
        }

        Assert.Equal(data, copy.ToArray());
        Assert.Equal(3, server.Counters.FaultsInjected);
    }

    [Fact]
    public async Task OpenReadAsync_503OnTheFirstDownload_IsRetriedByTheResilientStore()
    {
        await using var server = await GcsTestServer.StartAsync();
        using var store = Create(server);
        await store.PutAsync("k", new MemoryStream([4, 5, 6]));
        var resilient = new ResilientCheckpointStore(store, FastRetries());
        server.Faults.FailDownloads(2);

        var stream = await resilient.OpenReadAsync("k");
        using var copy = new MemoryStream();
        await using (stream)
        {
            await stream.CopyToAsync(copy);
        }

        Assert.Equal([4, 5, 6], copy.ToArray());
        Assert.Equal(2, server.Counters.FaultsInjected);
    }

    [Fact]
    public async Task PutAsync_429WithRetryAfter_WaitsAtLeastThatLongBeforeRetrying()
    {
        await using var server = await GcsTestServer.StartAsync();
        var bucket = NewBucket(server);
        using var store = Create(server, bucket);
        server.Faults.TooManyRequests(1, retryAfterSeconds: 1);

        var clock = Stopwatch.StartNew();
        await store.PutAsync("k", new MemoryStream([9]));

        // The policy's own backoff here is 5 ms: only the server's Retry-After explains a wait of a second.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.95), $"retried after {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(1, server.Counters.FaultsInjected);
        Assert.True(server.TryGetObject(bucket, "k", out _, out _));
    }

    [Fact]
    public async Task PutAsync_CreateOnlyOnTakenName_IsPreconditionFailedAndKeepsTheObject()
    {
        await using var server = await GcsTestServer.StartAsync();
        var bucket = NewBucket(server);
        using var store = Create(server, bucket);
        await store.PutAsync("m.json", new MemoryStream([1]));

        await Assert.ThrowsAsync<PreconditionFailedException>(() => store.PutAsync("m.json", new MemoryStream([2]), ObjectWriteOptions.CreateOnlyWrite));

        Assert.True(server.TryGetObject(bucket, "m.json", out var stored, out _));
        Assert.Equal([1], stored);
    }

    [Fact]
    public async Task Operations_MissingBucket_SayWhichBucketDoesNotExist()
    {
        await using var server = await GcsTestServer.StartAsync();
        using var store = Create(server, bucket: "no-such-bucket");

        var put = await Assert.ThrowsAsync<CheckpointStorageException>(() => store.PutAsync("k", new MemoryStream([1])));
        var list = await Assert.ThrowsAsync<CheckpointStorageException>(async () => await store.ListAsync(string.Empty).ToListAsync());

        Assert.Contains("bucket 'no-such-bucket' does not exist", put.Message, StringComparison.Ordinal);
        Assert.Contains("bucket 'no-such-bucket' does not exist", list.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeleteAsync_ObjectReplacedSinceItWasRead_KeepsTheNewVersion()
    {
        await using var server = await GcsTestServer.StartAsync();
        var bucket = NewBucket(server);
        using var store = Create(server, bucket);
        var old = await store.PutAsync("k", new MemoryStream([1]));
        await store.PutAsync("k", new MemoryStream([2]));

        await Assert.ThrowsAsync<PreconditionFailedException>(() => store.DeleteAsync("k", old.ETag));

        Assert.True(server.TryGetObject(bucket, "k", out var stored, out _));
        Assert.Equal([2], stored);
    }
}
