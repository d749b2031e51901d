using System.Text;

namespace Konduktor.Storage.Tests.Stores;

public sealed class FileSystemCheckpointStoreTests : IDisposable
{
    private readonly string _base = Path.Join(Path.GetTempPath(), "konduktor-fst-" + Guid.NewGuid().ToString("N"));
    private readonly string _root;
    private readonly string _outside;
    private readonly FileSystemCheckpointStore _store;

    public FileSystemCheckpointStoreTests()
    {
        _root = Path.Join(_base, "root");
        _outside = Path.Join(_base, "outside");
        Directory.CreateDirectory(_root);
        Directory.CreateDirectory(_outside);
        _store = new FileSystemCheckpointStore(_root);
    }

    public void Dispose() => Directory.Delete(_base, recursive: true);

    [Fact]
    public async Task PutAsync_ThroughDirectorySymlinkLeadingOutside_IsRefusedAndWritesNothingOutside()
    {
        Directory.CreateSymbolicLink(Path.Join(_root, "escape"), _outside);

        await Assert.ThrowsAsync<StoreAccessDeniedException>(() => Put("escape/x", "data"));
        await Assert.ThrowsAsync<StoreAccessDeniedException>(() => Put("escape/deeper/x", "data", ObjectWriteOptions.CreateOnlyWrite));
        await Assert.ThrowsAsync<StoreAccessDeniedException>(() => _store.OpenWriteAsync("escape/y"));

        Assert.Empty(Directory.EnumerateFileSystemEntries(_outside));
    }

    [Fact]
    public async Task ReadStatDelete_ThroughDirectorySymlinkLeadingOutside_AreRefused()
    {
        File.WriteAllText(Path.Join(_outside, "secret"), "secret");
        Directory.CreateSymbolicLink(Path.Join(_root, "escape"), _outside);

        await Assert.ThrowsAsync<StoreAccessDeniedException>(() => _store.OpenReadAsync("escape/secret"));
        await Assert.ThrowsAsync<StoreAccessDeniedException>(() => _store.StatAsync("escape/secret"));
        await Assert.ThrowsAsync<StoreAccessDeniedException>(() => _store.DeleteAsync("escape/secret"));
        await Assert.ThrowsAsync<StoreAccessDeniedException>(async () => await _store.ListAsync("escape/").ToListAsync());

        Assert.Equal("secret", File.ReadAllText(Path.Join(_outside, "secret")));
    }

    [Fact]
    public async Task ReadAndStat_FileSymlinkLeadingOutside_AreRefused()
    {
        File.WriteAllText(Path.Join(_outside, "secret"), "secret");
        Directory.CreateDirectory(Path.Join(_root, "run"));
        File.CreateSymbolicLink(Path.Join(_root, "run", "model.bin"), Path.Join(_outside, "secret"));

        var ex = await Assert.ThrowsAsync<StoreAccessDeniedException>(() => _store.OpenReadAsync("run/model.bin"));
        await Assert.ThrowsAsync<StoreAccessDeniedException>(() => _store.StatAsync("run/model.bin"));

        Assert.Contains("outside", ex.Message, StringComparison.Ordinal);
        Assert.Empty(await _store.ListAsync(string.Empty).ToListAsync());
    }

    [Fact]
    public async Task ReadAsync_RelativeSymlinkClimbingOutOfRoot_IsRefused()
    {
        File.WriteAllText(Path.Join(_outside, "secret"), "secret");
        Directory.CreateDirectory(Path.Join(_root, "a"));
        File.CreateSymbolicLink(Path.Join(_root, "a", "link"), "../../outside/secret");

        await Assert.ThrowsAsync<StoreAccessDeniedException>(() => _store.OpenReadAsync("a/link"));
    }

    [Fact]
    public async Task Read_SymlinkStayingInsideRoot_IsFollowedButNotListed()
    {
        await Put("real/data", "inside");
        Directory.CreateSymbolicLink(Path.Join(_root, "alias"), Path.Join(_root, "real"));

        Assert.Equal("inside", await Read("alias/data"));
        Assert.Equal(["real/data"], (await _store.ListAsync(string.Empty).ToListAsync()).Select(e => e.Key));
    }

    [Fact]
    public async Task Store_RootItselfASymlink_Works()
    {
        var linkedRoot = Path.Join(_base, "linked-root");
        Directory.CreateSymbolicLink(linkedRoot, _root);
        var store = new FileSystemCheckpointStore(linkedRoot);

        await store.PutAsync("k", new MemoryStream("v"u8.ToArray()));

        Assert.Equal("v", File.ReadAllText(Path.Join(_root, "k")));
        Assert.Equal(["k"], (await store.ListAsync(string.Empty).ToListAsync()).Select(e => e.Key));
    }

