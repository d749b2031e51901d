using Microsoft.Extensions.Time.Testing;

using static Konduktor.Storage.Tests.CollectiveTestKit;

namespace Konduktor.Storage.Tests;

public sealed class CollectiveRetentionTests
{
    [Fact]
    public async Task Retention_DeletesWholeSteps_KeepsTheNewest_AndWhatRanksJudged()
    {
        var store = new InMemoryCheckpointStore();
        var ranks = Ranks(store, 2, configure: o => o.Retention.KeepLast = 2);
        for (var step = 1; step <= 4; step++)
        {
            await ranks.SaveAllAsync(step);
        }

        var keys = await store.KeysAsync($"{Run}/job/");
        Assert.DoesNotContain(keys, k => k.Contains("step-000000000001/", StringComparison.Ordinal) || k.Contains("step-000000000002/", StringComparison.Ordinal));
        Assert.Equal([4, 3], (await ranks[0].Collective!.ListAsync()).Select(s => s.Step));
        Assert.Empty(await ranks[1].ApplyRetentionAsync()); // Only rank 0 prunes.
    }

    [Fact]
    public async Task Retention_NeverDeletesAStepWithoutCommit_NorAJudgedOne()
    {
        var store = new InMemoryCheckpointStore();
        var ranks = Ranks(store, 2, configure: o => { o.Retention.KeepLast = 1; o.Retention.ApplyAfterSave = false; });
        await ranks.SaveAllAsync(1);
        var judged = await ranks.SaveAllAsync(2);
        await ranks.SaveAllAsync(3);
        await ranks.SaveAllAsync(4);
        await store.DeleteAsync(StepCommitKey(4)); // Step 4: parts without a commit (may still be committed).
        await store.FlipByteAsync(PartDataKey(2, 1, judged[1]), 0);
        await store.DeleteAsync(StepCommitKey(3));
        Assert.All(await Ranks(store, 2, attempt: 1).LoadAllAsync(), l => Assert.Equal(1, l.Step)); // Judges step 2 corrupt.
        await ranks.SaveAllAsync(5);

        var deleted = await ranks[0].ApplyRetentionAsync();

        Assert.Equal([1], deleted);
        var steps = (await ranks[0].Collective!.ListAsync()).ToDictionary(s => s.Step);
        Assert.Equal([0, 1], steps[4].PartRanks);
        Assert.True(steps[2].IsCommitted);
        Assert.NotEmpty(await store.KeysAsync($"{Run}/job/verdicts/"));
    }

    [Fact]
    public async Task CollectGarbage_PartsWhoseStepNeverCommitted_GoAfterTheGracePeriod_CommittedStepsStay()
    {
        var store = new InMemoryCheckpointStore();
        var ranks = Ranks(store, 2);
        await ranks.SaveAllAsync(1);
        await ranks.SaveAllAsync(2);
        await store.DeleteAsync(StepCommitKey(2));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var collector = new CheckpointManager(store, JobContext.Create(1, 2), new CheckpointManagerOptions { RunId = Run }, timeProvider: clock);

        var young = await collector.CollectGarbageAsync(dryRun: false, gracePeriod: TimeSpan.FromHours(1));
        clock.Advance(TimeSpan.FromHours(2));
        var dry = await collector.CollectGarbageAsync(dryRun: true, gracePeriod: TimeSpan.FromHours(1));
        var old = await collector.CollectGarbageAsync(dryRun: false, gracePeriod: TimeSpan.FromHours(1));

        Assert.Empty(young.Objects);
        Assert.Equal(4, dry.Objects.Count); // Both parts of step 2: manifest and data.
        Assert.Equal(dry.Objects.Select(o => o.Key).Order(), old.Objects.Select(o => o.Key).Order());
        Assert.Empty(await store.KeysAsync($"{Run}/job/step-{2:D12}/"));
        Assert.All(await Ranks(store, 2, attempt: 1).LoadAllAsync(), l => Assert.Equal(1, l.Step));
    }
}
