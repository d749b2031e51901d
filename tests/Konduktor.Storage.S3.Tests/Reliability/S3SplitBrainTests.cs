using Konduktor.Storage.Testing;

namespace Konduktor.Storage.S3.Tests.Reliability;

/// <summary>The split-brain suite on RadosGW: two S3 clients over one fresh prefix.</summary>
[Collection("RadosGW")]
public sealed class S3SplitBrainTests(RadosGwServer server) : SplitBrainTests
{
    private readonly Uri _location = new($"s3://{S3TestStores.Bucket}/split-{Guid.NewGuid():N}");

    protected override async Task<ICheckpointStore> OpenStoreAsync()
    {
        await S3TestStores.EnsureBucketAsync(server);
        return new S3CheckpointStore(_location, S3TestStores.Options(server), S3TestStores.Credentials(server));
    }
}
