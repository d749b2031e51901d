using static Konduktor.Storage.Tests.CheckpointTestKit;

namespace Konduktor.Storage.Tests;

public sealed class GarbageCollectionTests
{
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _clock = Clock();
    private readonly InMemoryCheckpointStore _store;

    public GarbageCollectionTests() => _store = new InMemoryCheckpointStore(timeProvider: _clock);

    private const string Orphan = $"{Run}/rank-00000/step-000000000002/a0-dead/model.bin";
    private const string YoungOrphan = $"{Run}/rank-00000/step-000000000003/a0-young/model.bin";

    private async Task<CheckpointManager> ArrangeAsync()
    {
        var manager = Manager(_store, time: _clock);
        await manager.SaveStepAsync(1);
        await _store.PutAsync(Orphan, new MemoryStream(Bytes(500, 1)));
        _clock.Advance(TimeSpan.FromHours(2));
        await _store.PutAsync(YoungOrphan, new MemoryStream(Bytes(300, 2)));
        return manager;
    }

    [Fact]
    public async Task CollectGarbageAsync_DryRun_ListsOldOrphansAndDeletesNothing()
    {
        var manager = await ArrangeAsync();
        var before = await _store.KeysAsync();

        var result = await manager.CollectGarbageAsync(dryRun: true);

        Assert.True(result.DryRun);
        Assert.Equal([Orphan], result.Objects.Select(o => o.Key));
        Assert.Equal(500, result.Bytes);
        Assert.Equal(before, await _store.KeysAsync());
    }

    [Fact]
    public async Task CollectGarbageAsync_Run_DeletesOnlyOrphansOlderThanTheGracePeriod()
    {
        var manager = await ArrangeAsync();

        var result = await manager.CollectGarbageAsync();

        Assert.Equal([Orphan], result.Objects.Select(o => o.Key));
        var keys = await _store.KeysAsync();
        Assert.DoesNotContain(Orphan, keys);
        Assert.Contains(YoungOrphan, keys);
        Assert.Equal(1, (await manager.RestoreLatestAsync(TempDirectory())).Step);
    }

    [Fact]
    public async Task CollectGarbageAsync_ShorterGracePeriod_CollectsYoungerOrphans()
    {
        var manager = await ArrangeAsync();
        _clock.Advance(TimeSpan.FromMinutes(10));

        var result = await manager.CollectGarbageAsync(gracePeriod: TimeSpan.FromMinutes(5));

        Assert.Equal([Orphan, YoungOrphan], result.Objects.Select(o => o.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task CollectGarbageAsync_CommittedDataOfOldCheckpoints_IsKept()
    {
        var manager = await ArrangeAsync();
        _clock.Advance(TimeSpan.FromDays(30));

        await manager.CollectGarbageAsync();

        Assert.Equal(1, (await manager.RestoreLatestAsync(TempDirectory())).Step);
    }

    [Fact]
    public async Task CollectGarbageAsync_DataOfAQuarantinedManifest_IsKeptForInspection()
    {
        var manager = Manager(_store, time: _clock);
        await manager.SaveStepAsync(1);
        var bad = await manager.SaveStepAsync(2);
        await _store.FlipByteAsync(DataKey(manager, bad, "model.bin"), 0);
        await manager.RestoreLatestAsync(TempDirectory());
        await manager.SaveStepAsync(2);
        _clock.Advance(TimeSpan.FromDays(1));

        var result = await manager.CollectGarbageAsync();

        Assert.Empty(result.Objects);
        Assert.NotNull(await _store.StatAsync(DataKey(manager, bad, "model.bin")));
    }

    [Fact]
    public async Task CollectGarbageAsync_StepWithUnreadableManifest_IsLeftAlone()
    {
        var manager = await ArrangeAsync();
        await _store.PutAsync($"{Run}/rank-00000/step-000000000002/manifest.json", new MemoryStream(Utf8("garbage")));
        _clock.Advance(TimeSpan.FromDays(1));

        var result = await manager.CollectGarbageAsync();

        Assert.DoesNotContain(Orphan, result.Objects.Select(o => o.Key));
        Assert.NotNull(await _store.StatAsync(Orphan));
    }

    [Fact]
    public async Task CollectGarbageAsync_SaveInProgressInThisProcess_IsNeverCollected()
    {
        var manager = Manager(_store, time: _clock);
        await using var save = await manager.BeginSaveAsync(7);
        await save.AddFileAsync("a.bin", new MemoryStream(Bytes(10, 1)));
        _clock.Advance(TimeSpan.FromDays(1));

        var result = await manager.CollectGarbageAsync();
        await save.CommitAsync();

        Assert.Empty(result.Objects);
        Assert.Equal(7, (await manager.RestoreLatestAsync(TempDirectory())).Step);
    }

    [Fact]
    public async Task CollectGarbageAsync_NegativeGracePeriod_Throws()
    {
        var manager = Manager(_store, time: _clock);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => manager.CollectGarbageAsync(gracePeriod: TimeSpan.FromSeconds(-1)));
    }
}
