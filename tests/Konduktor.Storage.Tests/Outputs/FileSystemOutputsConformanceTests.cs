using Konduktor.Storage.Testing;

namespace Konduktor.Storage.Tests.Outputs;

public sealed class FileSystemOutputsConformanceTests : RuntimeOutputsConformanceTests
{
    protected override Task<ICheckpointStore> CreateStoreAsync() =>
        Task.FromResult<ICheckpointStore>(new FileSystemCheckpointStore(Directory.CreateDirectory(Path.Combine(TestRoot, "store")).FullName));
}
