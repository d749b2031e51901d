using System.Net;
using System.Net.Sockets;

using Konduktor.Storage.Testing;

namespace Konduktor.Storage.Tests;

internal static class ResilienceTestSupport
{
    /// <summary>Tiny delays so retries cost milliseconds; generous timeouts so only the tests that mean to hit them do.</summary>
    public static ResilienceOptions Fast(int maxRetryAttempts = 6) => new()
    {
        MaxRetryAttempts = maxRetryAttempts,
        BaseDelay = TimeSpan.FromMilliseconds(1),
        MaxDelay = TimeSpan.FromMilliseconds(5),
        AttemptTimeout = TimeSpan.FromSeconds(20),
        TotalTimeout = TimeSpan.FromSeconds(60),
        StallTimeout = TimeSpan.FromSeconds(20),
    };

    public static Exception Fault(string kind) => kind switch
    {
        "store-503" => new TransientStoreException("503 Service Unavailable"),
        "socket" => new SocketException((int)SocketError.ConnectionReset),
        "io-socket" => new IOException("Unable to read data from the transport connection.", new SocketException((int)SocketError.ConnectionReset)),
        "timeout" => new TimeoutException("The operation has timed out."),
        "http-body-ended" => new HttpIOException(HttpRequestError.ResponseEnded, "The response ended prematurely, with at least 1 additional bytes expected."),
        "http-no-status" => new HttpRequestException("An error occurred while sending the request."),
        "http-503" => new HttpRequestException("Service Unavailable", null, HttpStatusCode.ServiceUnavailable),
        "http-429" => new HttpRequestException("Too Many Requests", null, HttpStatusCode.TooManyRequests),
        "not-found" => new ObjectNotFoundException(new Uri("memory://t/"), "k"),
        "precondition" => new PreconditionFailedException(new Uri("memory://t/"), "k", "it already exists"),
        "access-denied" => new StoreAccessDeniedException(new Uri("memory://t/"), "environment", "403 Forbidden"),
        "argument" => new ArgumentException("The key is not valid."),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static byte[] RandomBytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    public static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    public static async Task<(FaultInjectingStore Faults, ResilientCheckpointStore Store)> CreateAsync(
        ResilienceOptions options, params (string Key, byte[] Data)[] objects)
    {
        var memory = new InMemoryCheckpointStore();
        foreach (var (key, data) in objects)
        {
            await memory.PutAsync(key, new MemoryStream(data));
        }

        var faults = new FaultInjectingStore(memory);
        return (faults, new ResilientCheckpointStore(faults, options));
    }
}
