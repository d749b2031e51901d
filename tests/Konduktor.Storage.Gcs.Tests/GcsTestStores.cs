using Konduktor.Storage.Testing;

namespace Konduktor.Storage.Gcs.Tests;

/// <summary>One loopback GCS test server shared by the tests of a class (each test uses a bucket of its own).</summary>
public sealed class GcsServerFixture : IAsyncLifetime
{
    public GcsTestServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await GcsTestServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>Stores over the project's loopback GCS test server.</summary>
internal static class GcsTestStores
{
    public const int MiB = 1024 * 1024;

    /// <summary>Retries with tiny delays, so retry-heavy tests stay fast.</summary>
    public static ResilienceOptions FastRetries(int maxRetryAttempts = 4) => new()
    {
        MaxRetryAttempts = maxRetryAttempts,
        BaseDelay = TimeSpan.FromMilliseconds(5),
        MaxDelay = TimeSpan.FromSeconds(5),
        AttemptTimeout = TimeSpan.FromSeconds(30),
        StallTimeout = TimeSpan.FromSeconds(30),
        TotalTimeout = TimeSpan.FromMinutes(2),
    };

    /// <summary>A fresh bucket on the server.</summary>
    public static string NewBucket(GcsTestServer server)
    {
        var bucket = $"k-{Guid.NewGuid():N}";
        server.CreateBucket(bucket);
        return bucket;
    }

    /// <summary>A store over the server, in a fresh bucket unless one is given, at an optional prefix.</summary>
    public static GcsCheckpointStore Create(
        GcsTestServer server, string? bucket = null, string? prefix = null, double chunkSizeMiB = 1, int concurrency = 3, ResilienceOptions? retries = null, Microsoft.Extensions.Logging.ILogger? logger = null)
    {
        bucket ??= NewBucket(server);
        return new GcsCheckpointStore(
            new Uri($"gs://{bucket}/{prefix}"),
            new GcsStoreOptions { Endpoint = server.BaseUri.ToString(), PartSizeMiB = chunkSizeMiB, Concurrency = concurrency },
            credential: null,
            new StoreRetryPolicy(retries ?? FastRetries()),
            logger,
            timeProvider: null,
            environment: _ => null);
    }

    public static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
