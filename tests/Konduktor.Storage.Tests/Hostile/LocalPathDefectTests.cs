using System.Diagnostics;

using Konduktor.Storage.Testing;

using static Konduktor.Storage.Tests.CheckpointTestKit;
using static Konduktor.Storage.Tests.HostileExpectations;

namespace Konduktor.Storage.Tests;

/// <summary>
/// Issue 18, defects 4, 11 and 12: the local directories a save reads and a restore fills. A save or restore never
/// overlaps the file-system store; a restore fills an existing directory in place (it never renames it, so mount points,
/// volumes and symbolic links keep working), refuses what is not a directory, and leaves nothing behind whatever happens.
/// </summary>
public sealed class LocalPathDefectTests : IDisposable
{
    private static readonly (string Name, byte[] Data)[] Checkpoint = [("a.bin", Bytes(3000, 1)), ("sub/b.bin", Bytes(700, 2))];

    private readonly string _root = TempDirectory();
    private readonly List<string> _mounts = [];

    public void Dispose()
    {
        for (var i = _mounts.Count - 1; i >= 0; i--)
        {
            LocalMounts.Unmount(_mounts[i]);
        }

        // A restore that went wrong may have moved a mount elsewhere under the root.
        foreach (var moved in LocalMounts.Below(_root))
        {
            LocalMounts.Unmount(moved);
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    // ---- defect 4: the store inside the saved or restored directory ----

    [Fact]
    public async Task SaveDirectoryAsync_DirectoryContainsTheStore_RefusesNamingBothPathsAndWritesNothing()
    {
        var work = Dir("work");
        await File.WriteAllBytesAsync(Path.Join(work, "model.bin"), Bytes(100, 1));
        var storeRoot = Path.Join(work, ".checkpoints");
        var store = new FileSystemCheckpointStore(storeRoot);
        var manager = Manager(store);

        await FailsAsync<ArgumentException>(() => manager.SaveDirectoryAsync(1, work), work, storeRoot);
        await FailsAsync<ArgumentException>(() => manager.SaveDirectoryAsync(1, work + "/."), work, storeRoot);

        Assert.Empty(await store.KeysAsync());
        Assert.Empty(await manager.ListAsync());
    }

    [Fact]
    public async Task SaveDirectoryAsync_DirectoryInsideTheStore_Refuses()
    {
        var storeRoot = Dir("store");
        var store = new FileSystemCheckpointStore(storeRoot);
        var manager = Manager(store);
        var inside = Dir("store/import");
        await File.WriteAllBytesAsync(Path.Join(inside, "model.bin"), Bytes(100, 1));

        await FailsAsync<ArgumentException>(() => manager.SaveDirectoryAsync(1, inside), inside, storeRoot);
        await FailsAsync<ArgumentException>(() => manager.SaveDirectoryAsync(1, storeRoot), storeRoot);

        Assert.Equal(["import/model.bin"], await store.KeysAsync());
    }

    [Fact]
    public async Task SaveDirectoryAsync_DirectoryReachesTheStoreThroughASymbolicLink_Refuses()
    {
        var work = Dir("work");
        await File.WriteAllBytesAsync(Path.Join(work, "model.bin"), Bytes(100, 1));
        var store = new FileSystemCheckpointStore(Path.Join(work, ".checkpoints"));
        var link = Path.Join(_root, "link");
        Directory.CreateSymbolicLink(link, work);

        await FailsAsync<ArgumentException>(() => Manager(store).SaveDirectoryAsync(1, link), link, Path.Join(work, ".checkpoints"));

        Assert.Empty(await store.KeysAsync());
    }

    [Fact]
    public async Task SaveDirectoryAsync_LinkInsideTheDirectoryToTheStore_RefusesNamingTheLinkAndCommitsNothing()
    {
        var work = Dir("work");
        await File.WriteAllBytesAsync(Path.Join(work, "model.bin"), Bytes(100, 1));
        var storeRoot = Path.Join(_root, "store");
        var store = new FileSystemCheckpointStore(storeRoot);
        await Manager(store).SaveDirectoryAsync(1, work);
        var link = Path.Join(work, "ckpt");
        Directory.CreateSymbolicLink(link, storeRoot);

        await FailsAsync<IOException>(() => Manager(store).SaveDirectoryAsync(2, work), link, storeRoot);

        Assert.DoesNotContain(await store.KeysAsync(), k => k.Contains("step-000000000002", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("work")]
    [InlineData("work/.checkpoints")]
    [InlineData("work/.checkpoints/run-1")]
    [InlineData("work/.checkpoints/run-1/rank-00000/step-000000000001")]
    [InlineData("work/.checkpoints/fresh/out")]
    public async Task RestoreLatestAsync_TargetOverlapsTheStore_RefusesNamingBothPathsAndChangesNothing(string relativeTarget)
    {
        var work = Dir("work");
        await File.WriteAllBytesAsync(Path.Join(work, "notes.txt"), Bytes(10, 9));
        var storeRoot = Path.Join(work, ".checkpoints");
        var store = new FileSystemCheckpointStore(storeRoot);
        var manager = Manager(store);
        Assert.Equal("rank-00000", manager.Scope);
        await manager.SaveAsync(1, Checkpoint);
        var before = Tree(_root);
        var target = Path.Join(_root, relativeTarget);

        await FailsAsync<ArgumentException>(() => manager.RestoreLatestAsync(target), target, storeRoot);
        await FailsAsync<ArgumentException>(() => manager.RestoreAsync(1, target), target, storeRoot);

        Assert.Equal(before, Tree(_root));
        var elsewhere = Path.Join(_root, "elsewhere");
        Assert.Equal(1, (await Manager(store).RestoreLatestAsync(elsewhere)).Step);
        AssertHolds(elsewhere, Checkpoint);
    }

    [Fact]
    public async Task RestoreLatestAsync_TargetReachesTheStoreThroughASymbolicLink_Refuses()
    {
        var storeRoot = Dir("store");
        var store = new FileSystemCheckpointStore(storeRoot);
        var manager = Manager(store);
        await manager.SaveAsync(1, Checkpoint);
        var link = Path.Join(_root, "link");
        Directory.CreateSymbolicLink(link, storeRoot);
        var before = Tree(_root);

        await FailsAsync<ArgumentException>(() => manager.RestoreLatestAsync(Path.Join(link, "run-1")), Path.Join(link, "run-1"), storeRoot);

        Assert.Equal(before, Tree(_root));
    }

    // ---- defect 11: a target that cannot be renamed (a mount point, a volume) ----

    [MountFact]
    public async Task RestoreLatestAsync_TargetIsAMountPoint_RestoresInsideItAndKeepsTheMount()
    {
        var manager = Manager(new InMemoryCheckpointStore());
        await manager.SaveAsync(1, Checkpoint);
        var parent = Dir("parent");
        var target = Dir("parent/volume");
        Mount(target);
        await File.WriteAllTextAsync(Path.Join(target, "stale.txt"), "old");
        Dir("parent/volume/old-folder");

        var result = await manager.RestoreLatestAsync(target);

        Assert.Equal(1, result.Step);
        Assert.True(LocalMounts.IsMountPoint(target), "the target is no longer a mount point");
        AssertHolds(target, Checkpoint);
        Assert.Equal(["volume"], Entries(parent));
    }

    [MountFact]
    public async Task RestoreLatestAsync_TargetHoldsAMountPoint_RefusesBeforeDownloadingNamingItAndChangesNothing()
    {
        var store = new ReadCountingStore(new InMemoryCheckpointStore());
        var manager = Manager(store);
        await manager.SaveAsync(1, Checkpoint);
        var parent = Dir("parent");
        var target = Dir("parent/out");
        await File.WriteAllTextAsync(Path.Join(target, "keep.txt"), "mine");
        var volume = Dir("parent/out/volume");
        BindMount(Dir("volume-source"), volume);
        await File.WriteAllTextAsync(Path.Join(volume, "data.txt"), "on the volume");
        var before = Tree(parent);

        await FailsAsync<ArgumentException>(() => manager.RestoreLatestAsync(target), volume);

        Assert.Equal(0, store.DataReads);
        Assert.Equal(before, Tree(parent));
        Assert.True(LocalMounts.IsMountPoint(volume));
    }

    [MountFact]
    public async Task Commit_AnEntryCannotBeMoved_PutsThePreviousContentBackAndLeavesNothing()
    {
        var parent = Dir("parent");
        var target = Dir("parent/out");
        foreach (var name in new[] { "a.txt", "m.txt", "z.txt" })
        {
            await File.WriteAllTextAsync(Path.Join(target, name), "old " + name);
        }

        var before = Tree(parent);
        var restore = RestoreTarget.Create(target, new InMemoryCheckpointStore());
        foreach (var name in new[] { "a.txt", "b.txt", "c.txt" })
        {
            await File.WriteAllTextAsync(Path.Join(restore.Staging, name), "new " + name);
        }

        // A staged entry that rename(2) refuses (EBUSY): the swap fails after the old entries were moved aside.
        var volume = Path.Join(restore.Staging, "volume");
        BindMount(Dir("volume-source"), Dir(Path.GetRelativePath(_root, volume)));

        var error = Assert.Throws<IOException>(restore.Commit);

        Assert.Contains(target, error.Message, StringComparison.Ordinal);
        Assert.Equal(before, new SortedSet<string>(Tree(parent).Where(e => !e.StartsWith("out/.konduktor-restore-", StringComparison.Ordinal)), StringComparer.Ordinal));
        LocalMounts.Unmount(volume);
        restore.Dispose();
        Assert.Equal(before, Tree(parent));
    }

    [Fact]
    public async Task RestoreLatestAsync_ExistingTarget_IsFilledInPlaceNeverRenamed()
    {
        var manager = Manager(new InMemoryCheckpointStore());
        await manager.SaveAsync(1, Checkpoint);
        var parent = Dir("parent");
        var target = Dir("parent/out");
        await File.WriteAllTextAsync(Path.Join(target, "stale.txt"), "old");
        await File.WriteAllTextAsync(Path.Join(target, "a.bin"), "old a");
        Dir("parent/out/sub/deeper");
        var inode = Inode(target);

        await manager.RestoreLatestAsync(target);

        Assert.Equal(inode, Inode(target));
        AssertHolds(target, Checkpoint);
        Assert.Equal(["out"], Entries(parent));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RestoreLatestAsync_Cancelled_LeavesThePreviousContentAndNothingElse(bool targetExists)
    {
        using var cancel = new CancellationTokenSource();
        var store = new ReadCountingStore(new InMemoryCheckpointStore());
        var manager = Manager(store);
        await manager.SaveAsync(1, Checkpoint);
        var parent = Dir("parent");
        var target = Path.Join(parent, "new", "out");
        if (targetExists)
        {
            target = Dir("parent/out");
            await File.WriteAllTextAsync(Path.Join(target, "keep.txt"), "mine");
        }

        var before = Tree(parent);
        store.OnDataRead = cancel.Cancel;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => manager.RestoreLatestAsync(target, cancellationToken: cancel.Token));

        Assert.True(store.DataReads > 0);
        Assert.Equal(before, Tree(parent));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RestoreLatestAsync_EveryCheckpointCorrupt_LeavesThePreviousContentAndNothingElse(bool targetExists)
    {
        var inner = new InMemoryCheckpointStore();
        var manager = Manager(inner);
        var saved = await manager.SaveAsync(1, Checkpoint);
        await inner.FlipByteAsync(DataKey(manager, saved, "sub/b.bin"), 5);
        var parent = Dir("parent");
        var target = Path.Join(parent, "new", "out");
        if (targetExists)
        {
            target = Dir("parent/out");
            await File.WriteAllTextAsync(Path.Join(target, "keep.txt"), "mine");
        }

        var before = Tree(parent);

        Assert.False((await manager.RestoreLatestAsync(target)).Found);

        Assert.Equal(before, Tree(parent));
    }

    // ---- defect 12: other restore-target oddities ----

    [Fact]
    public async Task RestoreLatestAsync_TargetIsASymbolicLinkToADirectory_RestoresWhereItPointsAndKeepsTheLink()
    {
        var manager = Manager(new InMemoryCheckpointStore());
        await manager.SaveAsync(1, Checkpoint);
        var parent = Dir("links");
        var real = Dir("elsewhere/real");
        await File.WriteAllTextAsync(Path.Join(real, "stale.txt"), "old");
        var link = Path.Join(parent, "out");
        Directory.CreateSymbolicLink(link, real);

        await manager.RestoreLatestAsync(link);

        Assert.Equal(real, new DirectoryInfo(link).LinkTarget);
        AssertHolds(real, Checkpoint);
        Assert.Equal(["out"], Entries(parent));
        Assert.Equal(["real"], Entries(Path.Join(_root, "elsewhere")));
    }

    [Fact]
    public async Task RestoreLatestAsync_TargetIsASymbolicLinkToNothingYet_CreatesTheDirectoryWhereItPoints()
    {
        var manager = Manager(new InMemoryCheckpointStore());
        await manager.SaveAsync(1, Checkpoint);
        var parent = Dir("links");
        var real = Path.Join(_root, "elsewhere", "real");
        var link = Path.Join(parent, "out");
        Directory.CreateSymbolicLink(link, real);

        await manager.RestoreLatestAsync(link);

        Assert.Equal(real, new DirectoryInfo(link).LinkTarget);
        AssertHolds(real, Checkpoint);
        Assert.Equal(["out"], Entries(parent));
        Assert.Equal(["real"], Entries(Path.Join(_root, "elsewhere")));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RestoreLatestAsync_TargetNameOf230Bytes_Restores(bool targetExists)
    {
        var manager = Manager(new InMemoryCheckpointStore());
        await manager.SaveAsync(1, Checkpoint);
        var parent = Dir("parent");
        var name = new string('n', 230);
        var target = Path.Join(parent, name);
        if (targetExists)
        {
            Directory.CreateDirectory(target);
            await File.WriteAllTextAsync(Path.Join(target, "stale.txt"), "old");
        }

        Assert.Equal(1, (await manager.RestoreLatestAsync(target)).Step);

        AssertHolds(target, Checkpoint);
        Assert.Equal([name], Entries(parent));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RestoreLatestAsync_TargetIsAFile_RefusesBeforeDownloadingNamingItAndLeavesIt(bool throughLink)
    {
        var store = new ReadCountingStore(new InMemoryCheckpointStore());
        var manager = Manager(store);
        await manager.SaveAsync(1, Checkpoint);
        var parent = Dir("parent");
        var target = Path.Join(parent, "out");
        await File.WriteAllTextAsync(target, "a file, not a directory");
        if (throughLink)
        {
            var link = Path.Join(parent, "link");
            File.CreateSymbolicLink(link, target);
            target = link;
        }

        var before = Tree(parent);

        await FailsAsync<ArgumentException>(() => manager.RestoreLatestAsync(target), target);
        await FailsAsync<ArgumentException>(() => manager.RestoreAsync(1, target), target);

        Assert.Equal(0, store.DataReads);
        Assert.Equal(before, Tree(parent));
        Assert.Equal("a file, not a directory", await File.ReadAllTextAsync(Path.Join(parent, "out")));
    }

    [Fact]
    public async Task RestoreLatestAsync_TargetRefusedAndNothingToRestore_StillRefusesIt()
    {
        var work = Dir("work");
        var store = new FileSystemCheckpointStore(Path.Join(work, ".checkpoints"));

        // An empty store: the refusal must not depend on there being a checkpoint to download.
        await FailsAsync<ArgumentException>(() => Manager(store).RestoreLatestAsync(work), work, Path.Join(work, ".checkpoints"));
        var file = Path.Join(Dir("parent"), "out");
        await File.WriteAllTextAsync(file, "a file");
        await FailsAsync<ArgumentException>(() => Manager(store).RestoreLatestAsync(file), file);
    }

    private static void AssertHolds(string directory, (string Name, byte[] Data)[] files)
    {
        var expected = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (name, data) in files)
        {
            expected.Add($"{name} ({data.Length} bytes)");
            for (var slash = name.LastIndexOf('/'); slash > 0; slash = name.LastIndexOf('/', slash - 1))
            {
                expected.Add(name[..slash] + "/");
            }

            Assert.Equal(data, File.ReadAllBytes(Path.Join(directory, name)));
        }

        Assert.Equal(expected, Tree(directory));
    }

    /// <summary>Every file (with its length) and folder (ending in '/') under a directory, hidden ones included; links are not followed.</summary>
    private static SortedSet<string> Tree(string directory) =>
        new(
            new DirectoryInfo(directory)
                .EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false })
                .Select(e =>
                {
                    var name = Path.GetRelativePath(directory, e.FullName);
                    return e is DirectoryInfo && e.LinkTarget is null ? name + "/"
                        : e.LinkTarget is { } link ? $"{name} -> {link}"
                        : $"{name} ({((FileInfo)e).Length} bytes)";
                }),
            StringComparer.Ordinal);

    private static string[] Entries(string directory) =>
        [.. Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    /// <summary>The inode of a directory (the file-system store's stat reports it for any kind of entry).</summary>
    private static ulong Inode(string path)
    {
        Assert.False(FileSystemNative.TryStat(path, out var identity), "expected a directory");
        Assert.NotEqual(0UL, identity.Inode);
        return identity.Inode;
    }

    private string Dir(string relative)
    {
        var path = Path.Join(_root, relative);
        Directory.CreateDirectory(path);
        return path;
    }

    private void Mount(string directory)
    {
        LocalMounts.Run("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", directory);
        _mounts.Add(directory);
    }

    private void BindMount(string source, string directory)
    {
        LocalMounts.Run("mount", "--bind", source, directory);
        _mounts.Add(directory);
    }

    /// <summary>Counts reads of data objects (not manifests) and can run a hook at the first one.</summary>
    private sealed class ReadCountingStore(ICheckpointStore inner) : DelegatingStore(inner)
    {
        private int _dataReads;

        public int DataReads => Volatile.Read(ref _dataReads);

        public Action? OnDataRead { get; set; }

        public override Task<Stream> OpenReadAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default)
        {
            if (!key.EndsWith("/manifest.json", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _dataReads);
                OnDataRead?.Invoke();
                cancellationToken.ThrowIfCancellationRequested();
            }

            return base.OpenReadAsync(key, range, cancellationToken);
        }
    }
}

/// <summary>A fact that needs mount(8) (root, Linux); skipped with the reason when this machine does not allow it.</summary>
public sealed class MountFactAttribute : FactAttribute
{
    public MountFactAttribute()
    {
        if (LocalMounts.Unavailable is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>Mounts for tests: tmpfs and bind mounts on temporary directories.</summary>
internal static class LocalMounts
{
    private static readonly Lazy<string?> Probe = new(() =>
    {
        if (!OperatingSystem.IsLinux())
        {
            return "mount(8) is only used on Linux";
        }

        var probe = Directory.CreateTempSubdirectory("konduktor-mount-probe-").FullName;
        try
        {
            var (code, output) = TryRun("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", probe);
            if (code != 0)
            {
                return $"mounting a tmpfs is not permitted here (needs root or CAP_SYS_ADMIN): {output.Trim()}";
            }

            Unmount(probe);
            return null;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"mount(8) cannot be started: {e.Message}";
        }
        finally
        {
            Directory.Delete(probe, recursive: true);
        }
    });

    /// <summary>Why mounts cannot be used here, or <see langword="null"/> when they can.</summary>
    public static string? Unavailable => Probe.Value;

    public static void Run(string command, params string[] arguments)
    {
        var (code, output) = TryRun(command, arguments);
        Assert.True(code == 0, $"{command} {string.Join(' ', arguments)} failed ({code}): {output}");
    }

    public static void Unmount(string directory)
    {
        if (TryRun("umount", directory).Code != 0)
        {
            TryRun("umount", "-l", directory);
        }
    }

    /// <summary>The mount points below <paramref name="directory"/>, deepest first.</summary>
    public static List<string> Below(string directory) =>
        !OperatingSystem.IsLinux() ? []
        : [.. File.ReadLines("/proc/self/mountinfo")
            .Select(line => line.Split(' ')[4])
            .Where(path => path.StartsWith(directory + "/", StringComparison.Ordinal))
            .OrderByDescending(path => path.Length)];

    /// <summary>Whether <paramref name="directory"/> is listed as a mount point of this process's mount namespace.</summary>
    public static bool IsMountPoint(string directory) =>
        File.ReadLines("/proc/self/mountinfo").Any(line => line.Split(' ')[4] == directory);

    private static (int Code, string Output) TryRun(string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error.Result);
    }
}