    [Fact]
    public async Task ListAsync_WhileWriting_NeverShowsTheTempFolder()
    {
        var writer = await _store.OpenWriteAsync("k");
        await using (writer)
        {
            await writer.WriteAsync(new byte[100]);

            Assert.True(Directory.Exists(Path.Join(_root, FileSystemCheckpointStore.TempFolderName)));
            Assert.Empty(await _store.ListAsync(string.Empty).ToListAsync());
            Assert.Empty(await _store.ListAsync(string.Empty, new ListOptions { Delimiter = "/" }).ToListAsync());
            Assert.Empty(await _store.ListAsync(".konduktor").ToListAsync());
            await writer.CompleteAsync();
        }

        Assert.Equal(["k"], (await _store.ListAsync(string.Empty).ToListAsync()).Select(e => e.Key));
    }

    [Fact]
    public async Task ListAsync_CrashLeftoverTempFile_IsNotAnObject()
    {
        var temp = Path.Join(_root, FileSystemCheckpointStore.TempFolderName);
        Directory.CreateDirectory(temp);
        File.WriteAllText(Path.Join(temp, "put-0123.tmp"), "half a checkpoint");
        await Put("real", "x");

        Assert.Equal(["real"], (await _store.ListAsync(string.Empty).ToListAsync()).Select(e => e.Key));
        Assert.Equal(["real"], (await _store.ListAsync(string.Empty, new ListOptions { Delimiter = "/" }).ToListAsync()).Select(e => e.Key));
    }

