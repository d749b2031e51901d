using System.Diagnostics;
using System.Net.Sockets;

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

using static Konduktor.Storage.Tests.CheckpointTestKit;

namespace Konduktor.Storage.Tests;

/// <summary>
/// Issue 18, defects 8–10: what a save of local files does with odd files. Symbolic links are followed (or refused, as
/// configured) and never silently dropped; special files are refused before anything of them is read; a file is saved with
/// the length it had when its save began, however it grows or shrinks meanwhile.
/// </summary>
public sealed class LocalFileDefectTests : IDisposable
{
    // A deadline for what must end at once: exceeded only when a save hangs, never by a healthy one on a loaded machine.
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly string _root = TempDirectory();
    private readonly string _source;
    private readonly FileSystemCheckpointStore _fileStore;

    public LocalFileDefectTests()
    {
        _source = Path.Join(_root, "source");
        Directory.CreateDirectory(_source);
        _fileStore = new FileSystemCheckpointStore(Path.Join(_root, "store"));
    }

    public static TheoryData<string> Stores => ["memory", "file"];

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    // ---- defect 8: symbolic links ----

    [Fact]
    public async Task SaveDirectoryAsync_LinkToFileOutside_SavesTheTargetsContentUnderTheLinksName()
    {
        var outside = Path.Join(_root, "outside.bin");
        await File.WriteAllBytesAsync(outside, Bytes(3000, 1));
        await File.WriteAllBytesAsync(Path.Join(_source, "plain.bin"), Bytes(10, 2));
        File.CreateSymbolicLink(Path.Join(_source, "weights.bin"), outside);

        var restored = await SaveAndRestoreAsync(Manager(_fileStore));

        Assert.Equal(["plain.bin", "weights.bin"], restored.Keys);
        Assert.Equal(Bytes(3000, 1), restored["weights.bin"]);
    }

    [Fact]
    public async Task SaveDirectoryAsync_RelativeLinkToFile_SavesTheTargetsContent()
    {
        Directory.CreateDirectory(Path.Join(_source, "shards"));
        await File.WriteAllBytesAsync(Path.Join(_source, "shards", "0.bin"), Bytes(500, 3));
        File.CreateSymbolicLink(Path.Join(_source, "latest.bin"), "shards/0.bin");

        var restored = await SaveAndRestoreAsync(Manager(new InMemoryCheckpointStore()));

        Assert.Equal(["latest.bin", "shards/0.bin"], restored.Keys);
        Assert.Equal(Bytes(500, 3), restored["latest.bin"]);
    }

    [Fact]
    public async Task SaveDirectoryAsync_LinkToDirectoryInside_SavesItsFilesUnderTheLinksName()
    {
        Directory.CreateDirectory(Path.Join(_source, "epoch-3"));
        await File.WriteAllBytesAsync(Path.Join(_source, "epoch-3", "model.bin"), Bytes(700, 4));
        Directory.CreateSymbolicLink(Path.Join(_source, "best"), "epoch-3");

        var restored = await SaveAndRestoreAsync(Manager(_fileStore));

        Assert.Equal(["best/model.bin", "epoch-3/model.bin"], restored.Keys);
        Assert.Equal(Bytes(700, 4), restored["best/model.bin"]);
    }

    [Fact]
    public async Task SaveDirectoryAsync_LinkToDirectoryOutside_SavesItsFiles()
    {
        var shared = Path.Join(_root, "shared");
        Directory.CreateDirectory(Path.Join(shared, "deep"));
        await File.WriteAllBytesAsync(Path.Join(shared, "deep", "tokenizer.json"), Bytes(90, 5));
        Directory.CreateSymbolicLink(Path.Join(_source, "tokenizer"), shared);

        var restored = await SaveAndRestoreAsync(Manager(new InMemoryCheckpointStore()));

        Assert.Equal(["tokenizer/deep/tokenizer.json"], restored.Keys);
    }

