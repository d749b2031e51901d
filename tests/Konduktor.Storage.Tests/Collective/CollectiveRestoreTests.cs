using static Konduktor.Storage.Tests.CollectiveTestKit;

namespace Konduktor.Storage.Tests;

public sealed class CollectiveRestoreTests
{
    [Fact]
    public async Task LoadLatest_EveryRank_ChoosesTheNewestStepCommit_EachItsOwnPart()
    {
        var store = new InMemoryCheckpointStore();
        var ranks = Ranks(store, 3);
        await ranks.SaveAllAsync(5);
        await ranks.SaveAllAsync(10);

        var loaded = await Ranks(store, 3, attempt: 1).LoadAllAsync();

        Assert.All(loaded, l => Assert.Equal(10, l.Step));
        Assert.All(loaded, (l, rank) => Assert.Equal(Content(10, rank), l.Value));
        Assert.All(loaded, l => Assert.Empty(l.Skipped));
    }

    [Fact]
    public async Task LoadLatest_PartsWithoutAStepCommit_AreNoCheckpoint_ForAnyRank()
    {
        var store = new InMemoryCheckpointStore();
        var ranks = Ranks(store, 2);
        await ranks.SaveAllAsync(5);
        await ranks.SaveAllAsync(10);
        await store.DeleteAsync(StepCommitKey(10));

        var loaded = await Ranks(store, 2, attempt: 1).LoadAllAsync();

        Assert.All(loaded, l => Assert.Equal(5, l.Step));
        Assert.All(loaded, l => Assert.Equal(SkipReason.NotCommitted, Assert.Single(l.Skipped).Reason));
    }

    [Fact]
    public async Task LoadLatest_FlippedByteInOneRanksPart_EveryRankFallsBackInTheSameAttempt()
    {
        var store = new InMemoryCheckpointStore();
        var ranks = Ranks(store, 2);
        await ranks.SaveAllAsync(5);
        var parts = await ranks.SaveAllAsync(10);
        await store.FlipByteAsync(PartDataKey(10, 1, parts[1]), 3);

        var restarted = Ranks(store, 2, attempt: 1);
        var loaded = await restarted.LoadAllAsync();

        Assert.All(loaded, l => Assert.Equal(5, l.Step));
        Assert.All(loaded, (l, rank) => Assert.Equal(Content(5, rank), l.Value));
        Assert.Equal(SkipReason.PartCorrupt, Assert.Single(loaded[0].Skipped).Reason);
        Assert.Contains("rank 1 found its part corrupt", loaded[0].Skipped[0].Detail, StringComparison.Ordinal);
        Assert.Equal(SkipReason.ChecksumMismatch, Assert.Single(loaded[1].Skipped).Reason);

        // The verdict is permanent: a later attempt passes over step 10 at once, and saving it again supersedes it.
        Assert.All(await Ranks(store, 2, attempt: 2).LoadAllAsync(), l => Assert.Equal(5, l.Step));
        var resaved = await restarted.SaveAllAsync(10);
        var reloaded = await Ranks(store, 2, attempt: 3).LoadAllAsync();
        Assert.All(reloaded, (l, rank) => Assert.Equal(Content(10, rank), l.Value));
        Assert.Equal(resaved.Select(p => p.Writer), (await restarted[0].Collective!.GetStepCommitAsync(10))!.Parts.Select(p => p.Writer));
        Assert.Single(await store.KeysAsync($"{Run}/job/step-{10:D12}/quarantine/"));
    }

    [Fact]
    public async Task RestoreLatest_FlippedByteInOneRanksPart_EveryRankRestoresThePreviousStep()
    {
        var root = CheckpointTestKit.TempDirectory();
        var store = new FileSystemCheckpointStore(new Uri(Path.Combine(root, "store")));
        var ranks = Ranks(store, 2);
        await ranks.SaveAllAsync(5);
        var parts = await ranks.SaveAllAsync(10);
        await store.FlipByteAsync(PartDataKey(10, 0, parts[0]), 0);

        var restored = await Task.WhenAll(Ranks(store, 2, attempt: 1).Select((r, rank) =>
            Task.Run(() => r.RestoreLatestAsync(Path.Combine(root, $"restore-{rank}")))));

        Assert.All(restored, r => Assert.Equal(5, r.Step));
        Assert.All(restored, (r, rank) => Assert.Equal(Content(5, rank), File.ReadAllBytes(Path.Combine(r.Directory!, "shard.bin"))));
        Assert.Equal(SkipReason.ChecksumMismatch, Assert.Single(restored[0].Skipped).Reason);
        Assert.Equal(SkipReason.PartCorrupt, Assert.Single(restored[1].Skipped).Reason);
    }

