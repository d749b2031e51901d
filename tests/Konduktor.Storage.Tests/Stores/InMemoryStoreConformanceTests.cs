using Konduktor.Storage.Testing;

namespace Konduktor.Storage.Tests.Stores;

public sealed class InMemoryStoreConformanceTests : CheckpointStoreConformanceTests
{
    protected override Task<ICheckpointStore> CreateStoreAsync() =>
        Task.FromResult<ICheckpointStore>(new InMemoryCheckpointStore("conformance"));
}
