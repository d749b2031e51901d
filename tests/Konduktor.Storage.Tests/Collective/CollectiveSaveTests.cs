using System.Diagnostics;
using System.Text;

using static Konduktor.Storage.Tests.CollectiveTestKit;

namespace Konduktor.Storage.Tests;

public sealed class CollectiveSaveTests
{
    [Fact]
    public async Task Save_EveryRank_CommitsOneStepListingEachRanksPart()
    {
        var store = new InMemoryCheckpointStore();
        var ranks = Ranks(store, 3);

        var parts = await ranks.SaveAllAsync(7);

        Assert.All(ranks, r => Assert.Equal(CheckpointMode.Collective, r.Mode));
        var commit = await ranks[0].Collective!.GetStepCommitAsync(7);
        Assert.NotNull(commit);
        Assert.Equal(3, commit.Nodes);
        Assert.Equal([0, 1, 2], commit.Parts.Select(p => p.Rank));
        Assert.Equal(parts.Select(p => p.Writer), commit.Parts.Select(p => p.Writer));
        Assert.Contains(StepCommitKey(7), await store.KeysAsync());
        Assert.Contains(PartManifestKey(7, 2), await store.KeysAsync());
    }

    [Fact]
    public async Task Save_EverySaveApi_OnFileSystem_CommitsTheStep()
    {
        var root = CheckpointTestKit.TempDirectory();
        var store = new FileSystemCheckpointStore(new Uri(Path.Combine(root, "store")));
        var ranks = Ranks(store, 4);
        var local = Path.Combine(root, "local.bin");
        await File.WriteAllBytesAsync(local, Content(3, 2));
        var directory = Path.Combine(root, "dir");
        Directory.CreateDirectory(directory);
        await File.WriteAllBytesAsync(Path.Combine(directory, "shard.bin"), Content(3, 3));

        await Task.WhenAll(
            Task.Run(() => ranks[0].SavePartAsync(3)),
            Task.Run(async () =>
            {
                await using var save = await ranks[1].BeginSaveAsync(3);
                await save.AddFileAsync("shard.bin", new MemoryStream(Content(3, 1)));
                await save.CommitAsync();
            }),
            Task.Run(async () =>
            {
                await using var file = File.OpenRead(local);
                await ranks[2].SaveAsync(3, new Dictionary<string, Stream> { ["shard.bin"] = file });
            }),
            Task.Run(() => ranks[3].SaveDirectoryAsync(3, directory)));

        var loaded = await ranks.LoadAllAsync();
        Assert.All(loaded, (l, rank) => Assert.Equal(Content(3, rank), l.Value));
        Assert.All(loaded, l => Assert.Equal(3, l.Step));
    }

