using Konduktor.Storage.Testing;

namespace Konduktor.Storage.S3.Tests;

/// <summary>
/// The store conformance suite on a real Ceph RadosGW. Each test gets a bucket of its own: the suite writes keys of S3's
/// full 1024-byte length, which a store prefix would push over the limit (prefixed stores are covered by the other tests).
/// </summary>
[Collection("RadosGW")]
public sealed class S3StoreConformanceTests(RadosGwServer server) : CheckpointStoreConformanceTests
{
    protected override async Task<ICheckpointStore> CreateStoreAsync() => await S3TestStores.CreateInOwnBucketAsync(server);
}
