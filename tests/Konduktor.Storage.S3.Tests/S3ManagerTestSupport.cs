using System.Collections.Concurrent;

using Amazon.Runtime;
using Amazon.S3;

namespace Konduktor.Storage.S3.Tests;

/// <summary>Stores, managers and small helpers for the manager-level tests over RadosGW.</summary>
internal static class S3ManagerTestSupport
{
    public const int MiB = 1024 * 1024;

    /// <summary>Retries with tiny delays, so retry-heavy tests stay fast.</summary>
    public static ResilienceOptions FastRetries(int maxRetryAttempts) => new()
    {
        MaxRetryAttempts = maxRetryAttempts,
        BaseDelay = TimeSpan.FromMilliseconds(5),
        MaxDelay = TimeSpan.FromMilliseconds(50),
        AttemptTimeout = TimeSpan.FromSeconds(20),
        StallTimeout = TimeSpan.FromSeconds(20),
        TotalTimeout = TimeSpan.FromMinutes(2),
    };

    /// <summary>
    /// A store on <paramref name="server"/>'s test bucket, at <paramref name="prefix"/> (fresh when null), sending its requests to
    /// <paramref name="serviceUrl"/> (e.g. a fault proxy in front of the server) and retrying parts <paramref name="storeRetries"/> times.
    /// </summary>
    public static async Task<S3CheckpointStore> CreateStoreAsync(
        RadosGwServer server,
        Uri? serviceUrl = null,
        string? prefix = null,
        AWSCredentials? credentials = null,
        int storeRetries = 5,
        Action<AmazonS3Config>? configureClient = null)
    {
        await S3TestStores.EnsureBucketAsync(server);
        var options = S3TestStores.Options(server, o =>
        {
            if (serviceUrl is not null)
            {
                o.Endpoint = serviceUrl.ToString();
            }
        });
        return new S3CheckpointStore(
            new Uri($"s3://{S3TestStores.Bucket}/{prefix ?? NewPrefix()}"),
            options,
            credentials ?? S3TestStores.Credentials(server),
            new StoreRetryPolicy(FastRetries(storeRetries)),
            logger: null,
            timeProvider: null,
            environment: _ => null,
            configureClient: configureClient);
    }

    public static string NewPrefix() => $"m-{Guid.NewGuid():N}";

    /// <summary>A manager for run <paramref name="runId"/> with fast retries; retention keeps <paramref name="keepLast"/>.</summary>
    public static CheckpointManager Manager(ICheckpointStore store, string runId, int managerRetries = 5, int keepLast = 100, int restartAttempt = 0) =>
        new(store, JobContext.Create(restartAttempt: restartAttempt), new CheckpointManagerOptions
        {
            RunId = runId,
            Resilience = FastRetries(managerRetries),
            Retention = new RetentionOptions { KeepLast = keepLast },
        });

    public static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Whether a request-target (path and query) names <paramref name="fileName"/>, without a query.</summary>
    public static bool IsObject(string target, string fileName) =>
        target.Split('?')[0].EndsWith("/" + fileName, StringComparison.Ordinal);

    /// <summary>Every exception in a chain of inner exceptions.</summary>
    public static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            yield return current;
        }
    }
}

/// <summary>Reports progress synchronously, on the thread that moves the bytes (unlike <see cref="Progress{T}"/>).</summary>
internal sealed class InlineProgress(Action<TransferProgress> report) : IProgress<TransferProgress>
{
    public void Report(TransferProgress value) => report(value);
}

/// <summary>Passes every call to a store and records the keys written.</summary>
internal sealed class RecordingStore(ICheckpointStore inner) : ICheckpointStore
{
    private readonly ConcurrentQueue<string> _writes = new();

    /// <summary>Keys of every <see cref="PutAsync"/> and <see cref="OpenWriteAsync"/>, in call order.</summary>
    public IReadOnlyCollection<string> Writes => _writes;

    public Uri Location => inner.Location;

    public StoreCapabilities Capabilities => inner.Capabilities;

    public Task<ObjectInfo> PutAsync(string key, Stream content, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        _writes.Enqueue(key);
        return inner.PutAsync(key, content, options, cancellationToken);
    }

    public Task<ObjectWriteStream> OpenWriteAsync(string key, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        _writes.Enqueue(key);
        return inner.OpenWriteAsync(key, options, cancellationToken);
    }

    public Task<Stream> OpenReadAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default) =>
        inner.OpenReadAsync(key, range, cancellationToken);

    public Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default) => inner.StatAsync(key, cancellationToken);

    public IAsyncEnumerable<StoreEntry> ListAsync(string prefix, ListOptions? options = null, CancellationToken cancellationToken = default) =>
        inner.ListAsync(prefix, options, cancellationToken);

    public Task<bool> DeleteAsync(string key, string? ifMatch = null, CancellationToken cancellationToken = default) =>
        inner.DeleteAsync(key, ifMatch, cancellationToken);
}
