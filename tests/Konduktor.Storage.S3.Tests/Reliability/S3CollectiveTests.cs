using Konduktor.Storage.Testing;

namespace Konduktor.Storage.S3.Tests.Reliability;

/// <summary>The collective-checkpoint suite on RadosGW: one S3 client per rank over one fresh prefix.</summary>
[Collection("RadosGW")]
public sealed class S3CollectiveTests(RadosGwServer server) : CollectiveCheckpointTests
{
    private readonly Uri _location = new($"s3://{S3TestStores.Bucket}/collective-{Guid.NewGuid():N}");

    protected override async Task<ICheckpointStore> OpenStoreAsync()
    {
        await S3TestStores.EnsureBucketAsync(server);
        return new S3CheckpointStore(_location, S3TestStores.Options(server), S3TestStores.Credentials(server));
    }
}
