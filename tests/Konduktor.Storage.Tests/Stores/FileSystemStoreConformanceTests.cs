using Konduktor.Storage.Testing;

namespace Konduktor.Storage.Tests.Stores;

public sealed class FileSystemStoreConformanceTests : CheckpointStoreConformanceTests, IDisposable
{
    private readonly string _root = Path.Join(Path.GetTempPath(), "konduktor-fs-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    protected override Task<ICheckpointStore> CreateStoreAsync()
    {
        Directory.CreateDirectory(_root);
        return Task.FromResult<ICheckpointStore>(new FileSystemCheckpointStore(_root));
    }
}
