using Konduktor.Storage.Testing;

namespace Konduktor.Storage.Tests.Outputs;

public sealed class InMemoryOutputsConformanceTests : RuntimeOutputsConformanceTests
{
    protected override int GrowingFileMiB => 16;

    protected override Task<ICheckpointStore> CreateStoreAsync() => Task.FromResult<ICheckpointStore>(new InMemoryCheckpointStore("outputs"));
}