    [Fact]
    public async Task SaveDirectoryAsync_LoopOfFileLinks_FailsNamingTheLinkAndCommitsNothing()
    {
        await File.WriteAllBytesAsync(Path.Join(_source, "model.bin"), Bytes(10, 6));
        File.CreateSymbolicLink(Path.Join(_source, "a"), "b");
        File.CreateSymbolicLink(Path.Join(_source, "b"), "a");
        var manager = Manager(_fileStore);

        var error = await Assert.ThrowsAsync<IOException>(() => manager.SaveDirectoryAsync(1, _source));

        Assert.Contains(Path.Join(_source, "a"), error.Message, StringComparison.Ordinal);
        Assert.Contains("loop", error.Message, StringComparison.Ordinal);
        await AssertNothingCommittedAsync(manager);
    }

    [Fact]
    public async Task SaveDirectoryAsync_DirectoryLinkToItsOwnAncestor_FailsNamingTheLink()
    {
        Directory.CreateDirectory(Path.Join(_source, "sub"));
        await File.WriteAllBytesAsync(Path.Join(_source, "sub", "model.bin"), Bytes(10, 7));
        var link = Path.Join(_source, "sub", "up");
        Directory.CreateSymbolicLink(link, "..");
        var manager = Manager(_fileStore);

        var error = await Assert.ThrowsAsync<IOException>(() => manager.SaveDirectoryAsync(1, _source));

        Assert.Contains(link, error.Message, StringComparison.Ordinal);
        Assert.Contains("loop", error.Message, StringComparison.Ordinal);
        await AssertNothingCommittedAsync(manager);
    }

