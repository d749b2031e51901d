using Konduktor.Storage.Testing;

namespace Konduktor.Storage.Gcs.Tests;

/// <summary>The runtime outputs on the project's loopback GCS test server (a 16 MiB growing file: the server keeps objects in memory).</summary>
public sealed class GcsOutputsConformanceTests(GcsServerFixture fixture) : RuntimeOutputsConformanceTests, IClassFixture<GcsServerFixture>
{
    protected override int GrowingFileMiB => 16;

    protected override Task<ICheckpointStore> CreateStoreAsync() => Task.FromResult<ICheckpointStore>(GcsTestStores.Create(fixture.Server, prefix: "p"));
}
