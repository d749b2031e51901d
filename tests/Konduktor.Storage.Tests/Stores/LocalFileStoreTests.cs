using Konduktor.Storage.Testing;

using Microsoft.Win32.SafeHandles;

using static Konduktor.Storage.Tests.CheckpointTestKit;

namespace Konduktor.Storage.Tests;

/// <summary>
/// The local-file capability (<see cref="ILocalFileStore"/>) is found through decorators: a store wrapping the file-system
/// store that forwards it keeps the kernel copies of saves and restores, and the refusal of overlapping directories.
/// A kernel copy reports progress once per copy chunk (16 MiB); a streamed copy once per buffer, which these tests make small.
/// </summary>
public sealed class LocalFileStoreTests
{
    // Sixteen buffers, far below one kernel copy chunk.
    private const int BufferBytes = 64 * 1024;
    private const int FileBytes = 16 * BufferBytes;

    private readonly string _root = TempDirectory();

    [Fact]
    public async Task SaveDirectoryAsync_DecoratedFileSystemStore_CopiesInsideTheKernel()
    {
        var manager = Manager(new ForwardingStore(new FileSystemCheckpointStore(_root)), o => o.BufferSize = BufferBytes);
        var source = await SourceAsync();
        var progress = new List<TransferProgress>();

        await manager.SaveDirectoryAsync(1, source, progress: new SyncProgress(progress));

        Assert.Equal(FileBytes, Assert.Single(progress).FileBytes);
    }

    [Fact]
    public async Task RestoreLatestAsync_DecoratedFileSystemStore_CopiesInsideTheKernel()
    {
        var manager = Manager(new ForwardingStore(new FileSystemCheckpointStore(_root)), o => o.BufferSize = BufferBytes);
        await manager.SaveDirectoryAsync(1, await SourceAsync());
        var progress = new List<TransferProgress>();

        var result = await manager.RestoreLatestAsync(Path.Combine(TempDirectory(), "restored"), new SyncProgress(progress));

        Assert.Equal(1, result.Step);
        Assert.Equal(FileBytes, Assert.Single(progress).FileBytes);
        Assert.Equal(Bytes(FileBytes, 7), await File.ReadAllBytesAsync(Path.Combine(result.Directory!, "model.bin")));
    }

    [Fact]
    public async Task RestoreLatestAsync_DecoratorWithoutTheCapability_StreamsTheFile()
    {
        var manager = Manager(new DelegatingStore(new FileSystemCheckpointStore(_root)), o => o.BufferSize = BufferBytes);
        await manager.SaveDirectoryAsync(1, await SourceAsync());
        var progress = new List<TransferProgress>();

        var result = await manager.RestoreLatestAsync(Path.Combine(TempDirectory(), "restored"), new SyncProgress(progress));

        Assert.Equal(1, result.Step);
        Assert.True(progress.Count > 1);
        Assert.Equal(Bytes(FileBytes, 7), await File.ReadAllBytesAsync(Path.Combine(result.Directory!, "model.bin")));
    }

    [Fact]
    public async Task SaveDirectoryAsync_DirectoryInsideADecoratedStoresRoot_Refused()
    {
        var manager = Manager(new ForwardingStore(new FileSystemCheckpointStore(_root)));
        var inside = Directory.CreateDirectory(Path.Combine(_root, "inside")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(inside, "a.bin"), [1]);

        await Assert.ThrowsAsync<ArgumentException>(() => manager.SaveDirectoryAsync(1, inside));
    }

    private static async Task<string> SourceAsync()
    {
        var source = TempDirectory();
        await File.WriteAllBytesAsync(Path.Combine(source, "model.bin"), Bytes(FileBytes, 7));
        return source;
    }

    /// <summary>A decorator, as a user would write one, that forwards the local-file capability of the store it wraps.</summary>
    private sealed class ForwardingStore(FileSystemCheckpointStore inner) : DelegatingStore(inner), ILocalFileStore
    {
        private readonly ILocalFileStore _local = inner;

        public string? LocalRoot => _local.LocalRoot;

        public FileStream? OpenLocalFile(string key) => _local.OpenLocalFile(key);

        public Task<long?> AppendLocalFileAsync(
            ObjectWriteStream writer, SafeFileHandle source, long offset, long length, ContentHash hash, Action<long>? onProgress, CancellationToken cancellationToken = default) =>
            _local.AppendLocalFileAsync(writer, source, offset, length, hash, onProgress, cancellationToken);
    }

    private sealed class SyncProgress(List<TransferProgress> sink) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value)
        {
            lock (sink)
            {
                sink.Add(value);
            }
        }
    }
}
