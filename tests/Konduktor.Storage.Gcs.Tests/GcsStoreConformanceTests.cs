using Konduktor.Storage.Testing;

namespace Konduktor.Storage.Gcs.Tests;

/// <summary>
/// The store conformance suite on the project's loopback GCS test server. Each test gets a bucket of its own: the suite
/// writes keys of the full 1024-byte length, which a store prefix would push over the limit.
/// </summary>
public sealed class GcsStoreConformanceTests(GcsServerFixture fixture) : CheckpointStoreConformanceTests, IClassFixture<GcsServerFixture>
{
    protected override Task<ICheckpointStore> CreateStoreAsync() => Task.FromResult<ICheckpointStore>(GcsTestStores.Create(fixture.Server, chunkSizeMiB: 0.25));
}