    [Fact]
    public async Task Writers_CompletedAbortedOrConflicting_LeaveTheTempFolderEmpty()
    {
        await Put("a/k", "1");
        await Put("a/k", "2");
        await Put("m", "first", ObjectWriteOptions.CreateOnlyWrite);
        await Assert.ThrowsAsync<PreconditionFailedException>(() => Put("m", "second", ObjectWriteOptions.CreateOnlyWrite));
        var aborted = await _store.OpenWriteAsync("b");
        await aborted.WriteAsync(new byte[10]);
        await aborted.DisposeAsync();
        var disposedSync = await _store.OpenWriteAsync("c");
        disposedSync.Write(new byte[10]);
        disposedSync.Dispose();
        Assert.True(await _store.DeleteAsync("a/k"));

        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Join(_root, FileSystemCheckpointStore.TempFolderName)));
    }

    [Theory]
    [InlineData(".konduktor-tmp")]
    [InlineData(".konduktor-tmp/put-1.tmp")]
    public async Task EveryKeyedMethod_KeyInTempFolder_ThrowsArgumentException(string key)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Put(key, "x"));
        await Assert.ThrowsAsync<ArgumentException>(() => _store.OpenWriteAsync(key));
        await Assert.ThrowsAsync<ArgumentException>(() => _store.OpenReadAsync(key));
        await Assert.ThrowsAsync<ArgumentException>(() => _store.StatAsync(key));
        await Assert.ThrowsAsync<ArgumentException>(() => _store.DeleteAsync(key));
    }

    [Fact]
    public async Task Keys_MerelyStartingLikeTheTempFolder_AreAllowed()
    {
        await Put(".konduktor-tmpx/k", "x");

        Assert.Equal("x", await Read(".konduktor-tmpx/k"));
    }

    [Fact]
    public async Task Constructor_FileUriAndPath_ShareOneRoot()
    {
        var byUri = new FileSystemCheckpointStore(new Uri("file://" + _root));
        await byUri.PutAsync("k", new MemoryStream("v"u8.ToArray()));

        Assert.Equal("v", await Read("k"));
        Assert.Equal("file", byUri.Location.Scheme);
        Assert.Equal(_root + "/", byUri.Location.LocalPath);
        Assert.Equal(byUri.Location, _store.Location);
        Assert.Equal("v", File.ReadAllText(Path.Join(_root, "k")));
    }

    [Fact]
    public void Constructor_PathWithSpecialCharacters_RoundTripsThroughLocation()
    {
        var odd = Path.Join(_base, "with space#and%");

        var store = new FileSystemCheckpointStore(odd);

        Assert.Equal(odd + "/", store.Location.LocalPath);
        Assert.Equal(store.Location, new FileSystemCheckpointStore(store.Location).Location);
    }

    [Theory]
    [InlineData("relative/dir")]
    [InlineData("./dir")]
    [InlineData("")]
    public void Constructor_RelativePath_Throws(string path)
    {
        Assert.ThrowsAny<ArgumentException>(() => new FileSystemCheckpointStore(path));
    }

    [Theory]
    [InlineData("s3://bucket/prefix")]
    [InlineData("http://host/dir")]
    [InlineData("file://server/share")]
    public void Constructor_NonLocalFileUri_Throws(string uri)
    {
        var ex = Assert.Throws<ArgumentException>(() => new FileSystemCheckpointStore(new Uri(uri)));

        Assert.Contains("file:///", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_RelativeUri_Throws()
    {
        Assert.Throws<ArgumentException>(() => new FileSystemCheckpointStore(new Uri("dir/sub", UriKind.Relative)));
    }

    [Fact]
    public async Task PutAsync_MissingRoot_CreatesIt()
    {
        var store = new FileSystemCheckpointStore(Path.Join(_base, "not", "yet"));

        Assert.Empty(await store.ListAsync(string.Empty).ToListAsync());
        Assert.Null(await store.StatAsync("k"));
        await store.PutAsync("deep/k", new MemoryStream([1]));

        Assert.True(File.Exists(Path.Join(_base, "not", "yet", "deep", "k")));
    }

    [Fact]
    public async Task DeleteAsync_LastObjectOfFolders_RemovesEmptyFoldersButNotTheRoot()
    {
        await Put("x/y/z/k", "1");
        await Put("x/other", "2");

        Assert.True(await _store.DeleteAsync("x/y/z/k"));

        Assert.False(Directory.Exists(Path.Join(_root, "x", "y")));
        Assert.True(Directory.Exists(Path.Join(_root, "x")));
        Assert.True(await _store.DeleteAsync("x/other"));
        Assert.False(Directory.Exists(Path.Join(_root, "x")));
        Assert.True(Directory.Exists(_root));
    }

    [Fact]
    public async Task ListAsync_EmptyFoldersLeftByOthers_AreNotListed()
    {
        Directory.CreateDirectory(Path.Join(_root, "empty", "nested"));
        await Put("full/k", "1");

        Assert.Equal(["full/k"], (await _store.ListAsync(string.Empty).ToListAsync()).Select(e => e.Key));
        Assert.Equal(["full/"], (await _store.ListAsync(string.Empty, new ListOptions { Delimiter = "/" }).ToListAsync()).Select(e => e.Key));
    }

    [Fact]
    public async Task PutAsync_ConcurrentCreateOnlyFromTwoStoreInstances_ExactlyOneWins()
    {
        // Two instances stand in for two processes: link(2) decides, not an in-process lock.
        var other = new FileSystemCheckpointStore(_root);
        for (var round = 0; round < 20; round++)
        {
            var key = $"step-{round}/manifest.json";
            var results = await Task.WhenAll(
                Task.Run(() => TryCreate(_store, key, "one")),
                Task.Run(() => TryCreate(other, key, "two")));

            Assert.Single(results, r => r);
            Assert.Equal(results[0] ? "one" : "two", await Read(key));
        }
    }

    [Fact]
    public async Task ETag_FileReplacedOutsideWithSameSizeAndTime_Changes()
    {
        await Put("k", "aaaa");
        var path = Path.Join(_root, "k");
        var time = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, time);
        var info = (await _store.StatAsync("k"))!;
        File.WriteAllText(path + ".new", "bbbb");
        File.SetLastWriteTimeUtc(path + ".new", time);
        File.Move(path + ".new", path, overwrite: true);

        var after = await _store.StatAsync("k");

        Assert.NotEqual(info.ETag, after!.ETag);
        await Assert.ThrowsAsync<PreconditionFailedException>(() => _store.DeleteAsync("k", info.ETag));
        Assert.Equal("bbbb", await Read("k"));
    }

    [Fact]
    public async Task PutAsync_KeyWhereAFolderIs_ThrowsIOExceptionAndKeepsTheFolder()
    {
        await Put("a/b", "inner");

        await Assert.ThrowsAnyAsync<IOException>(() => Put("a", "outer"));
        await Assert.ThrowsAnyAsync<IOException>(() => Put("a", "outer", ObjectWriteOptions.CreateOnlyWrite));
        await Assert.ThrowsAnyAsync<IOException>(() => Put("a/b/c", "below a file"));

        Assert.Equal("inner", await Read("a/b"));
    }

    [Fact]
    public async Task OpenReadAsync_Range_StreamReportsRangeLength()
    {
        await Put("k", "0123456789");

        var stream = await _store.OpenReadAsync("k", new ByteRange(3, 4));
        await using (stream)
        {
            Assert.Equal(4, stream.Length);
            using var reader = new StreamReader(stream);
            Assert.Equal("3456", await reader.ReadToEndAsync());
        }
    }

    [Fact]
    public void Capabilities_CreateOnlyAndConditionalDeleteWithoutServerChecksum()
    {
        Assert.True(_store.Capabilities.CreateOnly);
        Assert.True(_store.Capabilities.ConditionalDelete);
        Assert.Null(_store.Capabilities.ServerChecksumAlgorithm);
    }

    private static async Task<bool> TryCreate(FileSystemCheckpointStore store, string key, string text)
    {
        try
        {
            await store.PutAsync(key, new MemoryStream(Encoding.UTF8.GetBytes(text)), ObjectWriteOptions.CreateOnlyWrite);
            return true;
        }
        catch (PreconditionFailedException)
        {
            return false;
        }
    }

    private Task<ObjectInfo> Put(string key, string text, ObjectWriteOptions? options = null) =>
        _store.PutAsync(key, new MemoryStream(Encoding.UTF8.GetBytes(text)), options);

    private async Task<string> Read(string key)
    {
        var stream = await _store.OpenReadAsync(key);
        await using (stream)
        {
            using var reader = new StreamReader(stream);
            return await reader.ReadToEndAsync();
        }
    }
}
