using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

using Konduktor.Storage.S3;

namespace Konduktor.Storage.Reliability;

/// <summary>
/// Where a campaign's processes keep their checkpoints: the location and environment they are started with, and the
/// harness's own view of the same store, to look at what is committed behind their backs.
/// </summary>
public sealed class CampaignStore : IDisposable
{
    private CampaignStore(string name, string location, ICheckpointStore store, IReadOnlyDictionary<string, string> environment)
    {
        Name = name;
        Location = location;
        Store = store;
        Environment = environment;
    }

    /// <summary>"fs" or "s3".</summary>
    public string Name { get; }

    /// <summary>What the processes get as <c>Konduktor:Checkpoints:Location</c>.</summary>
    public string Location { get; }

    /// <summary>The harness's view of the store.</summary>
    public ICheckpointStore Store { get; }

    /// <summary>The variables a process needs to reach the store (location, endpoint, keys).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary>A file-system store rooted at <paramref name="root"/> (created).</summary>
    public static CampaignStore FileSystem(string root)
    {
        Directory.CreateDirectory(root);
        return new CampaignStore("fs", root, new FileSystemCheckpointStore(root), new Dictionary<string, string>
        {
            ["Konduktor__Checkpoints__Location"] = root,
        });
    }

    /// <summary>
    /// An S3 store at a fresh prefix of <paramref name="bucket"/> on the server at <paramref name="endpoint"/> (the bucket
    /// is created when missing). Small parts, so a payload of a few MiB goes as a multipart upload.
    /// </summary>
    public static async Task<CampaignStore> S3Async(Uri endpoint, string accessKey, string secretKey, string bucket, CancellationToken cancellationToken = default)
    {
        var credentials = new BasicAWSCredentials(accessKey, secretKey);
        using (var client = new AmazonS3Client(credentials, new AmazonS3Config
        {
            ServiceURL = endpoint.ToString(),
            ForcePathStyle = true,
            AuthenticationRegion = Region,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            IgnoreConfiguredEndpointUrls = true,
        }))
        {
            try
            {
                await client.PutBucketAsync(new PutBucketRequest { BucketName = bucket }, cancellationToken).ConfigureAwait(false);
            }
            catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
            {
                // created by an earlier campaign
            }
        }

        var location = $"s3://{bucket}/kill-{Guid.NewGuid():N}";
        var store = new S3CheckpointStore(new Uri(location), new S3StoreOptions { Endpoint = endpoint.ToString(), PartSizeMiB = PartSizeMiB }, credentials);
        return new CampaignStore("s3", location, store, new Dictionary<string, string>
        {
            ["Konduktor__Checkpoints__Location"] = location,
            ["Konduktor__Checkpoints__S3__PartSizeMiB"] = PartSizeMiB.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["AWS_ENDPOINT_URL_S3"] = endpoint.ToString(),
            ["AWS_ACCESS_KEY_ID"] = accessKey,
            ["AWS_SECRET_ACCESS_KEY"] = secretKey,
            ["AWS_REGION"] = Region,
        });
    }

    private const string Region = "us-east-1";

    private const int PartSizeMiB = 5;

    /// <summary>Every object under <paramref name="prefix"/> (recursively), keys relative to the store's location.</summary>
    public async Task<IReadOnlyList<ObjectInfo>> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var objects = new List<ObjectInfo>();
        await foreach (var entry in Store.ListAsync(prefix, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (!entry.IsPrefix && entry.Info is { } info)
            {
                objects.Add(info);
            }
        }

        return objects;
    }

    public void Dispose() => (Store as IDisposable)?.Dispose();
}
