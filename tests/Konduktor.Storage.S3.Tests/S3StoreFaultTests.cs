using System.Net;

namespace Konduktor.Storage.S3.Tests;

/// <summary>Per-part retries and clean-up when requests fail, with failures injected between the SDK and a real RadosGW.</summary>
[Collection("RadosGW")]
public sealed class S3StoreFaultTests(RadosGwServer server)
{
    private const int MiB = 1024 * 1024;

    [Fact]
    public async Task Write_PartThrottledTwice_IsRetriedAndTheObjectRoundTrips()
    {
        var faults = new FaultInjection((request, earlier) =>
            IsPart(request, 2) && earlier < 2 ? new FaultInjection.Fault(HttpStatusCode.ServiceUnavailable, "SlowDown") : null);
        using var store = await S3TestStores.CreateAsync(server, faults: faults);
        var data = RandomBytes(16 * MiB + 3);

        await WriteAsync(store, "k", data);

        Assert.Equal(2, faults.Injected);
        Assert.Equal(3, faults.Count(HttpMethod.Put, "partNumber=2&"));
        Assert.Equal(data, await ReadAllAsync(store, "k"));
    }

    [Fact]
    public async Task Write_PartDroppedConnection_IsRetried()
    {
        var faults = new FaultInjection((request, earlier) => IsPart(request, 1) && earlier == 0 ? FaultInjection.Fault.Dropped : null);
        using var store = await S3TestStores.CreateAsync(server, faults: faults);
        var data = RandomBytes(12 * MiB);

        await WriteAsync(store, "k", data);

        Assert.Equal(1, faults.Injected);
        Assert.Equal(data, await ReadAllAsync(store, "k"));
    }

    [Fact]
    public async Task Write_PartAccessDenied_FailsAtOnceAndAbortsTheUpload()
    {
        var faults = new FaultInjection((request, _) => IsPart(request, 2) ? new FaultInjection.Fault(HttpStatusCode.Forbidden, "AccessDenied") : null);
        using var store = await S3TestStores.CreateAsync(server, faults: faults);

        await Assert.ThrowsAsync<StoreAccessDeniedException>(() => WriteAsync(store, "k", RandomBytes(16 * MiB)));

        Assert.Equal(1, faults.Count(HttpMethod.Put, "partNumber=2&"));
        Assert.Null(await store.StatAsync("k"));
        Assert.Empty(await S3TestStores.PendingUploadsAsync(server, store));
    }

    [Fact]
    public async Task Write_PartAlwaysFailing_GivesUpAfterTheRetriesAndAborts()
    {
        var faults = new FaultInjection((request, _) => IsPart(request, 1) ? new FaultInjection.Fault(HttpStatusCode.InternalServerError, "InternalError") : null);
        using var store = await S3TestStores.CreateAsync(server, faults: faults);

        var ex = await Assert.ThrowsAsync<RetriesExhaustedException>(() => WriteAsync(store, "k", RandomBytes(16 * MiB)));

        Assert.Equal(3, ex.Attempts);
        Assert.Null(await store.StatAsync("k"));
        Assert.Empty(await S3TestStores.PendingUploadsAsync(server, store));
    }

    [Fact]
    public async Task Read_RangedPartFailsOnce_IsRetriedAndByteExact()
    {
        // The first GET fetches 1 MiB, the rest comes in 5 MiB parts: at 1, 6, 11 and 16 MiB.
        var faults = new FaultInjection((request, earlier) =>
            request.Method == HttpMethod.Get && request.Headers.Range?.Ranges.FirstOrDefault()?.From == 6 * MiB && earlier == 0
                ? FaultInjection.Fault.Dropped
                : null);
        using var store = await S3TestStores.CreateAsync(server, faults: faults);
        var data = RandomBytes(18 * MiB);
        await WriteAsync(store, "k", data);

        var read = await ReadAllAsync(store, "k");

        Assert.Equal(1, faults.Injected);
        Assert.Equal(data, read);
    }

    [Fact]
    public async Task Put_ServerError_SurfacesAsTransientForTheCallerToRetry()
    {
        var faults = new FaultInjection((request, _) => request.Method == HttpMethod.Put ? new FaultInjection.Fault(HttpStatusCode.ServiceUnavailable, "SlowDown") : null);
        using var store = await S3TestStores.CreateAsync(server, faults: faults);

        await Assert.ThrowsAsync<TransientStoreException>(() => store.PutAsync("k", new MemoryStream([1, 2, 3])));
    }

    private static bool IsPart(HttpRequestMessage request, int number) =>
        request.Method == HttpMethod.Put && request.RequestUri!.Query.Contains($"partNumber={number}&", StringComparison.Ordinal);

    private static async Task WriteAsync(S3CheckpointStore store, string key, byte[] data)
    {
        var writer = await store.OpenWriteAsync(key);
        await using (writer)
        {
            await writer.WriteAsync(data);
            await writer.CompleteAsync();
        }
    }

    private static async Task<byte[]> ReadAllAsync(S3CheckpointStore store, string key)
    {
        var stream = await store.OpenReadAsync(key);
        await using (stream)
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            return copy.ToArray();
        }
    }

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }
}
