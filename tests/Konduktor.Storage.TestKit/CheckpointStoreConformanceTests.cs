using System.Security.Cryptography;
using System.Text;

namespace Konduktor.Storage.Testing;

/// <summary>
/// The behaviour every <see cref="ICheckpointStore"/> must show, written only against the interface. Derive from it
/// and return a store over a fresh, empty namespace from <see cref="CreateStoreAsync"/> (a new store, or one rooted at
/// a unique prefix of a shared bucket); xUnit creates a new instance of the derived class for every test.
/// </summary>
public abstract class CheckpointStoreConformanceTests
{
    private const int MiB = 1024 * 1024;

    /// <summary>Keys every method must reject with <see cref="ArgumentException"/>.</summary>
    public static TheoryData<string> InvalidKeys => new()
    {
        string.Empty,
        "/abs",
        "a//b",
        "a/../b",
        "../x",
        "a/./b",
        "trailing/",
        "bad\u0001char",
        "back\\slash",
        new string('k', ObjectKey.MaxUtf8Bytes + 1),
    };

    /// <summary>Byte ranges of a 1000-byte object and the slice each must return.</summary>
    public static TheoryData<long, long?, int, int> Ranges => new()
    {
        { 0, 10, 0, 10 },        // start
        { 100, 50, 100, 50 },    // middle
        { 900, null, 900, 100 }, // to the end
        { 990, 100, 990, 10 },   // length past the end is cut
        { 2000, 10, 0, 0 },      // offset past the end: empty
        { 1000, null, 0, 0 },    // offset at the end: empty
        { 5, 0, 0, 0 },          // zero length
    };

    /// <summary>How far <see cref="ObjectInfo.LastModified"/> may be from this machine's clock.</summary>
    protected virtual TimeSpan ClockTolerance => TimeSpan.FromMinutes(2);

