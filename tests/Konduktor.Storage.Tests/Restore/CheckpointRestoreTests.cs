using System.Text;

using static Konduktor.Storage.Tests.CheckpointTestKit;

namespace Konduktor.Storage.Tests;

public sealed class CheckpointRestoreTests
{
    private readonly InMemoryCheckpointStore _store = new();

    [Fact]
    public async Task RestoreLatestAsync_EmptyStore_FindsNothing()
    {
        var result = await Manager(_store).RestoreLatestAsync(Path.Combine(TempDirectory(), "out"));

        Assert.False(result.Found);
        Assert.Null(result.Step);
        Assert.Empty(result.Skipped);
    }

    [Fact]
    public async Task RestoreLatestAsync_SeveralCheckpoints_RestoresTheNewest()
    {
        var manager = Manager(_store, o => o.Retention.KeepLast = 10);
        await manager.SaveAsync(5, ("m.bin", Bytes(100, 5)));
        await manager.SaveAsync(20, ("m.bin", Bytes(100, 20)));
        await manager.SaveAsync(10, ("m.bin", Bytes(100, 10)));
        var target = Path.Combine(TempDirectory(), "out");

        var result = await manager.RestoreLatestAsync(target);

        Assert.Equal(20, result.Step);
        Assert.Equal(Bytes(100, 20), await File.ReadAllBytesAsync(Path.Combine(target, "m.bin")));
        Assert.Equal(20, manager.RestoredStep);
    }

    [Fact]
    public async Task RestoreLatestAsync_NewestBitFlipped_FallsBackToPreviousAndKeepsTheCorruptOne()
    {
        var manager = Manager(_store);
        await manager.SaveAsync(1, ("m.bin", Bytes(50_000, 1)));
        var newest = await manager.SaveAsync(2, ("m.bin", Bytes(50_000, 2)));
        await _store.FlipByteAsync(DataKey(manager, newest, "m.bin"), 31_337);
        var target = Path.Combine(TempDirectory(), "out");

        var result = await manager.RestoreLatestAsync(target);

        Assert.Equal(1, result.Step);
        Assert.Equal(Bytes(50_000, 1), await File.ReadAllBytesAsync(Path.Combine(target, "m.bin")));
        var skipped = Assert.Single(result.Skipped);
        Assert.Equal((2L, SkipReason.ChecksumMismatch), (skipped.Step, skipped.Reason));
        Assert.Contains("m.bin", skipped.Detail);
        Assert.NotNull(await _store.StatAsync(ManifestKey(manager, 2)));
        Assert.NotNull(await _store.StatAsync(DataKey(manager, newest, "m.bin")));
    }

    [Fact]
    public async Task RestoreLatestAsync_NewestTruncated_FallsBackWithLengthMismatch()
    {
        var manager = Manager(_store);
        await manager.SaveAsync(1, ("m.bin", Bytes(1000, 1)));
        var newest = await manager.SaveAsync(2, ("m.bin", Bytes(1000, 2)));
        await _store.ReplaceAsync(DataKey(manager, newest, "m.bin"), Bytes(1000, 2)[..999]);

        var result = await manager.RestoreLatestAsync(TempDirectory());

        Assert.Equal(1, result.Step);
        Assert.Equal(SkipReason.LengthMismatch, Assert.Single(result.Skipped).Reason);
    }

    [Fact]
    public async Task RestoreLatestAsync_NewestMissingAnObject_FallsBackWithMissingFile()
    {
        var manager = Manager(_store);
        await manager.SaveAsync(1, ("a", Bytes(10, 1)), ("b", Bytes(10, 2)));
        var newest = await manager.SaveAsync(2, ("a", Bytes(10, 3)), ("b", Bytes(10, 4)));
        await _store.DeleteAsync(DataKey(manager, newest, "b"));

        var result = await manager.RestoreLatestAsync(TempDirectory());

        Assert.Equal(1, result.Step);
        var skipped = Assert.Single(result.Skipped);
        Assert.Equal(SkipReason.MissingFile, skipped.Reason);
        Assert.Contains("'b'", skipped.Detail);
    }

