using Konduktor.Storage.Testing;

using static Konduktor.Storage.S3.Tests.S3ManagerTestSupport;

namespace Konduktor.Storage.S3.Tests;

/// <summary>
/// Several transfers at once share one store's <see cref="S3StoreOptions.Concurrency"/> instead of multiplying it (and the
/// part buffers it costs): parts in flight over all uploads, read-ahead over all parallel reads. Through a loopback proxy
/// in front of a real RadosGW, which counts the requests in flight.
/// </summary>
[Collection("RadosGW")]
public sealed class S3SharedConcurrencyTests(RadosGwServer server)
{
    [Fact]
    public async Task ThreeUploadsAtOnce_NeverHaveMorePartsInFlightThanTheStoresConcurrency()
    {
        await using var proxy = new LoopbackFaultProxy(server.Endpoint);
        static bool IsPart(string method, string target) => method == "PUT" && target.Contains("partNumber=", StringComparison.Ordinal);
        proxy.ConcurrencyFilter = IsPart;

        // Every part answers late, so that parts of different uploads are surely in flight together.
        proxy.Inject(new ProxyFault.StallBeforeResponse(TimeSpan.FromMilliseconds(150)), count: 100, IsPart);
        using var store = await CreateAsync(proxy, concurrency: 2);
        var data = Enumerable.Range(0, 3).Select(i => RandomBytes(15 * MiB, 40 + i)).ToList();

        await Task.WhenAll(data.Select(async (bytes, i) =>
        {
            var writer = await store.OpenWriteAsync($"shared/{i}.bin");
            await using (writer)
            {
                for (var offset = 0; offset < bytes.Length; offset += MiB)
                {
                    await writer.WriteAsync(bytes.AsMemory(offset, MiB));
                }

                await writer.CompleteAsync();
            }
        }));

        Assert.Equal(2, proxy.MaxConcurrentRequests);
        for (var i = 0; i < data.Count; i++)
        {
            Assert.Equal(data[i], await ReadAllAsync(store, $"shared/{i}.bin"));
        }
    }

    [Fact]
    public async Task ThreeReadsOpenAtOnce_ShareTheReadAheadAndStillDeliverEveryByte()
    {
        await using var proxy = new LoopbackFaultProxy(server.Endpoint);
        using var store = await CreateAsync(proxy, concurrency: 6);
        var data = Enumerable.Range(0, 3).Select(i => RandomBytes(30 * MiB, 50 + i)).ToList();
        for (var i = 0; i < data.Count; i++)
        {
            await store.PutAsync($"shared/{i}.bin", new MemoryStream(data[i]));
        }

        var before = proxy.Requests;
        await using var reads = await ParallelReads.OpenAsync(store, Enumerable.Range(0, data.Count).Select(i => $"shared/{i}.bin"));

        // Alone, each read would keep six of its six 5 MiB parts fetched or in flight (eighteen GETs). Sharing, the first
        // (alone when it opened) starts its six, the second its share of three, the third its share of two.
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(6 + 3 + 2, proxy.Requests - before);
        Assert.Equal(data, await reads.ReadAllAsync());
    }

    private async Task<S3CheckpointStore> CreateAsync(LoopbackFaultProxy proxy, int concurrency)
    {
        await S3TestStores.EnsureBucketAsync(server);
        return new S3CheckpointStore(
            new Uri($"s3://{S3TestStores.Bucket}/{NewPrefix()}"),
            S3TestStores.Options(server, o =>
            {
                o.Endpoint = proxy.Endpoint.ToString();
                o.Concurrency = concurrency;
            }),
            S3TestStores.Credentials(server),
            new StoreRetryPolicy(FastRetries(2)),
            logger: null,
            timeProvider: null,
            environment: _ => null);
    }

    private static async Task<byte[]> ReadAllAsync(S3CheckpointStore store, string key)
    {
        await using var stream = await store.OpenReadAsync(key);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }
}