    [Fact]
    public async Task Save_RankNeverShowsUp_OthersFailNamingItWithinTheDeadline_NothingCommitted()
    {
        var store = new InMemoryCheckpointStore();
        var ranks = Ranks(store, 3, timeout: TimeSpan.FromSeconds(1));
        await ranks.SaveAllAsync(5);
        var watch = Stopwatch.StartNew();

        var failures = await Task.WhenAll(ranks.Take(2).Select(r => Assert.ThrowsAsync<CollectiveTimeoutException>(() => r.SavePartAsync(10))));

        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(15));
        Assert.All(failures, e => Assert.Equal([2], e.Ranks));
        Assert.All(failures, e => Assert.Contains("rank 2", e.Message, StringComparison.Ordinal));
        Assert.DoesNotContain(StepCommitKey(10), await store.KeysAsync());
        Assert.All(await Ranks(store, 3).LoadAllAsync(), l => Assert.Equal(5, l.Step));
    }

    [Fact]
    public async Task Save_AfterAGangRestart_SupersedesTheStalePart_AndNeverMixesItIn()
    {
        var store = new InMemoryCheckpointStore();
        var first = Ranks(store, 2, attempt: 0, timeout: TimeSpan.FromSeconds(1));
        await first.SaveAllAsync(5);
        // Rank 1 crashes before saving step 10; rank 0 saved its part and fails because its peer is gone.
        var stale = await Assert.ThrowsAsync<CollectiveTimeoutException>(() => first[0].SavePartAsync(10));
        Assert.Equal([1], stale.Ranks);
        var stalePart = await first[0].Catalog.ListAsync();
        var staleWriter = stalePart.Single(c => c.Step == 10).Manifest!.Writer;

        var second = Ranks(store, 2, attempt: 1);
        Assert.All(await second.LoadAllAsync(), l => Assert.Equal(5, l.Step));
        var parts = await second.SaveAllAsync(10);

        var commit = await second[0].Collective!.GetStepCommitAsync(10);
        Assert.Equal(parts.Select(p => p.Writer), commit!.Parts.Select(p => p.Writer));
        Assert.DoesNotContain(staleWriter, commit.Parts.Select(p => p.Writer));
        var quarantined = await store.KeysAsync($"{Run}/job/step-{10:D12}/rank-00000/quarantine/");
        Assert.Single(quarantined);
        Assert.Contains(staleWriter, Encoding.UTF8.GetString(await store.ReadAllAsync(quarantined[0])), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Save_RanksDisagreeOnNumNodes_FailsNamingTheValue_KeepsTheCommittedStep()
    {
        var store = new InMemoryCheckpointStore();
        await Ranks(store, 2).SaveAllAsync(5);
        var rank0 = Rank(store, 0, 2, timeout: TimeSpan.FromSeconds(5));
        var rank1 = Rank(store, 1, 3, timeout: TimeSpan.FromSeconds(1));

        var rank0Save = rank0.SavePartAsync(10);
        var rank1Save = rank1.SavePartAsync(10);

        var error = await Assert.ThrowsAsync<CheckpointConfigurationException>(() => rank0Save);
        Assert.Equal("NUM_NODES", error.Key);
        Assert.Equal("3", error.Value);
        Assert.Equal("NUM_NODES", (await Assert.ThrowsAsync<CheckpointConfigurationException>(() => rank1Save)).Key);
        Assert.All(await Ranks(store, 2).LoadAllAsync(), l => Assert.Equal(5, l.Step));
    }

    [Fact]
    public async Task Save_APartFromAnotherRun_FailsNamingIt_KeepsTheCommittedStep()
    {
        var store = new InMemoryCheckpointStore();
        await Ranks(store, 2).SaveAllAsync(5);
        // Another run's rank 1 saves its part of step 10 (its rank 0 never commits the step).
        await Assert.ThrowsAsync<CollectiveTimeoutException>(
            () => Rank(store, 1, 2, timeout: TimeSpan.FromMilliseconds(100), configure: o => o.RunId = "other-run").SavePartAsync(10));
        // The other run's part of step 10, copied to this run's rank 1 part.
        var otherKey = $"other-run/job/step-{10:D12}/rank-00001/manifest.json";
        await store.ReplaceAsync(PartManifestKey(10, 1), await store.ReadAllAsync(otherKey));

        var error = await Assert.ThrowsAsync<CheckpointStorageException>(() => Rank(store, 0, 2, timeout: TimeSpan.FromSeconds(5)).SavePartAsync(10));

        Assert.Contains("other-run", error.Message, StringComparison.Ordinal);
        Assert.Contains("rank 1", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(StepCommitKey(10), await store.KeysAsync());
        Assert.All(await Ranks(store, 2).LoadAllAsync(), l => Assert.Equal(5, l.Step));
    }

    [Fact]
    public void Mode_DefaultsToCollectiveWithSeveralNodes_AndPerRankWithOne()
    {
        var store = new InMemoryCheckpointStore();
        Assert.Equal(CheckpointMode.Collective, Rank(store, 1, 2).Mode);
        Assert.Equal(CheckpointMode.PerRank, Rank(store, 0, 1).Mode);
        var perRank = Rank(store, 1, 2, configure: o => o.Mode = CheckpointMode.PerRank);
        Assert.Equal(CheckpointMode.PerRank, perRank.Mode);
        Assert.Null(perRank.Collective);
        Assert.Equal("rank-00001", perRank.Scope);
    }
}