    [Fact]
    public async Task RestoreLatestAsync_TornSaveWithoutManifest_IsSkippedAsNotCommitted()
    {
        var manager = Manager(_store);
        await manager.SaveAsync(1, ("a", Bytes(10, 1)));
        await _store.PutAsync($"{Run}/rank-00000/step-000000000002/a0-000000000000/a", new MemoryStream(Bytes(10, 2)));

        var result = await manager.RestoreLatestAsync(TempDirectory());

        Assert.Equal(1, result.Step);
        Assert.Equal((2L, SkipReason.NotCommitted), (result.Skipped[0].Step, result.Skipped[0].Reason));
    }

    public static TheoryData<string, Func<string, string>> GarbageManifests => new()
    {
        { "not JSON", _ => "this is not json {" },
        { "JSON null", _ => "null" },
        { "empty object", _ => "{}" },
        { "wrong step", m => m.Replace("\"step\": 2", "\"step\": 3", StringComparison.Ordinal) },
        { "wrong run", m => m.Replace("\"run\": \"run-1\"", "\"run\": \"other\"", StringComparison.Ordinal) },
        { "future format", m => m.Replace("konduktor-checkpoint/1", "konduktor-checkpoint/9", StringComparison.Ordinal) },
        { "bad checksum", m => m.Replace("xxh128:", "md5:", StringComparison.Ordinal) },
        { "negative length", m => m.Replace("\"length\": 10", "\"length\": -10", StringComparison.Ordinal) },
        { "key escapes the step", m => System.Text.RegularExpressions.Regex.Replace(m, "\"key\": \"[^\"]*\"", "\"key\": \"../../x/a\"") },
        { "key is the manifest", m => System.Text.RegularExpressions.Regex.Replace(m, "\"key\": \"[^\"]*\"", "\"key\": \"manifest.json\"") },
        { "name escapes the target", m => m.Replace("\"name\": \"a\"", "\"name\": \"../../outside\"", StringComparison.Ordinal) },
        { "absolute name", m => m.Replace("\"name\": \"a\"", "\"name\": \"/etc/passwd\"", StringComparison.Ordinal) },
    };