    [Fact]
    public async Task SaveDirectoryAsync_DirectoryLinksLeadingBackToEachOther_FailsNamingTheLink()
    {
        // Outside the saved directory, x/to-y -> y and y/to-x -> x: neither is an ancestor of the other, yet following never ends.
        var x = Path.Join(_root, "x");
        var y = Path.Join(_root, "y");
        Directory.CreateDirectory(x);
        Directory.CreateDirectory(y);
        Directory.CreateSymbolicLink(Path.Join(x, "to-y"), y);
        Directory.CreateSymbolicLink(Path.Join(y, "to-x"), x);
        Directory.CreateSymbolicLink(Path.Join(_source, "x"), x);
        var manager = Manager(new InMemoryCheckpointStore());

        var error = await Assert.ThrowsAsync<IOException>(() => manager.SaveDirectoryAsync(1, _source).WaitAsync(Deadline));

        Assert.Contains(Path.Join(_source, "x", "to-y", "to-x"), error.Message, StringComparison.Ordinal);
        Assert.Contains("loop", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SaveDirectoryAsync_DanglingLink_FailsNamingTheLinkAndItsTarget()
    {
        await File.WriteAllBytesAsync(Path.Join(_source, "model.bin"), Bytes(10, 8));
        var link = Path.Join(_source, "optimizer.bin");
        File.CreateSymbolicLink(link, "gone/optimizer.bin");
        var manager = Manager(_fileStore);

        var error = await Assert.ThrowsAsync<IOException>(() => manager.SaveDirectoryAsync(1, _source));

        Assert.Contains(link, error.Message, StringComparison.Ordinal);
        Assert.Contains("gone/optimizer.bin", error.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
        await AssertNothingCommittedAsync(manager);
    }

    [Fact]
    public async Task SaveDirectoryAsync_LinksRefused_FailsNamingTheLinkAndTheOption()
    {
        await File.WriteAllBytesAsync(Path.Join(_source, "model.bin"), Bytes(10, 9));
        var link = Path.Join(_source, "latest.bin");
        File.CreateSymbolicLink(link, "model.bin");
        var manager = Manager(_fileStore, o => o.SymbolicLinks = SymbolicLinkPolicy.Refuse);

        var error = await Assert.ThrowsAsync<IOException>(() => manager.SaveDirectoryAsync(1, _source));

        Assert.Contains(link, error.Message, StringComparison.Ordinal);
        Assert.Contains("Konduktor:Checkpoints:SymbolicLinks", error.Message, StringComparison.Ordinal);
        await AssertNothingCommittedAsync(manager);
    }

    [Fact]
    public void Constructor_UndefinedSymbolicLinkPolicy_ThrowsNamingTheKey()
    {
        var error = Assert.Throws<CheckpointConfigurationException>(() => Manager(_fileStore, o => o.SymbolicLinks = (SymbolicLinkPolicy)7));

        Assert.Equal("Konduktor:Checkpoints:SymbolicLinks", error.Key);
    }

    [Theory]
    [InlineData("Refuse", SymbolicLinkPolicy.Refuse)]
    [InlineData("follow", SymbolicLinkPolicy.Follow)]
    public void AddKonduktorCheckpoints_SymbolicLinksSetting_IsBound(string value, SymbolicLinkPolicy expected)
    {
        using var provider = Configured(value);

        Assert.Equal(expected, provider.GetRequiredService<CheckpointManager>().Options.SymbolicLinks);
    }

    [Fact]
    public void AddKonduktorCheckpoints_UnknownSymbolicLinksSetting_ThrowsNamingTheKeyAndValue()
    {
        using var provider = Configured("Sometimes");

        var error = Assert.Throws<CheckpointConfigurationException>(() => provider.GetRequiredService<CheckpointManager>());

        Assert.Equal(("Konduktor:Checkpoints:SymbolicLinks", "Sometimes"), (error.Key, error.Value));
    }

    // ---- defect 9: special files and cancellation ----

    [Fact]
    public async Task SaveDirectoryAsync_NamedPipe_FailsNamingItWithoutHanging()
    {
        await File.WriteAllBytesAsync(Path.Join(_source, "model.bin"), Bytes(10, 10));
        var fifo = MakeFifo(Path.Join(_source, "events.pipe"));
        var manager = Manager(_fileStore);

        var attempt = Task.Run(() => manager.SaveDirectoryAsync(1, _source));
        try
        {
            var error = await Assert.ThrowsAsync<IOException>(() => attempt.WaitAsync(Deadline));

            Assert.Contains(fifo, error.Message, StringComparison.Ordinal);
            Assert.Contains("named pipe", error.Message, StringComparison.Ordinal);
            await AssertNothingCommittedAsync(manager);
        }
        finally
        {
            ReleaseHungReader(attempt, fifo);
        }
    }

    [Fact]
    public async Task AddLocalFileAsync_NamedPipe_FailsClearlyWithoutHanging()
    {
        var fifo = MakeFifo(Path.Join(_source, "events.pipe"));
        var manager = Manager(new InMemoryCheckpointStore());
        await using var save = await manager.BeginSaveAsync(1);

        var attempt = Task.Run(() => save.AddLocalFileAsync("events", fifo));
        try
        {
            var error = await Assert.ThrowsAsync<IOException>(() => attempt.WaitAsync(Deadline));

            Assert.Contains(fifo, error.Message, StringComparison.Ordinal);
            Assert.Contains("named pipe", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            ReleaseHungReader(attempt, fifo);
        }
    }

    [Fact]
    public async Task SaveDirectoryAsync_Socket_FailsNamingIt()
    {
        await File.WriteAllBytesAsync(Path.Join(_source, "model.bin"), Bytes(10, 11));
        var path = Path.Join(_source, "agent.sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        var manager = Manager(_fileStore);

        var error = await Assert.ThrowsAsync<IOException>(() => manager.SaveDirectoryAsync(1, _source).WaitAsync(Deadline));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("socket", error.Message, StringComparison.Ordinal);
        await AssertNothingCommittedAsync(manager);
    }

    [Fact]
    public async Task SaveDirectoryAsync_LinkToCharacterDevice_FailsNamingTheLinkAndTheKind()
    {
        await File.WriteAllBytesAsync(Path.Join(_source, "model.bin"), Bytes(10, 12));
        var link = Path.Join(_source, "log.txt");
        File.CreateSymbolicLink(link, "/dev/null");
        var manager = Manager(_fileStore);

        var error = await Assert.ThrowsAsync<IOException>(() => manager.SaveDirectoryAsync(1, _source));

        Assert.Contains(link, error.Message, StringComparison.Ordinal);
        Assert.Contains("character device", error.Message, StringComparison.Ordinal);
        await AssertNothingCommittedAsync(manager);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task AddLocalFileAsync_EndlessCharacterDevice_FailsBeforeReadingIt(string store)
    {
        // /dev/zero never ends: today's copy would fill the store. A guard cancels it after 1 MiB, so the test itself stays bounded.
        using var guard = new CancellationTokenSource();
        var manager = Manager(Store(store));
        await using var save = await manager.BeginSaveAsync(1, new SynchronousProgress<TransferProgress>(p =>
        {
            if (p.TotalBytes > 1024 * 1024)
            {
                guard.Cancel();
            }
        }));

        var error = await Assert.ThrowsAsync<IOException>(() => save.AddLocalFileAsync("zeros", "/dev/zero", guard.Token).WaitAsync(Deadline));

        Assert.Contains("/dev/zero", error.Message, StringComparison.Ordinal);
        Assert.Contains("character device", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, save.BytesWritten);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task SaveDirectoryAsync_CancelledMidway_EndsPromptlyWithOperationCanceled(string store)
    {
        for (var i = 0; i < 64; i++)
        {
            await File.WriteAllBytesAsync(Path.Join(_source, $"shard-{i:D3}.bin"), Bytes(64 * 1024, i));
        }

        using var cancel = new CancellationTokenSource();
        var manager = Manager(Store(store), o => o.BufferSize = 4096);

        var attempt = manager.SaveDirectoryAsync(1, _source, progress: new SynchronousProgress<TransferProgress>(_ => cancel.Cancel()), cancellationToken: cancel.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => attempt.WaitAsync(Deadline));
        await AssertNothingCommittedAsync(manager);
    }

    [Fact]
    public void LocalDirectoryWalk_Cancelled_ThrowsOperationCanceled()
    {
        Directory.CreateDirectory(Path.Join(_source, "sub"));
        File.WriteAllBytes(Path.Join(_source, "sub", "model.bin"), Bytes(10, 13));

        Assert.ThrowsAny<OperationCanceledException>(() => LocalDirectoryWalk.Files(_source, SymbolicLinkPolicy.Follow, new CancellationToken(canceled: true)));
    }

    // ---- defect 10: files that grow or shrink while they are saved ----

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task AddLocalFileAsync_FileGrowingDuringTheSave_SavesTheLengthItHadWhenTheSaveBegan(string store)
    {
        var (path, original) = await LargeFileAsync(store);
        var manager = Manager(Store(store), o => o.BufferSize = 4096);
        var grown = 0;
        var progress = new SynchronousProgress<TransferProgress>(_ =>
        {
            // Once the copy has started, the trainer appends to the file.
            if (Interlocked.Exchange(ref grown, 1) == 0)
            {
                using var appender = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
                appender.Write(Bytes(1024 * 1024, 99));
            }
        });

        await using (var save = await manager.BeginSaveAsync(1, progress))
        {
            var entry = await save.AddLocalFileAsync("model.bin", path).WaitAsync(Deadline);
            Assert.Equal(original.Length, entry.Length);
            await save.CommitAsync();
        }

        Assert.Equal(1, grown);
        Assert.True(new FileInfo(path).Length > original.Length);
        var restored = await RestoreAsync(manager);
        Assert.Equal(original, restored["model.bin"]);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task SaveDirectoryAsync_FileGrowingDuringTheSave_SavesTheLengthItHadWhenTheSaveBegan(string store)
    {
        var (path, original) = await LargeFileAsync(store);
        var manager = Manager(Store(store), o => o.BufferSize = 4096);
        var grown = 0;
        var progress = new SynchronousProgress<TransferProgress>(_ =>
        {
            if (Interlocked.Exchange(ref grown, 1) == 0)
            {
                using var appender = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
                appender.Write(Bytes(1024 * 1024, 99));
            }
        });

        var manifest = await manager.SaveDirectoryAsync(1, _source, progress: progress).WaitAsync(Deadline);

        Assert.Equal(original.Length, manifest.Files.Single().Length);
        Assert.Equal(ContentHash.Of(original), manifest.Files.Single().Checksum);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task AddFileAsync_FileStreamGrowingDuringTheSave_SavesTheLengthItHadWhenTheSaveBegan(string store)
    {
        var (path, original) = await LargeFileAsync(store);
        var manager = Manager(Store(store), o => o.BufferSize = 4096);
        var grown = 0;
        var progress = new SynchronousProgress<TransferProgress>(_ =>
        {
            if (Interlocked.Exchange(ref grown, 1) == 0)
            {
                using var appender = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
                appender.Write(Bytes(1024 * 1024, 99));
            }
        });

        await using var save = await manager.BeginSaveAsync(1, progress);
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var entry = await save.AddFileAsync("model.bin", file).WaitAsync(Deadline);

        Assert.Equal(original.Length, entry.Length);
        Assert.Equal(ContentHash.Of(original), entry.Checksum);
        Assert.Equal(original.Length, file.Position);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task SaveDirectoryAsync_FileTruncatedDuringTheSave_FailsNamingTheFileAndBothLengths(string store)
    {
        var (path, original) = await LargeFileAsync(store);
        var manager = Manager(Store(store), o => o.BufferSize = 4096);
        var truncated = 0;
        var progress = new SynchronousProgress<TransferProgress>(_ =>
        {
            if (Interlocked.Exchange(ref truncated, 1) == 0)
            {
                using var truncater = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
                truncater.SetLength(100);
            }
        });

        var error = await Assert.ThrowsAsync<IOException>(() => manager.SaveDirectoryAsync(1, _source, progress: progress).WaitAsync(Deadline));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains($"{original.Length} bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("100 bytes", error.Message, StringComparison.Ordinal);
        await AssertNothingCommittedAsync(manager);
    }

    // ---- helpers ----

    private ICheckpointStore Store(string kind) => kind == "file" ? _fileStore : new InMemoryCheckpointStore();

    /// <summary>
    /// The only file of the source directory. For the file-system store it spans more than two kernel-copy chunks, so that
    /// the copy reads on after the first progress report (which comes once the first chunk is copied and hashed).
    /// </summary>
    private async Task<(string Path, byte[] Content)> LargeFileAsync(string store)
    {
        var content = Bytes(store == "file" ? (2 * LocalFileCopy.DefaultChunkBytes) + 4096 : 256 * 1024, 42);
        var path = Path.Join(_source, "model.bin");
        await File.WriteAllBytesAsync(path, content);
        return (path, content);
    }

    private async Task<SortedDictionary<string, byte[]>> SaveAndRestoreAsync(CheckpointManager manager)
    {
        await manager.SaveDirectoryAsync(1, _source).WaitAsync(Deadline);
        return await RestoreAsync(manager);
    }

    private async Task<SortedDictionary<string, byte[]>> RestoreAsync(CheckpointManager manager)
    {
        var target = Path.Join(_root, "restored-" + Guid.NewGuid().ToString("N"));
        var result = await manager.RestoreLatestAsync(target);
        Assert.True(result.Found);
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories))
        {
            files.Add(Path.GetRelativePath(target, file).Replace('\\', '/'), await File.ReadAllBytesAsync(file));
        }

        return files;
    }

    private static ServiceProvider Configured(string symbolicLinks)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Konduktor:Checkpoints:Location"] = "memory://links",
            ["Konduktor:Checkpoints:RunId"] = Run,
            ["Konduktor:Checkpoints:SymbolicLinks"] = symbolicLinks,
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton(JobContext.Create());
        services.AddKonduktorCheckpoints(configuration);
        return services.BuildServiceProvider(validateScopes: true);
    }

    private static async Task AssertNothingCommittedAsync(CheckpointManager manager) =>
        Assert.DoesNotContain(await manager.Store.KeysAsync(), k => k.EndsWith("/manifest.json", StringComparison.Ordinal));

    private static string MakeFifo(string path)
    {
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
        return path;
    }

    /// <summary>If the attempt is stuck opening the pipe (the defect), opens its other end so the stuck thread can go on.</summary>
    private static void ReleaseHungReader(Task attempt, string fifo)
    {
        if (!attempt.IsCompleted)
        {
            using var writer = new FileStream(fifo, FileMode.Open, FileAccess.Write);
        }
    }
}
