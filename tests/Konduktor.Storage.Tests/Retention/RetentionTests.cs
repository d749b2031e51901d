using System.Globalization;

using static Konduktor.Storage.Tests.CheckpointTestKit;

namespace Konduktor.Storage.Tests;

public sealed class RetentionTests
{
    private readonly InMemoryCheckpointStore _store = new();

    private static async Task<List<long>> CommittedStepsAsync(CheckpointManager manager) =>
        [.. (await manager.ListAsync()).Where(c => c.IsCommitted).Select(c => c.Step).Order()];

    [Fact]
    public async Task SaveAsync_DefaultRetention_KeepsTheLastThreeAndDeletesTheirData()
    {
        var manager = Manager(_store);

        for (var step = 1; step <= 6; step++)
        {
            await manager.SaveStepAsync(step);
        }

        Assert.Equal([4L, 5L, 6L], await CommittedStepsAsync(manager));
        Assert.Equal(6, (await _store.KeysAsync()).Count);
    }

    [Fact]
    public async Task ApplyRetentionAsync_KeepEvery_KeepsMultiplesForever()
    {
        var manager = Manager(_store, o =>
        {
            o.Retention.KeepLast = 1;
            o.Retention.KeepEvery = 4;
        });

        for (var step = 1; step <= 9; step++)
        {
            await manager.SaveStepAsync(step);
        }

        Assert.Equal([4L, 8L, 9L], await CommittedStepsAsync(manager));
    }

    [Theory]
    [InlineData(BestMode.Min, new long[] { 3, 5, 8 })]
    [InlineData(BestMode.Max, new long[] { 1, 6, 8 })]
    public async Task ApplyRetentionAsync_KeepBest_KeepsTheBestByTheMetricPlusTheNewest(BestMode mode, long[] expected)
    {
        var losses = new Dictionary<long, double> { [1] = 0.9, [2] = 0.5, [3] = 0.1, [4] = 0.4, [5] = 0.2, [6] = 0.95, [7] = 0.3, [8] = 0.6 };
        var manager = Manager(_store, o =>
        {
            o.Retention.KeepLast = 1;
            o.Retention.KeepBest = 2;
            o.Retention.BestMetric = "loss";
            o.Retention.BestMode = mode;
        });

        foreach (var (step, loss) in losses)
        {
            await manager.SaveStepAsync(step, new Dictionary<string, string> { ["loss"] = loss.ToString(CultureInfo.InvariantCulture) });
        }

        Assert.Equal(expected, await CommittedStepsAsync(manager));
    }

    [Fact]
    public async Task ApplyRetentionAsync_KeepBest_IgnoresCheckpointsWithoutANumericMetric()
    {
        var manager = Manager(_store, o =>
        {
            o.Retention.KeepLast = 1;
            o.Retention.KeepBest = 1;
            o.Retention.BestMetric = "loss";
        });

        await manager.SaveStepAsync(1, new Dictionary<string, string> { ["loss"] = "0.5" });
        await manager.SaveStepAsync(2, new Dictionary<string, string> { ["loss"] = "NaN" });
        await manager.SaveStepAsync(3, new Dictionary<string, string> { ["loss"] = "n/a" });
        await manager.SaveStepAsync(4);

        Assert.Equal([1L, 4L], await CommittedStepsAsync(manager));
    }

    [Fact]
    public async Task ApplyRetentionAsync_Pinned_AreNeverDeleted()
    {
        var manager = Manager(_store, o =>
        {
            o.Retention.KeepLast = 1;
            o.Retention.Pinned.Add(2);
        });

        for (var step = 1; step <= 4; step++)
        {
            await manager.SaveStepAsync(step);
        }

        Assert.Equal([2L, 4L], await CommittedStepsAsync(manager));
    }

    [Fact]
    public async Task ApplyRetentionAsync_KeepLastZero_StillKeepsTheNewestValid()
    {
        var manager = Manager(_store, o => o.Retention.KeepLast = 0);

        await manager.SaveStepAsync(1);
        await manager.SaveStepAsync(2);

        Assert.Equal([2L], await CommittedStepsAsync(manager));
    }