    [Fact]
    public async Task LoadLatest_ARankNeverAnswers_FailsNamingItWithinTheDeadline()
    {
        var store = new InMemoryCheckpointStore();
        await Ranks(store, 3).SaveAllAsync(5);
        var restarted = Ranks(store, 3, attempt: 1, timeout: TimeSpan.FromSeconds(1));

        var failures = await Task.WhenAll(restarted.Take(2).Select(r => Assert.ThrowsAsync<CollectiveTimeoutException>(() => r.LoadLatestAsync((_, _) => Task.FromResult(0)))));

        Assert.All(failures, e => Assert.Equal([2], e.Ranks));
        Assert.All(failures, e => Assert.Contains("rank(s) 2 never answered", e.Message, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("\"run\": \"job-run\"", "\"run\": \"other-run\"", "other-run")]
    [InlineData("\"nodes\": 2", "\"nodes\": 3", "lists 2 part(s)")]
    [InlineData("\"format\": \"konduktor-step/1\"", "\"format\": \"konduktor-step/9\"", "konduktor-step/9")]
    public async Task LoadLatest_StepCommitThatCannotBeTrusted_IsPassedOverByEveryRank_NamingWhy(string from, string to, string named)
    {
        var store = new InMemoryCheckpointStore();
        var ranks = Ranks(store, 2);
        await ranks.SaveAllAsync(5);
        await ranks.SaveAllAsync(10);
        var text = System.Text.Encoding.UTF8.GetString(await store.ReadAllAsync(StepCommitKey(10)));
        Assert.Contains(from, text, StringComparison.Ordinal);
        await store.ReplaceAsync(StepCommitKey(10), System.Text.Encoding.UTF8.GetBytes(text.Replace(from, to, StringComparison.Ordinal)));

        var loaded = await Ranks(store, 2, attempt: 1).LoadAllAsync();

        Assert.All(loaded, l => Assert.Equal(5, l.Step));
        Assert.All(loaded, l => Assert.Equal(SkipReason.InvalidManifest, Assert.Single(l.Skipped).Reason));
        Assert.All(loaded, l => Assert.Contains(named, l.Skipped[0].Detail, StringComparison.Ordinal));
        await Assert.ThrowsAsync<CheckpointStorageException>(() => ranks[0].Collective!.GetStepCommitAsync(10));
    }

    [Fact]
    public async Task Restore_OneStep_NeedsItsStepCommit()
    {
        var store = new InMemoryCheckpointStore();
        var ranks = Ranks(store, 2);
        await ranks.SaveAllAsync(5);
        await ranks.SaveAllAsync(10);
        await store.DeleteAsync(StepCommitKey(10));

        var restored = await ranks[1].RestoreAsync(5, CheckpointTestKit.TempDirectory());
        var error = await Assert.ThrowsAsync<CheckpointNotFoundException>(() => ranks[1].RestoreAsync(10, CheckpointTestKit.TempDirectory()));

        Assert.Equal(Content(5, 1), File.ReadAllBytes(Path.Combine(restored.Directory!, "shard.bin")));
        Assert.Contains("no step commit", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoadLatest_StepCommittedByAnotherNodeCount_IsAClearError()
    {
        var store = new InMemoryCheckpointStore();
        await Ranks(store, 2).SaveAllAsync(5);

        var error = await Assert.ThrowsAsync<CheckpointConfigurationException>(() => Rank(store, 0, 3).LoadLatestAsync((_, _) => Task.FromResult(0)));

        Assert.Equal("NUM_NODES", error.Key);
        Assert.Contains("2, the node count that committed step 5", error.Message, StringComparison.Ordinal);
    }
}
