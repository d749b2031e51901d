using Konduktor.Storage.Testing;

namespace Konduktor.Storage.S3.Tests;

/// <summary>The runtime outputs on a real Ceph RadosGW, under a fresh prefix of the shared bucket per test.</summary>
[Collection("RadosGW")]
public sealed class S3OutputsConformanceTests(RadosGwServer server) : RuntimeOutputsConformanceTests
{
    protected override async Task<ICheckpointStore> CreateStoreAsync() => await S3TestStores.CreateAsync(server);
}
