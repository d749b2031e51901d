using Konduktor.Storage.Testing;

namespace Konduktor.Storage.Gcs.Tests;

/// <summary>The collective-checkpoint suite on the loopback GCS test server: one store client per rank over one bucket.</summary>
public sealed class GcsCollectiveTests(GcsServerFixture fixture) : CollectiveCheckpointTests, IClassFixture<GcsServerFixture>
{
    private readonly string _bucket = GcsTestStores.NewBucket(fixture.Server);

    protected override Task<ICheckpointStore> OpenStoreAsync() =>
        Task.FromResult<ICheckpointStore>(GcsTestStores.Create(fixture.Server, _bucket, prefix: "collective"));
}