    [Theory]
    [MemberData(nameof(GarbageManifests))]
    public async Task RestoreLatestAsync_UntrustworthyManifest_IsSkippedAndNothingIsWrittenOutsideTheTarget(string what, Func<string, string> spoil)
    {
        var manager = Manager(_store);
        await manager.SaveAsync(1, ("a", Bytes(10, 1)));
        await manager.SaveAsync(2, ("a", Bytes(10, 2)));
        var key = ManifestKey(manager, 2);
        var spoiled = spoil(Encoding.UTF8.GetString(await _store.ReadAllAsync(key)));
        await _store.ReplaceAsync(key, Encoding.UTF8.GetBytes(spoiled));
        var sandbox = TempDirectory();
        var target = Path.Combine(sandbox, "deep", "out");

        var result = await manager.RestoreLatestAsync(target);

        Assert.True(result.Step == 1, what);
        Assert.Equal(SkipReason.InvalidManifest, Assert.Single(result.Skipped).Reason);
        Assert.Equal([Path.Combine(sandbox, "deep")], Directory.GetDirectories(sandbox));
        Assert.Equal([target], Directory.GetDirectories(Path.Combine(sandbox, "deep")));
        Assert.Equal([Path.Combine(target, "a")], Directory.GetFiles(target, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task RestoreLatestAsync_OversizedManifest_IsSkippedUnread()
    {
        var manager = Manager(_store);
        await manager.SaveAsync(1, ("a", Bytes(10, 1)));
        await _store.PutAsync(ManifestKey(manager, 2), new MemoryStream(new byte[ManifestCodec.MaxBytes + 1]));

        var result = await manager.RestoreLatestAsync(TempDirectory());

        Assert.Equal(1, result.Step);
        Assert.Contains("over the limit", Assert.Single(result.Skipped).Detail);
    }

    [Fact]
    public async Task RestoreLatestAsync_TargetHasOldContent_IsReplacedWholeWithNoLeftovers()
    {
        var manager = Manager(_store);
        await manager.SaveAsync(1, ("new.bin", Bytes(10, 1)));
        var parent = TempDirectory();
        var target = Path.Combine(parent, "out");
        Directory.CreateDirectory(target);
        await File.WriteAllTextAsync(Path.Combine(target, "stale.txt"), "old");

        await manager.RestoreLatestAsync(target);

        Assert.Equal([Path.Combine(target, "new.bin")], Directory.GetFiles(target));
        Assert.Equal([target], Directory.GetDirectories(parent));
    }

    [Fact]
    public async Task RestoreLatestAsync_EveryCheckpointCorrupt_LeavesTheTargetUntouched()
    {
        var manager = Manager(_store);
        var only = await manager.SaveAsync(1, ("a", Bytes(100, 1)));
        await _store.FlipByteAsync(DataKey(manager, only, "a"), 99);
        var parent = TempDirectory();
        var target = Path.Combine(parent, "out");
        Directory.CreateDirectory(target);
        await File.WriteAllTextAsync(Path.Combine(target, "keep.txt"), "mine");

        var result = await manager.RestoreLatestAsync(target);

        Assert.False(result.Found);
        Assert.Equal("mine", await File.ReadAllTextAsync(Path.Combine(target, "keep.txt")));
        Assert.Equal([target], Directory.GetDirectories(parent));
        Assert.Null(manager.RestoredStep);
    }

    [Fact]
    public async Task RestoreAsync_SpecificStep_RestoresIt()
    {
        var manager = Manager(_store);
        await manager.SaveAsync(1, ("a", Bytes(10, 1)));
        await manager.SaveAsync(2, ("a", Bytes(10, 2)));
        var target = Path.Combine(TempDirectory(), "o");

        var result = await manager.RestoreAsync(1, target);

        Assert.Equal(1, result.Step);
        Assert.Equal(Bytes(10, 1), await File.ReadAllBytesAsync(Path.Combine(target, "a")));
    }

    [Fact]
    public async Task RestoreAsync_MissingStep_ThrowsNamingStepAndScope()
    {
        var manager = Manager(_store);
        await manager.SaveAsync(1, ("a", Bytes(10, 1)));

        var error = await Assert.ThrowsAsync<CheckpointNotFoundException>(() => manager.RestoreAsync(9, TempDirectory()));

        Assert.Equal(9, error.Step);
        Assert.Contains("step 9", error.Message);
        Assert.Contains("rank-00000", error.Message);
    }

    [Fact]
    public async Task OpenLatestAsync_Streams_AreVerifiedAndComplete()
    {
        var manager = Manager(_store);
        var data = Bytes(3_000_000, 3);
        await manager.SaveAsync(3, ("m.bin", data));

        var reader = await manager.OpenLatestAsync();
        await using var stream = await reader.OpenFileAsync("m.bin");
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);

        Assert.Equal(3, reader.Step);
        Assert.Equal(data, copy.ToArray());
    }

    [Fact]
    public async Task OpenLatestAsync_CorruptFile_ThrowsWhileReadingAndTheNextOpenSkipsIt()
    {
        var manager = Manager(_store);
        await manager.SaveAsync(1, ("m.bin", Bytes(10_000, 1)));
        var newest = await manager.SaveAsync(2, ("m.bin", Bytes(10_000, 2)));
        await _store.FlipByteAsync(DataKey(manager, newest, "m.bin"), 5);

        var reader = await manager.OpenLatestAsync();
        await using var stream = await reader.OpenFileAsync("m.bin");
        var error = await Assert.ThrowsAsync<CheckpointCorruptException>(() => stream.CopyToAsync(Stream.Null));
        var again = await manager.OpenLatestAsync();

        Assert.Equal(2, reader.Step);
        Assert.Equal((2L, "m.bin"), (error.Step, error.File));
        Assert.StartsWith("checksum xxh128:", error.Expected);
        Assert.Equal(1, again.Step);
        Assert.Equal(SkipReason.KnownCorrupt, Assert.Single(again.Skipped).Reason);
    }

    [Fact]
    public async Task OpenLatestAsync_ReaderThatStopsAtTheLength_StillGetsVerified()
    {
        var manager = Manager(_store);
        var saved = await manager.SaveAsync(1, ("m.bin", Bytes(4096, 1)));
        await _store.FlipByteAsync(DataKey(manager, saved, "m.bin"), 4095);
        var reader = await manager.OpenLatestAsync();
        await using var stream = await reader.OpenFileAsync("m.bin");
        var buffer = new byte[4096];

        await Assert.ThrowsAsync<CheckpointCorruptException>(async () => await stream.ReadExactlyAsync(buffer));
    }

    [Fact]
    public async Task OpenFileAsync_UnknownName_ThrowsListingTheFiles()
    {
        var manager = Manager(_store);
        await manager.SaveAsync(1, ("a", Bytes(1, 1)));
        var reader = await manager.OpenLatestAsync();

        var error = await Assert.ThrowsAsync<KeyNotFoundException>(() => reader.OpenFileAsync("b"));

        Assert.Contains("a", error.Message);
    }

    [Fact]
    public async Task OpenLatestAsync_NothingSaved_ReaderIsNotFound()
    {
        var reader = await Manager(_store).OpenLatestAsync();

        Assert.False(reader.Found);
        await Assert.ThrowsAsync<InvalidOperationException>(() => reader.OpenFileAsync("a"));
    }

    [Fact]
    public async Task ListAsync_ReportsCommittedAndTornStepsNewestFirst()
    {
        var manager = Manager(_store);
        await manager.SaveAsync(1, ("a", Bytes(1, 1)));
        await manager.SaveAsync(3, ("a", Bytes(1, 3)));
        await _store.PutAsync($"{Run}/rank-00000/step-000000000002/a0-1/a", new MemoryStream([1]));

        var listed = await manager.ListAsync();

        Assert.Equal([3L, 2L, 1L], listed.Select(c => c.Step));
        Assert.Equal([true, false, true], listed.Select(c => c.IsCommitted));
        Assert.Contains("never committed", listed[1].Problem);
    }

    [Fact]
    public async Task RestoreLatestAsync_OtherScopesAndRuns_AreIgnored()
    {
        var mine = Manager(_store);
        var otherRank = Manager(_store, o => o.Mode = CheckpointMode.PerRank, job: JobContext.Create(rank: 1, nodeCount: 2));
        var otherRun = Manager(_store, o => o.RunId = "run-10");
        await mine.SaveAsync(1, ("a", Bytes(1, 1)));
        await otherRank.SaveAsync(5, ("a", Bytes(1, 5)));
        await otherRun.SaveAsync(9, ("a", Bytes(1, 9)));

        var result = await mine.RestoreLatestAsync(TempDirectory());

        Assert.Equal(1, result.Step);
        Assert.Empty(result.Skipped);
    }

    [Fact]
    public async Task RestoreLatestAsync_Progress_ReportsEveryFile()
    {
        var manager = Manager(_store);
        await manager.SaveAsync(1, ("a", Bytes(100_000, 1)), ("b", Bytes(50_000, 2)));
        var reports = new List<TransferProgress>();

        await manager.RestoreLatestAsync(Path.Combine(TempDirectory(), "o"), new SynchronousProgress<TransferProgress>(reports.Add));

        Assert.Equal(150_000, reports.Max(r => r.TotalBytes));
        Assert.Contains(reports, r => r is { File: "a", FileBytes: 100_000, FileLength: 100_000 });
        Assert.Contains(reports, r => r is { File: "b", FileBytes: 50_000 });
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("a/../../x")]
    [InlineData("/etc/x")]
    public void LocalPath_NameOutsideTheRoot_IsRefused(string name)
    {
        Assert.Throws<CheckpointStorageException>(() => CheckpointRestorer.LocalPath(TempDirectory(), name));
    }

    private static async Task<byte[]> LoadFileAsync(CheckpointReader reader, CancellationToken cancellationToken)
    {
        await using var stream = await reader.OpenFileAsync("m.bin", cancellationToken);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, cancellationToken);
        return copy.ToArray();
    }

    [Fact]
    public async Task LoadLatestAsync_NewestCorruptWhileRead_FallsBackAndReportsTheMismatch()
    {
        var manager = Manager(_store);
        await manager.SaveAsync(1, ("m.bin", Bytes(20_000, 1)));
        var bad = await manager.SaveAsync(2, ("m.bin", Bytes(20_000, 2)));
        await _store.FlipByteAsync(DataKey(manager, bad, "m.bin"), 10_000);
        var calls = 0;

        var result = await manager.LoadLatestAsync((reader, ct) =>
        {
            calls++;
            return LoadFileAsync(reader, ct);
        });

        Assert.Equal(1, result.Step);
        Assert.Equal(Bytes(20_000, 1), result.Value);
        Assert.Equal(2, calls);
        var skipped = Assert.Single(result.Skipped);
        Assert.Equal((2L, SkipReason.ChecksumMismatch), (skipped.Step, skipped.Reason));
        Assert.Equal(1, manager.RestoredStep);
    }

    [Fact]
    public async Task LoadLatestAsync_NothingIntact_IsNotFoundWithEverySkip()
    {
        var manager = Manager(_store);
        var only = await manager.SaveAsync(1, ("m.bin", Bytes(100, 1)));
        await _store.FlipByteAsync(DataKey(manager, only, "m.bin"), 0);

        var result = await manager.LoadLatestAsync(LoadFileAsync);

        Assert.False(result.Found);
        Assert.Null(result.Value);
        Assert.Equal(SkipReason.ChecksumMismatch, Assert.Single(result.Skipped).Reason);
        Assert.Null(manager.RestoredStep);
    }

    [Fact]
    public async Task LoadLatestAsync_LoaderFailsOtherwise_PropagatesWithoutFallingBack()
    {
        var manager = Manager(_store);
        await manager.SaveAsync(1, ("m.bin", Bytes(100, 1)));
        await manager.SaveAsync(2, ("m.bin", Bytes(100, 2)));

        await Assert.ThrowsAsync<InvalidDataException>(() => manager.LoadLatestAsync<int>((_, _) => throw new InvalidDataException("mine")));
    }

    [Fact]
    public async Task OpenFileAsync_SynchronousReader_ReadsVerifiedBytesAndDetectsCorruption()
    {
        // Model loaders often take a Stream and read it synchronously.
        var manager = Manager(_store);
        var data = Bytes(2_500_000, 7);
        await manager.SaveAsync(1, ("good.bin", data), ("bad.bin", Bytes(10_000, 8)));
        var saved = (await manager.ListAsync()).Single().Manifest!;
        var reader = await manager.OpenLatestAsync();

        await using var good = await reader.OpenFileAsync("good.bin");
        using var copy = new MemoryStream();
        good.CopyTo(copy);
        await _store.FlipByteAsync(DataKey(manager, saved, "bad.bin"), 9_999);
        await using var bad = await reader.OpenFileAsync("bad.bin");

        Assert.Equal(data, copy.ToArray());
        Assert.Throws<CheckpointCorruptException>(() => bad.CopyTo(Stream.Null));
    }
}
