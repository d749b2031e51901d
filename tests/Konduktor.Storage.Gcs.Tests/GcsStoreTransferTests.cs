using System.Diagnostics;
using System.Security.Cryptography;

using Konduktor.Storage.Testing;

using Xunit.Abstractions;

using static Konduktor.Storage.Gcs.Tests.GcsTestStores;

namespace Konduktor.Storage.Gcs.Tests;

/// <summary>Resumable chunked uploads and parallel ranged reads on the loopback GCS test server, counted request by request.</summary>
public sealed class GcsStoreTransferTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ThreeReadsOpenAtOnce_ShareTheReadAheadAndStillDeliverEveryByte()
    {
        await using var server = await GcsTestServer.StartAsync();
        var bucket = NewBucket(server);
        using var store = Create(server, bucket, "p", chunkSizeMiB: 5, concurrency: 6);
        var data = Enumerable.Range(0, 3).Select(i => RandomBytes(30 * MiB, 50 + i)).ToList();
        for (var i = 0; i < data.Count; i++)
        {
            server.PutObject(bucket, $"p/{i}.bin", data[i]);
        }

        var before = server.Counters.Downloads;
        await using var reads = await ParallelReads.OpenAsync(store, Enumerable.Range(0, data.Count).Select(i => $"{i}.bin"));

        // Alone, each read would keep six of its six 5 MiB chunks fetched or in flight (eighteen downloads). Sharing the
        // store's concurrency, the first (alone when it opened) starts its six, the second its share of three, the third two.
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(6 + 3 + 2, server.Counters.Downloads - before);
        Assert.Equal(data, await reads.ReadAllAsync());
    }

    [Fact]
    public async Task PutAsync_64MiBIn8MiBChunks_StoresExactlyTheBytesSent()
    {
        await using var server = await GcsTestServer.StartAsync();
        var bucket = NewBucket(server);
        using var store = Create(server, bucket, "p", chunkSizeMiB: 8);
        var data = RandomBytes(64 * MiB, 64);

        var clock = Stopwatch.StartNew();
        var info = await store.PutAsync("big.bin", new NonSeekableStream(data));
        var elapsed = clock.Elapsed;

        Assert.True(server.TryGetObject(bucket, "p/big.bin", out var stored, out var generation));
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(stored));
        Assert.Equal(64L * MiB, info.Length);
        Assert.Equal(generation.ToString(System.Globalization.CultureInfo.InvariantCulture), info.ETag);
        Assert.Equal(1, server.Counters.ResumableInitiations);
        // Every byte once, plus the initiation's small JSON resource.
        Assert.InRange(server.Counters.UploadBodyBytesReceived, 64L * MiB, (64L * MiB) + 100);

        // 8 chunks of 8 MiB and an empty final request that states the length: the stream's end is only known after its last byte.
        Assert.InRange(server.Counters.Requests, 9, 10);
        output.WriteLine($"64 MiB upload in 8 MiB chunks: {elapsed.TotalMilliseconds:F0} ms ({64 / elapsed.TotalSeconds:F0} MiB/s), {server.Counters.Requests} requests");
    }

    [Fact]
    public async Task PutAsync_ResetInTheMiddleOfAChunk_ResumesFromTheServersOffsetInsteadOfRestarting()
    {
        await using var server = await GcsTestServer.StartAsync();
        var bucket = NewBucket(server);
        using var store = Create(server, bucket, "p", chunkSizeMiB: 8);
        var data = RandomBytes(64 * MiB, 65);
        server.Faults.ResetMidChunk(1, afterBytes: 3 * MiB);

        await store.PutAsync("big.bin", new MemoryStream(data));

        Assert.True(server.TryGetObject(bucket, "p/big.bin", out var stored, out _));
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(stored));
        Assert.Equal(1, server.Counters.FaultsInjected);
        Assert.True(server.Counters.StatusQueries >= 1, "the interrupted session was never asked for its offset");
        Assert.Equal(1, server.Counters.ResumableInitiations);
        Assert.True(
            server.Counters.UploadBodyBytesReceived < (64L * MiB) + (8L * MiB),
            $"the server received {server.Counters.UploadBodyBytesReceived} bytes: more than the object and one chunk, so the upload restarted");
        output.WriteLine($"reset after 3 MiB of a chunk: {server.Counters.UploadBodyBytesReceived - (64L * MiB)} bytes sent twice, {server.Counters.StatusQueries} status queries");
    }

    [Fact]
    public async Task OpenWriteAsync_ManyChunksWrittenSynchronously_StoresEveryByteInOrder()
    {
        await using var server = await GcsTestServer.StartAsync();
        var bucket = NewBucket(server);
        using var store = Create(server, bucket, chunkSizeMiB: 0.25);
        var data = RandomBytes((3 * MiB) + 12345, 3);

        await using (var writer = await store.OpenWriteAsync("w.bin"))
        {
            for (var i = 0; i < data.Length; i += 100_000)
            {
                writer.Write(data, i, Math.Min(100_000, data.Length - i));
            }

            Assert.False(server.TryGetObject(bucket, "w.bin", out _, out _));
            await writer.CompleteAsync();
        }

        Assert.True(server.TryGetObject(bucket, "w.bin", out var stored, out _));
        Assert.Equal(data, stored);
    }

    [Fact]
    public async Task OpenReadAsync_LargeObject_ReadsInParallelRangedRequestsAndChecksTheCrc32C()
    {
        await using var server = await GcsTestServer.StartAsync();
        using var store = Create(server, chunkSizeMiB: 1, concurrency: 4);
        var data = RandomBytes((10 * MiB) + 7, 10);
        await store.PutAsync("r.bin", new MemoryStream(data));
        var before = server.Counters.Downloads;

        var read = await ReadAllAsync(store, "r.bin");

        Assert.Equal(data, read);
        Assert.Equal(11, server.Counters.Downloads - before);
    }

    [Fact]
    public async Task OpenReadAsync_Range_IsPinnedToTheGenerationItOpened()
    {
        await using var server = await GcsTestServer.StartAsync();
        using var store = Create(server, chunkSizeMiB: 0.25, concurrency: 1);
        var first = RandomBytes(2 * MiB, 1);
        await store.PutAsync("v.bin", new MemoryStream(first));

        var stream = await store.OpenReadAsync("v.bin", new ByteRange(100, MiB));
        await using (stream)
        {
            await store.PutAsync("v.bin", new MemoryStream(RandomBytes(2 * MiB, 2)));
            var buffer = new byte[MiB];

            // The first chunk was fetched with the stream; a later one names a generation that no longer exists.
            var error = await Record.ExceptionAsync(async () => await stream.ReadExactlyAsync(buffer));

            Assert.IsType<PreconditionFailedException>(error);
        }
    }

    private static async Task<byte[]> ReadAllAsync(GcsCheckpointStore store, string key)
    {
        var stream = await store.OpenReadAsync(key);
        await using (stream)
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            return copy.ToArray();
        }
    }

    /// <summary>A stream of unknown length, as a training loop's writer produces.</summary>
    private sealed class NonSeekableStream(byte[] data) : MemoryStream(data, writable: false)
    {
        public override bool CanSeek => false;
    }
}
