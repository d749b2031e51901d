using static Konduktor.Storage.Tests.CheckpointTestKit;

namespace Konduktor.Storage.Tests;

/// <summary>
/// Saves and restores between local files and a file-system store, which go through the kernel copy
/// (<see cref="LocalFileCopy"/>) rather than streams: same bytes, same checksums, same fallback past corruption.
/// </summary>
public sealed class FileSystemTransferTests
{
    // Larger than one copy chunk, so chunks are copied while the one before is hashed.
    private const int Large = (2 * LocalFileCopy.DefaultChunkBytes) + 12_345;

    private readonly string _root;
    private readonly FileSystemCheckpointStore _store;

    public FileSystemTransferTests()
    {
        _root = TempDirectory();
        _store = new FileSystemCheckpointStore(_root);
    }

    [Fact]
    public async Task SaveDirectoryAsync_ThenRestoreLatestAsync_SameBytesAndChecksums()
    {
        var manager = Manager(_store);
        var source = TempDirectory();
        var large = Bytes(Large, 1);
        await File.WriteAllBytesAsync(Path.Combine(source, "model.bin"), large);
        Directory.CreateDirectory(Path.Combine(source, "sub"));
        await File.WriteAllBytesAsync(Path.Combine(source, "sub", "empty.bin"), []);
        var saveProgress = new List<TransferProgress>();
        var restoreProgress = new List<TransferProgress>();

        var manifest = await manager.SaveDirectoryAsync(3, source, progress: new SyncProgress(saveProgress));
        var target = Path.Combine(TempDirectory(), "restored");
        var result = await manager.RestoreLatestAsync(target, new SyncProgress(restoreProgress));

        Assert.Equal(3, result.Step);
        Assert.Equal(ContentHash.Of(large), manifest.Files.Single(f => f.Name == "model.bin").Checksum);
        Assert.Equal(ContentHash.Of([]), manifest.Files.Single(f => f.Name == "sub/empty.bin").Checksum);
        Assert.Equal(large, await _store.ReadAllAsync(DataKey(manager, manifest, "model.bin")));
        Assert.Equal(large, await File.ReadAllBytesAsync(Path.Combine(target, "model.bin")));
        Assert.Empty(await File.ReadAllBytesAsync(Path.Combine(target, "sub", "empty.bin")));
        Assert.Equal(Large, saveProgress.Where(p => p.File == "model.bin").Max(p => p.FileBytes));
        Assert.Equal(Large, restoreProgress.Where(p => p.File == "model.bin").Max(p => p.FileBytes));
    }

    [Fact]
    public async Task AddFileAsync_FileStreamPartWayThrough_SavesTheRestAndLeavesTheStreamAtItsEnd()
    {
        var manager = Manager(_store);
        var data = Bytes(Large, 2);
        var path = Path.Combine(TempDirectory(), "data.bin");
        await File.WriteAllBytesAsync(path, data);

        CheckpointManifest manifest;
        await using (var file = File.OpenRead(path))
        {
            file.Position = 1000;
            var save = await manager.BeginSaveAsync(4);
            await save.AddFileAsync("tail.bin", file);
            Assert.Equal(data.Length, file.Position);
            manifest = await save.CommitAsync();
        }

        var entry = Assert.Single(manifest.Files);
        var tail = data.AsSpan(1000).ToArray();
        Assert.Equal((tail.LongLength, ContentHash.Of(tail)), (entry.Length, entry.Checksum));
        Assert.Equal(tail, await _store.ReadAllAsync(DataKey(manager, manifest, "tail.bin")));
    }

    [Fact]
    public async Task RestoreLatestAsync_NewestFlippedOnDisk_FallsBackAndLeavesNoStagingFolder()
    {
        var manager = Manager(_store);
        var older = Bytes(Large, 3);
        await manager.SaveAsync(1, ("m.bin", older));
        var newest = await manager.SaveAsync(2, ("m.bin", Bytes(Large, 4)));
        await FlipOnDiskAsync(manager, newest, "m.bin", Large - 5);
        var parent = TempDirectory();
        var target = Path.Combine(parent, "out");

        var result = await manager.RestoreLatestAsync(target);

        Assert.Equal(1, result.Step);
        Assert.Equal(older, await File.ReadAllBytesAsync(Path.Combine(target, "m.bin")));
        var skipped = Assert.Single(result.Skipped);
        Assert.Equal((2L, SkipReason.ChecksumMismatch), (skipped.Step, skipped.Reason));
        Assert.Contains("m.bin", skipped.Detail);
        Assert.Equal(["out"], Directory.GetFileSystemEntries(parent).Select(Path.GetFileName));
        Assert.NotNull(await _store.StatAsync(DataKey(manager, newest, "m.bin")));
    }

    [Fact]
    public async Task RestoreAsync_FlippedOnDisk_ThrowsAndLeavesTheTargetAlone()
    {
        var manager = Manager(_store);
        var manifest = await manager.SaveAsync(7, ("m.bin", Bytes(5000, 5)));
        await FlipOnDiskAsync(manager, manifest, "m.bin", 0);
        var target = TempDirectory();
        await File.WriteAllTextAsync(Path.Combine(target, "keep.txt"), "previous");

        var error = await Assert.ThrowsAsync<CheckpointNotFoundException>(() => manager.RestoreAsync(7, target));

        Assert.Contains("checksum", error.Message);
        Assert.Equal(["keep.txt"], Directory.GetFileSystemEntries(target).Select(Path.GetFileName));
    }

    // Rewrites the byte in place: same file, same length, so only the checksum can tell.
    private async Task FlipOnDiskAsync(CheckpointManager manager, CheckpointManifest manifest, string name, long index)
    {
        var path = Path.Combine(_root, DataKey(manager, manifest, name));
        await using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = index;
        var value = (byte)file.ReadByte();
        file.Position = index;
        file.WriteByte((byte)(value ^ 0x40));
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
