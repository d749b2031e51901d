using Konduktor.Storage.Testing;

namespace Konduktor.Storage.Tests;

/// <summary>The collective-checkpoint suite on the file-system store: one store client per rank over one folder.</summary>
public sealed class FileSystemCollectiveTests : CollectiveCheckpointTests, IDisposable
{
    private readonly string _root = Path.Join(Path.GetTempPath(), "konduktor-collective-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    protected override Task<ICheckpointStore> OpenStoreAsync()
    {
        Directory.CreateDirectory(_root);
        return Task.FromResult<ICheckpointStore>(new FileSystemCheckpointStore(_root));
    }
}