    [Fact]
    public async Task ApplyRetentionAsync_NeverDeletesTheCheckpointThisProcessRestoredFrom()
    {
        var writer = Manager(_store, o => o.Retention.KeepLast = 10);
        for (var step = 1; step <= 3; step++)
        {
            await writer.SaveStepAsync(step);
        }

        var resumed = Manager(_store, o => o.Retention.KeepLast = 1);
        Assert.Equal(3, (await resumed.RestoreLatestAsync(TempDirectory())).Step);
        await resumed.SaveStepAsync(4);
        await resumed.SaveStepAsync(5);

        Assert.Equal([3L, 5L], await CommittedStepsAsync(resumed));
    }

    [Fact]
    public async Task ApplyRetentionAsync_CorruptAndUnreadableCheckpoints_AreKeptForInspection()
    {
        var manager = Manager(_store, o => o.Retention.KeepLast = 1);
        var corrupt = await manager.SaveStepAsync(1);
        await _store.FlipByteAsync(DataKey(manager, corrupt, "model.bin"), 0);
        await _store.PutAsync(ManifestKey(manager, 2), new MemoryStream(Utf8("not json")));
        await manager.SaveStepAsync(3);
        await manager.SaveStepAsync(4);

        await manager.ApplyRetentionAsync();

        Assert.NotNull(await _store.StatAsync(ManifestKey(manager, 2)));
        Assert.Equal([4L], await CommittedStepsAsync(manager));
    }

    [Fact]
    public async Task ApplyRetentionAsync_NewestStepNotCommitted_DeletesNothing()
    {
        var manager = Manager(_store, o =>
        {
            o.Retention.KeepLast = 1;
            o.Retention.ApplyAfterSave = false;
        });
        await manager.SaveStepAsync(1);
        await manager.SaveStepAsync(2);
        await _store.PutAsync($"{Run}/rank-00000/step-000000000003/a0-x/model.bin", new MemoryStream([1]));

        var deleted = await manager.ApplyRetentionAsync();

        Assert.Empty(deleted);
        Assert.Equal([1L, 2L], await CommittedStepsAsync(manager));
    }

    [Fact]
    public async Task ApplyRetentionAsync_OtherRunsAndScopes_AreUntouched()
    {
        var mine = Manager(_store, o => o.Retention.KeepLast = 1);
        var otherScope = Manager(_store, o => o.Scope = "eval");
        var otherRun = Manager(_store, o => o.RunId = "run-1-other");
        await otherScope.SaveStepAsync(1);
        await otherRun.SaveStepAsync(1);

        for (var step = 1; step <= 3; step++)
        {
            await mine.SaveStepAsync(step);
        }

        Assert.Equal([3L], await CommittedStepsAsync(mine));
        Assert.Equal([1L], await CommittedStepsAsync(otherScope));
        Assert.Equal([1L], await CommittedStepsAsync(otherRun));
    }

    [Fact]
    public async Task ApplyRetentionAsync_DeletesTheManifestBeforeTheData()
    {
        var recording = new RecordingStore(_store);
        var manager = Manager(recording, o => o.Retention.KeepLast = 1);
        var first = await manager.SaveAsync(1, ("a", Bytes(1, 1)), ("b", Bytes(1, 2)));
        recording.Events.Clear();

        await manager.SaveStepAsync(2);

        var deletes = recording.Events.Where(e => e.StartsWith("delete ", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            [$"delete {ManifestKey(manager, 1)}", $"delete {DataKey(manager, first, "a")}", $"delete {DataKey(manager, first, "b")}"],
            deletes);
    }

    [Fact]
    public async Task ApplyRetentionAsync_ExplicitCall_ReturnsTheDeletedSteps()
    {
        var manager = Manager(_store, o =>
        {
            o.Retention.KeepLast = 2;
            o.Retention.ApplyAfterSave = false;
        });
        for (var step = 1; step <= 5; step++)
        {
            await manager.SaveStepAsync(step);
        }

        Assert.Equal([3L, 2L, 1L], await manager.ApplyRetentionAsync());
        Assert.Equal([4L, 5L], await CommittedStepsAsync(manager));
    }
}
