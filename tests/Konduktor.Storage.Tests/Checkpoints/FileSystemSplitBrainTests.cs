using Konduktor.Storage.Testing;

namespace Konduktor.Storage.Tests.Checkpoints;

/// <summary>The split-brain suite on the file-system store: two store clients over one folder.</summary>
public sealed class FileSystemSplitBrainTests : SplitBrainTests, IDisposable
{
    private readonly string _root = Path.Join(Path.GetTempPath(), "konduktor-split-" + Guid.NewGuid().ToString("N"));

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
