using System.Collections.Concurrent;

using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Konduktor.Storage.S3.Tests;

/// <summary>Stores and raw SDK clients over the test RadosGW: one bucket per server, a fresh prefix per store.</summary>
internal static class S3TestStores
{
    public const string Bucket = "konduktor-tests";

    private static readonly ConcurrentDictionary<Uri, Lazy<Task>> Buckets = new();

    /// <summary>Options for the test server: its endpoint, compatibility Auto, small parts.</summary>
    public static S3StoreOptions Options(RadosGwServer server, Action<S3StoreOptions>? configure = null)
    {
        // RadosGW honours If-Match on DELETE.
        var options = new S3StoreOptions { Endpoint = server.Endpoint.ToString(), PartSizeMiB = 5, Concurrency = 3, ConditionalDelete = true };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>A store rooted at a fresh prefix of the shared bucket (created once).</summary>
    public static async Task<S3CheckpointStore> CreateAsync(
        RadosGwServer server, Action<S3StoreOptions>? configure = null, AWSCredentials? credentials = null, FaultInjection? faults = null)
    {
        await EnsureBucketAsync(server);
        return new S3CheckpointStore(
            new Uri($"s3://{Bucket}/t-{Guid.NewGuid():N}"),
            Options(server, configure),
            credentials ?? Credentials(server),
            new StoreRetryPolicy(new ResilienceOptions { MaxRetryAttempts = 2, BaseDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(50) }),
            logger: null,
            timeProvider: null,
            environment: _ => null,
            configureClient: faults is null ? null : config => config.HttpClientFactory = faults);
    }

    /// <summary>A store over a bucket of its own, without a prefix, so keys may use S3's whole 1024-byte length.</summary>
    public static async Task<S3CheckpointStore> CreateInOwnBucketAsync(RadosGwServer server)
    {
        var bucket = $"k-{Guid.NewGuid():N}";
        using (var client = RawClient(server))
        {
            await client.PutBucketAsync(new PutBucketRequest { BucketName = bucket });
        }

        return new S3CheckpointStore(new Uri($"s3://{bucket}"), Options(server), Credentials(server));
    }

    public static BasicAWSCredentials Credentials(RadosGwServer server) => new(server.AccessKey, server.SecretKey);

    /// <summary>A raw SDK client for checks behind the store's back.</summary>
    public static AmazonS3Client RawClient(RadosGwServer server) => new(Credentials(server), new AmazonS3Config
    {
        ServiceURL = server.Endpoint.ToString(),
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        IgnoreConfiguredEndpointUrls = true,
    });

    /// <summary>The multipart uploads in progress under a store's prefix.</summary>
    public static async Task<List<MultipartUpload>> PendingUploadsAsync(RadosGwServer server, S3CheckpointStore store)
    {
        using var client = RawClient(server);
        var response = await client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = store.Bucket, Prefix = store.Prefix + "/" });
        return response.MultipartUploads ?? [];
    }

    public static Task EnsureBucketAsync(RadosGwServer server) =>
        Buckets.GetOrAdd(server.Endpoint, _ => new Lazy<Task>(async () =>
        {
            using var client = RawClient(server);
            try
            {
                await client.PutBucketAsync(new PutBucketRequest { BucketName = Bucket });
            }
            catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
            {
            }
        })).Value;
}