    /// <summary>Creates a store over a fresh, empty namespace for one test.</summary>
    protected abstract Task<ICheckpointStore> CreateStoreAsync();

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(5 * MiB)]
    public async Task PutAsync_ThenStatAndRead_RoundTrips(int length)
    {
        var store = await CreateStoreAsync();
        var data = RandomBytes(length);

        var put = await store.PutAsync("run/obj.bin", new MemoryStream(data));

        var stat = await store.StatAsync("run/obj.bin");
        Assert.NotNull(stat);
        Assert.Equal("run/obj.bin", stat.Key);
        Assert.Equal(length, stat.Length);
        Assert.Equal(length, put.Length);
        Assert.Equal(put.ETag, stat.ETag);
        Assert.Equal(data, await ReadAllAsync(store, "run/obj.bin"));
    }

    [Fact]
    public async Task PutAsync_ContentStreamPositioned_StoresFromCurrentPosition()
    {
        var store = await CreateStoreAsync();
        var source = new MemoryStream(Encoding.UTF8.GetBytes("skip-keep"));
        source.Position = 5;

        var info = await store.PutAsync("k", source);

        Assert.Equal(4, info.Length);
        Assert.Equal("keep", await ReadTextAsync(store, "k"));
    }

    [Fact]
    public async Task PutAsync_UnicodeAndSpacesInKey_RoundTrips()
    {
        var store = await CreateStoreAsync();
        const string key = "dir with space/ünïcødé €+%20&=?#.bin";

        await PutTextAsync(store, key, "x");

        Assert.Equal("x", await ReadTextAsync(store, key));
        var listed = await ListKeysAsync(store, string.Empty);
        Assert.Equal([key], listed);
    }

    [Fact]
    public async Task PutAsync_KeyOfMaximumLength_RoundTrips()
    {
        var store = await CreateStoreAsync();

        // Segments short enough for any file system's name limit, 1024 bytes in all.
        var key = string.Join('/', Enumerable.Range(0, 5).Select(i => new string((char)('a' + i), 200))) + "/" + new string('z', 19);
        Assert.Equal(ObjectKey.MaxUtf8Bytes, Encoding.UTF8.GetByteCount(key));

        await PutTextAsync(store, key, "long");

        Assert.Equal("long", await ReadTextAsync(store, key));
    }

    [Fact]
    public async Task PutAsync_ExistingKey_Overwrites()
    {
        var store = await CreateStoreAsync();
        await PutTextAsync(store, "k", "old content");

        var info = await PutTextAsync(store, "k", "new");

        Assert.Equal("new", await ReadTextAsync(store, "k"));
        Assert.Equal(3, info.Length);
        Assert.Equal(3, (await store.StatAsync("k"))!.Length);
    }

    [Fact]
    public async Task PutAsync_CreateOnlyOnNewKey_Writes()
    {
        var store = await CreateStoreAsync();

        await PutTextAsync(store, "a/manifest.json", "{}", ObjectWriteOptions.CreateOnlyWrite);

        Assert.Equal("{}", await ReadTextAsync(store, "a/manifest.json"));
    }

    [Fact]
    public async Task PutAsync_CreateOnlyOnExistingKey_ThrowsPreconditionFailedAndKeepsOldContent()
    {
        var store = await CreateStoreAsync();
        var first = await PutTextAsync(store, "a/manifest.json", "first");

        var ex = await Assert.ThrowsAsync<PreconditionFailedException>(
            () => PutTextAsync(store, "a/manifest.json", "second", ObjectWriteOptions.CreateOnlyWrite));

        Assert.Equal("a/manifest.json", ex.Key);
        Assert.Equal("first", await ReadTextAsync(store, "a/manifest.json"));
        Assert.Equal(first.ETag, (await store.StatAsync("a/manifest.json"))!.ETag);
    }

    [Fact]
    public async Task PutAsync_ConcurrentCreateOnlyOfOneKey_ExactlyOneWins()
    {
        var store = await CreateStoreAsync();
        const int writers = 8;
        using var start = new ManualResetEventSlim();

        var attempts = Enumerable.Range(0, writers).Select(i => Task.Run(async () =>
        {
            start.Wait();
            try
            {
                await PutTextAsync(store, "step/manifest.json", $"writer-{i}", ObjectWriteOptions.CreateOnlyWrite);
                return i;
            }
            catch (PreconditionFailedException)
            {
                return -1;
            }
        })).ToArray();
        start.Set();
        var results = await Task.WhenAll(attempts);

        var winners = results.Where(r => r >= 0).ToArray();
        Assert.Single(winners);
        Assert.Equal($"writer-{winners[0]}", await ReadTextAsync(store, "step/manifest.json"));
    }

    [Fact]
    public async Task PutAsync_ConcurrentWritersOfDifferentKeys_AllStored()
    {
        var store = await CreateStoreAsync();

        await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(() => PutTextAsync(store, $"shared/dir/obj-{i:D2}", $"value-{i}"))));

        var keys = await ListKeysAsync(store, "shared/");
        Assert.Equal(Enumerable.Range(0, 16).Select(i => $"shared/dir/obj-{i:D2}"), keys);
        for (var i = 0; i < 16; i++)
        {
            Assert.Equal($"value-{i}", await ReadTextAsync(store, $"shared/dir/obj-{i:D2}"));
        }
    }

    [Fact]
    public async Task PutAsync_CancelledToken_LeavesNothingVisible()
    {
        var store = await CreateStoreAsync();
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.PutAsync("k", new MemoryStream(RandomBytes(1000)), cancellationToken: cts.Token));

        Assert.Null(await store.StatAsync("k"));
        Assert.Empty(await ListKeysAsync(store, string.Empty));
    }

    [Fact]
    public async Task OpenWriteAsync_ManySmallWritesOfUnknownLength_VisibleOnlyAfterComplete()
    {
        var store = await CreateStoreAsync();
        var data = RandomBytes(3 * MiB);

        var writer = await store.OpenWriteAsync("big/stream.bin");
        await using (writer)
        {
            for (var offset = 0; offset < data.Length; offset += 997)
            {
                await writer.WriteAsync(data.AsMemory(offset, Math.Min(997, data.Length - offset)));
            }

            Assert.Equal(data.Length, writer.BytesWritten);
            Assert.Equal("big/stream.bin", writer.Key);
            Assert.Null(await store.StatAsync("big/stream.bin"));
            Assert.Empty(await ListKeysAsync(store, string.Empty));

            var info = await writer.CompleteAsync();

            Assert.Equal(data.Length, info.Length);
        }

        Assert.Equal(data, await ReadAllAsync(store, "big/stream.bin"));
    }

    [Fact]
    public async Task OpenWriteAsync_SynchronousWrites_AreStored()
    {
        var store = await CreateStoreAsync();

        var writer = await store.OpenWriteAsync("k");
        await using (writer)
        {
            writer.Write("ab"u8);
            writer.Write(Encoding.ASCII.GetBytes("xcdx"), 1, 2);
            await writer.CompleteAsync();
        }

        Assert.Equal("abcd", await ReadTextAsync(store, "k"));
    }

    [Fact]
    public async Task OpenWriteAsync_DisposedWithoutComplete_LeavesNothingVisible()
    {
        var store = await CreateStoreAsync();

        var writer = await store.OpenWriteAsync("a/b");
        await using (writer)
        {
            await writer.WriteAsync(RandomBytes(10_000));
        }

        Assert.Null(await store.StatAsync("a/b"));
        Assert.Empty(await ListKeysAsync(store, string.Empty));
        Assert.Empty(await ListKeysAsync(store, string.Empty, new ListOptions { Delimiter = "/" }));
    }

    [Fact]
    public async Task OpenWriteAsync_DisposedWithoutCompleteOverExistingKey_KeepsOldContent()
    {
        var store = await CreateStoreAsync();
        var old = await PutTextAsync(store, "k", "old");

        var writer = await store.OpenWriteAsync("k");
        await using (writer)
        {
            await writer.WriteAsync(Encoding.UTF8.GetBytes("replacement that never completes"));
        }

        Assert.Equal("old", await ReadTextAsync(store, "k"));
        Assert.Equal(old.ETag, (await store.StatAsync("k"))!.ETag);
    }

    [Fact]
    public async Task OpenWriteAsync_CancelledMidway_LeavesNothingVisible()
    {
        var store = await CreateStoreAsync();
        using var cts = new CancellationTokenSource();

        var writer = await store.OpenWriteAsync("k");
        await using (writer)
        {
            await writer.WriteAsync(RandomBytes(100_000), cts.Token);
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            {
                await writer.WriteAsync(RandomBytes(100_000), cts.Token);
                await writer.CompleteAsync(cts.Token);
            });
        }

        Assert.Null(await store.StatAsync("k"));
        Assert.Empty(await ListKeysAsync(store, string.Empty));
    }

    [Fact]
    public async Task CompleteAsync_CancelledToken_LeavesNothingVisible()
    {
        var store = await CreateStoreAsync();
        using var cts = new CancellationTokenSource();

        var writer = await store.OpenWriteAsync("k");
        await using (writer)
        {
            await writer.WriteAsync(RandomBytes(1000));
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writer.CompleteAsync(cts.Token));
        }

        Assert.Null(await store.StatAsync("k"));
    }

    [Fact]
    public async Task CompleteAsync_CalledTwice_ThrowsInvalidOperation()
    {
        var store = await CreateStoreAsync();

        var writer = await store.OpenWriteAsync("k");
        await using (writer)
        {
            await writer.WriteAsync(new byte[] { 1, 2, 3 });
            await writer.CompleteAsync();

            await Assert.ThrowsAsync<InvalidOperationException>(() => writer.CompleteAsync());
        }

        Assert.Equal(new byte[] { 1, 2, 3 }, await ReadAllAsync(store, "k"));
    }

    [Fact]
    public async Task CompleteAsync_CreateOnlyKeyTakenWhileWriting_ThrowsPreconditionFailed()
    {
        var store = await CreateStoreAsync();

        var writer = await store.OpenWriteAsync("m.json", ObjectWriteOptions.CreateOnlyWrite);
        await using (writer)
        {
            await writer.WriteAsync(Encoding.UTF8.GetBytes("late"));
            await PutTextAsync(store, "m.json", "early");

            await Assert.ThrowsAsync<PreconditionFailedException>(() => writer.CompleteAsync());
        }

        Assert.Equal("early", await ReadTextAsync(store, "m.json"));
        Assert.Equal(["m.json"], await ListKeysAsync(store, string.Empty));
    }

    [Theory]
    [MemberData(nameof(Ranges))]
    public async Task OpenReadAsync_Range_ReturnsSliceCutAtTheEnd(long offset, long? length, int expectedStart, int expectedLength)
    {
        var store = await CreateStoreAsync();
        var data = RandomBytes(1000);
        await store.PutAsync("r", new MemoryStream(data));

        var read = await ReadAllAsync(store, "r", new ByteRange(offset, length));

        Assert.Equal(data.AsSpan(expectedStart, expectedLength).ToArray(), read);
    }

    [Fact]
    public async Task OpenReadAsync_NegativeRange_ThrowsArgumentOutOfRange()
    {
        var store = await CreateStoreAsync();
        await PutTextAsync(store, "r", "data");

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.OpenReadAsync("r", new ByteRange(-1)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.OpenReadAsync("r", new ByteRange(0, -1)));
    }

    [Fact]
    public async Task OpenReadAsync_Missing_ThrowsObjectNotFound()
    {
        var store = await CreateStoreAsync();

        var ex = await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.OpenReadAsync("no/such/key"));

        Assert.Equal("no/such/key", ex.Key);
    }

    [Fact]
    public async Task OpenReadAsync_OpenStreamWhileReplaced_ReadsOneWholeVersion()
    {
        var store = await CreateStoreAsync();
        var first = RandomBytes(200_000);
        var second = RandomBytes(200_000);
        await store.PutAsync("k", new MemoryStream(first));

        var stream = await store.OpenReadAsync("k");
        await using (stream)
        {
            await store.PutAsync("k", new MemoryStream(second));
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);

            Assert.True(copy.ToArray().AsSpan().SequenceEqual(first) || copy.ToArray().AsSpan().SequenceEqual(second), "the reader saw a mix of two versions");
        }

        Assert.Equal(second, await ReadAllAsync(store, "k"));
    }

    [Fact]
    public async Task StatAsync_Missing_ReturnsNull()
    {
        var store = await CreateStoreAsync();

        Assert.Null(await store.StatAsync("missing"));
    }

    [Fact]
    public async Task StatAsync_FolderOfOtherObjects_IsNotAnObject()
    {
        var store = await CreateStoreAsync();
        await PutTextAsync(store, "folder/inner", "x");

        Assert.Null(await store.StatAsync("folder"));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.OpenReadAsync("folder"));
        Assert.False(await store.DeleteAsync("folder"));
        Assert.Equal("x", await ReadTextAsync(store, "folder/inner"));
    }

    [Fact]
    public async Task StatAsync_NewObject_LastModifiedIsRecentAndLengthMatches()
    {
        var store = await CreateStoreAsync();
        var before = DateTimeOffset.UtcNow;

        await store.PutAsync("k", new MemoryStream(RandomBytes(1234)));

        var info = await store.StatAsync("k");
        Assert.NotNull(info);
        Assert.Equal(1234, info.Length);
        Assert.InRange(info.LastModified, before - ClockTolerance, DateTimeOffset.UtcNow + ClockTolerance);
        Assert.False(string.IsNullOrEmpty(info.ETag));
    }

    [Fact]
    public async Task StatAsync_Unchanged_ETagIsStable()
    {
        var store = await CreateStoreAsync();
        var put = await PutTextAsync(store, "k", "v");

        var first = await store.StatAsync("k");
        var second = await store.StatAsync("k");

        Assert.Equal(put.ETag, first!.ETag);
        Assert.Equal(first.ETag, second!.ETag);
    }

    [Fact]
    public async Task PutAsync_ObjectReplacedBySameLengthContent_ETagChanges()
    {
        var store = await CreateStoreAsync();
        var tags = new HashSet<string>(StringComparer.Ordinal);

        // Back to back, same length: a version token built only from size and a coarse clock would repeat here.
        for (var i = 0; i < 5; i++)
        {
            var info = await PutTextAsync(store, "k", $"v{i}");
            Assert.True(tags.Add(info.ETag), $"ETag {info.ETag} was reused by version {i}");
            Assert.Equal(info.ETag, (await store.StatAsync("k"))!.ETag);
        }
    }

    [Fact]
    public async Task ListAsync_TrickyNames_ReturnsOrdinalOrder()
    {
        var store = await CreateStoreAsync();

        // A key and a folder of the same name cannot coexist on a file system, so "a" comes after "a/…" is gone.
        string[] keys = ["a0", "a.b", "a-b", "a/b", "a/b0/c", "A", "a b", "a/a", "a~", "b", "a/b.c"];
        await PutAllAsync(store, keys);

        var listed = await ListKeysAsync(store, string.Empty);

        Assert.Equal(["A", "a b", "a-b", "a.b", "a/a", "a/b", "a/b.c", "a/b0/c", "a0", "a~", "b"], listed);
        Assert.Equal(keys.Order(StringComparer.Ordinal), listed);

        foreach (var key in keys.Where(k => k.StartsWith("a/", StringComparison.Ordinal)))
        {
            Assert.True(await store.DeleteAsync(key));
        }

        await PutTextAsync(store, "a", "a");
        Assert.Equal(["A", "a", "a b", "a-b", "a.b", "a0", "a~", "b"], await ListKeysAsync(store, string.Empty));
    }

    [Fact]
    public async Task ListAsync_Entries_CarryObjectInfo()
    {
        var store = await CreateStoreAsync();
        var put = await PutTextAsync(store, "d/k", "12345");

        var entries = await ListAsync(store, string.Empty);

        var entry = Assert.Single(entries);
        Assert.False(entry.IsPrefix);
        Assert.Equal("d/k", entry.Key);
        Assert.NotNull(entry.Info);
        Assert.Equal("d/k", entry.Info.Key);
        Assert.Equal(5, entry.Info.Length);
        Assert.Equal(put.ETag, entry.Info.ETag);
    }

    [Fact]
    public async Task ListAsync_PrefixEndingMidName_MatchesDeeperKeys()
    {
        var store = await CreateStoreAsync();
        await PutAllAsync(store, "run/step-000001/x", "run/step-000002/y/z", "run/step-0001", "run/stop", "run/step-0000", "runner");

        var listed = await ListKeysAsync(store, "run/step-0000");

        Assert.Equal(["run/step-0000", "run/step-000001/x", "run/step-000002/y/z"], listed);
    }

    [Fact]
    public async Task ListAsync_PrefixEndingWithSlash_ListsOnlyThatFolder()
    {
        var store = await CreateStoreAsync();
        await PutAllAsync(store, "run/a", "run/b/c", "run-x", "run.y", "runner/z", "ru");

        Assert.Equal(["run/a", "run/b/c"], await ListKeysAsync(store, "run/"));
        Assert.Equal(["run-x", "run.y", "run/a", "run/b/c", "runner/z"], await ListKeysAsync(store, "run"));
    }

    [Fact]
    public async Task ListAsync_PrefixOfMissingFolder_ReturnsNothing()
    {
        var store = await CreateStoreAsync();
        await PutAllAsync(store, "a/b", "file");

        Assert.Empty(await ListKeysAsync(store, "nothing/here/"));
        Assert.Empty(await ListKeysAsync(store, "file/under/"));
    }

    [Fact]
    public async Task ListAsync_Delimiter_RollsUpFoldersInOrdinalOrderAmongObjects()
    {
        var store = await CreateStoreAsync();
        await PutAllAsync(store, "a-b", "a.b", "a/x", "a/y/z", "a0", "b/c", "b-", "b0", "A");

        var entries = await ListAsync(store, string.Empty, new ListOptions { Delimiter = "/" });

        Assert.Equal(["A", "a-b", "a.b", "a/", "a0", "b-", "b/", "b0"], entries.Select(e => e.Key));
        Assert.Equal([false, false, false, true, false, false, true, false], entries.Select(e => e.IsPrefix));
        Assert.All(entries, e => Assert.Equal(e.IsPrefix, e.Info is null));
    }

    [Fact]
    public async Task ListAsync_DelimiterAfterPrefix_RollsUpBelowThePrefix()
    {
        var store = await CreateStoreAsync();
        await PutAllAsync(
            store,
            "run/scope/step-000000000001/manifest.json",
            "run/scope/step-000000000001/w1/model.bin",
            "run/scope/step-000000000002/w2/model.bin",
            "run/scope/readme",
            "run/other/x");

        var folders = await ListAsync(store, "run/scope/", new ListOptions { Delimiter = "/" });
        var midName = await ListKeysAsync(store, "run/scope/step-", new ListOptions { Delimiter = "/" });

        Assert.Equal(["run/scope/readme", "run/scope/step-000000000001/", "run/scope/step-000000000002/"], folders.Select(e => e.Key));
        Assert.Equal(["run/scope/step-000000000001/", "run/scope/step-000000000002/"], midName);
    }

    [Fact]
    public async Task ListAsync_PageSizeTwo_ReturnsAllSevenOnceInOrder()
    {
        var store = await CreateStoreAsync();
        var keys = new[] { "p/7", "p/1", "p/3/x", "p/2", "p/6", "p/4", "p/5" };
        await PutAllAsync(store, keys);

        var listed = await ListKeysAsync(store, "p/", new ListOptions { PageSize = 2 });

        Assert.Equal(keys.Order(StringComparer.Ordinal), listed);
    }

    [Fact]
    public async Task ListAsync_PageSizeTwoWithDelimiter_ReturnsEachFolderOnce()
    {
        var store = await CreateStoreAsync();
        await PutAllAsync(store, "f1/a", "f1/b", "f1/c", "f2/a", "f2/b", "g", "f3/a");

        var listed = await ListKeysAsync(store, string.Empty, new ListOptions { PageSize = 2, Delimiter = "/" });

        Assert.Equal(["f1/", "f2/", "f3/", "g"], listed);
    }

    [Fact]
    public async Task ListAsync_EmptyStore_ReturnsNothing()
    {
        var store = await CreateStoreAsync();

        Assert.Empty(await ListKeysAsync(store, string.Empty));
        Assert.Empty(await ListKeysAsync(store, string.Empty, new ListOptions { Delimiter = "/" }));
        Assert.Empty(await ListKeysAsync(store, "x/"));
    }

    [Fact]
    public async Task ListAsync_AfterDeletes_ShowsNoDeletedKeysOrEmptyFolders()
    {
        var store = await CreateStoreAsync();
        await PutAllAsync(store, "gone/deep/er/k", "kept/k");

        Assert.True(await store.DeleteAsync("gone/deep/er/k"));

        Assert.Equal(["kept/k"], await ListKeysAsync(store, string.Empty));
        Assert.Equal(["kept/"], await ListKeysAsync(store, string.Empty, new ListOptions { Delimiter = "/" }));
        Assert.Empty(await ListKeysAsync(store, "gone/", new ListOptions { Delimiter = "/" }));
    }

    [Theory]
    [InlineData("/abs")]
    [InlineData("a//b")]
    [InlineData("../x")]
    [InlineData("a/./")]
    public async Task ListAsync_InvalidPrefix_ThrowsArgumentException(string prefix)
    {
        var store = await CreateStoreAsync();

        await Assert.ThrowsAnyAsync<ArgumentException>(() => ListKeysAsync(store, prefix));
    }

    [Fact]
    public async Task DeleteAsync_Existing_ReturnsTrueThenFalse()
    {
        var store = await CreateStoreAsync();
        await PutTextAsync(store, "d/k", "v");

        Assert.True(await store.DeleteAsync("d/k"));
        Assert.False(await store.DeleteAsync("d/k"));
        Assert.Null(await store.StatAsync("d/k"));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.OpenReadAsync("d/k"));
    }

    [Fact]
    public async Task DeleteAsync_Missing_ReturnsFalse()
    {
        var store = await CreateStoreAsync();

        Assert.False(await store.DeleteAsync("never/written"));
    }

    [Fact]
    public async Task DeleteAsync_MatchingIfMatch_Deletes()
    {
        var store = await CreateStoreAsync();
        var info = await PutTextAsync(store, "k", "v");
        if (!store.Capabilities.ConditionalDelete)
        {
            await Assert.ThrowsAsync<NotSupportedException>(() => store.DeleteAsync("k", info.ETag));
            return;
        }

        Assert.True(await store.DeleteAsync("k", info.ETag));

        Assert.Null(await store.StatAsync("k"));
    }

    [Fact]
    public async Task DeleteAsync_StaleIfMatch_ThrowsPreconditionFailedAndKeepsObject()
    {
        var store = await CreateStoreAsync();
        var old = await PutTextAsync(store, "k", "v1");
        var current = await PutTextAsync(store, "k", "v2");
        if (!store.Capabilities.ConditionalDelete)
        {
            await Assert.ThrowsAsync<NotSupportedException>(() => store.DeleteAsync("k", old.ETag));
            return;
        }

        var ex = await Assert.ThrowsAsync<PreconditionFailedException>(() => store.DeleteAsync("k", old.ETag));

        Assert.Equal("k", ex.Key);
        Assert.Equal("v2", await ReadTextAsync(store, "k"));
        Assert.Equal(current.ETag, (await store.StatAsync("k"))!.ETag);
    }

    [Fact]
    public async Task DeleteAsync_IfMatchOnMissing_ReturnsFalse()
    {
        var store = await CreateStoreAsync();
        var info = await PutTextAsync(store, "k", "v");
        Assert.True(await store.DeleteAsync("k"));
        if (!store.Capabilities.ConditionalDelete)
        {
            return;
        }

        Assert.False(await store.DeleteAsync("k", info.ETag));
    }

    [Theory]
    [MemberData(nameof(InvalidKeys))]
    public async Task EveryKeyedMethod_InvalidKey_ThrowsArgumentException(string key)
    {
        var store = await CreateStoreAsync();

        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.PutAsync(key, new MemoryStream([1])));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.PutAsync(key, new MemoryStream([1]), ObjectWriteOptions.CreateOnlyWrite));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.OpenWriteAsync(key));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.OpenReadAsync(key));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.StatAsync(key));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.DeleteAsync(key));
        Assert.Empty(await ListKeysAsync(store, string.Empty));
    }

    [Fact]
    public async Task Location_IsAnAbsoluteUri()
    {
        var store = await CreateStoreAsync();

        Assert.True(store.Location.IsAbsoluteUri);
        Assert.NotNull(store.Capabilities);
    }

    /// <summary>Random bytes (from a seeded generator, so a failure can be replayed).</summary>
    protected static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Writes UTF-8 text under a key.</summary>
    protected static Task<ObjectInfo> PutTextAsync(ICheckpointStore store, string key, string text, ObjectWriteOptions? options = null) =>
        store.PutAsync(key, new MemoryStream(Encoding.UTF8.GetBytes(text)), options);

    /// <summary>Reads an object, or a range of it, to the end.</summary>
    protected static async Task<byte[]> ReadAllAsync(ICheckpointStore store, string key, ByteRange? range = null)
    {
        var stream = await store.OpenReadAsync(key, range);
        await using (stream)
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            return copy.ToArray();
        }
    }

    /// <summary>Reads an object as UTF-8 text.</summary>
    protected static async Task<string> ReadTextAsync(ICheckpointStore store, string key) =>
        Encoding.UTF8.GetString(await ReadAllAsync(store, key));

    /// <summary>Lists entries and checks no key comes twice or out of ordinal order.</summary>
    protected static async Task<List<StoreEntry>> ListAsync(ICheckpointStore store, string prefix, ListOptions? options = null)
    {
        var entries = new List<StoreEntry>();
        await foreach (var entry in store.ListAsync(prefix, options))
        {
            Assert.StartsWith(prefix, entry.Key, StringComparison.Ordinal);
            if (entries.Count > 0)
            {
                Assert.True(string.CompareOrdinal(entries[^1].Key, entry.Key) < 0, $"'{entries[^1].Key}' was listed before '{entry.Key}'");
            }

            entries.Add(entry);
        }

        return entries;
    }

    /// <summary>Lists keys (objects and rolled-up folders).</summary>
    protected static async Task<List<string>> ListKeysAsync(ICheckpointStore store, string prefix, ListOptions? options = null) =>
        [.. (await ListAsync(store, prefix, options)).Select(e => e.Key)];

    private static async Task PutAllAsync(ICheckpointStore store, params string[] keys)
    {
        foreach (var key in keys)
        {
            await PutTextAsync(store, key, key);
        }
    }
}
