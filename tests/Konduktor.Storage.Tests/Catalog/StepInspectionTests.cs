using static Konduktor.Storage.Tests.CheckpointTestKit;

namespace Konduktor.Storage.Tests;

/// <summary>What a tool needs beyond the listing: a step's state and stored bytes, one step opened verified, a retention plan.</summary>
public sealed class StepInspectionTests
{
    [Fact]
    public async Task InspectAllAsync_CommittedTornAndUncommitted_StatesAndStoredBytes()
    {
        var store = new InMemoryCheckpointStore();
        var manager = Manager(store);
        var committed = await manager.SaveAsync(1, ("a.bin", Bytes(100, 1)), ("b.bin", Bytes(50, 2)));
        var torn = await manager.SaveAsync(2, ("a.bin", Bytes(100, 3)));
        await store.DeleteAsync(DataKey(manager, torn, "a.bin"));
        await store.PutAsync($"{Run}/{manager.Scope}/step-000000000003/a9-dead/a.bin", new MemoryStream(Bytes(70, 4)));

        var steps = await new CheckpointCatalog(store, Run, manager.Scope).InspectAllAsync();

        Assert.Equal([3L, 2L, 1L], steps.Select(s => s.Step));
        Assert.Equal([StepState.Uncommitted, StepState.Corrupt, StepState.Committed], steps.Select(s => s.State));
        Assert.Null(steps[0].Manifest);
        Assert.Equal((1, 70L), (steps[0].StoredObjects, steps[0].StoredBytes));
        Assert.Contains("'a.bin'", steps[1].Problem, StringComparison.Ordinal);
        Assert.NotNull(steps[1].Manifest);
        Assert.Equal(committed.Writer, steps[2].Manifest!.Writer);
        Assert.Null(steps[2].Problem);
        Assert.Equal(3, steps[2].StoredObjects);
        Assert.True(steps[2].StoredBytes > 150);
    }

    [Fact]
    public async Task OpenAsync_FlippedByte_StreamThrowsCorruptAtTheEnd()
    {
        var store = new InMemoryCheckpointStore();
        var manager = Manager(store);
        var saved = await manager.SaveAsync(1, ("a.bin", Bytes(1000, 1)));
        await manager.SaveAsync(2, ("a.bin", Bytes(1000, 2)));
        await store.FlipByteAsync(DataKey(manager, saved, "a.bin"), 500);

        var reader = await manager.OpenAsync(1);
        var stream = await reader.OpenFileAsync("a.bin");

        Assert.Equal(1, reader.Step);
        var error = await Assert.ThrowsAsync<CheckpointCorruptException>(() => stream.CopyToAsync(Stream.Null));
        Assert.Equal("a.bin", error.File);
        await Assert.ThrowsAsync<CheckpointNotFoundException>(() => manager.OpenAsync(7));
    }

    [Fact]
    public async Task PlanRetentionAsync_ListsExactlyWhatApplyThenDeletes()
    {
        var store = new InMemoryCheckpointStore();
        var manager = Manager(store, o =>
        {
            o.Retention.KeepLast = 2;
            o.Retention.ApplyAfterSave = false;
        });
        for (var step = 1; step <= 4; step++)
        {
            await manager.SaveAsync(step, ("a.bin", Bytes(10, step)));
        }

        var planned = await manager.PlanRetentionAsync();
        var stillThere = (await manager.Catalog.InspectAllAsync()).Select(s => s.Step);
        var deleted = await manager.ApplyRetentionAsync();

        Assert.Equal([2L, 1L], planned);
        Assert.Equal([4L, 3L, 2L, 1L], stillThere);
        Assert.Equal(planned, deleted);
    }
}
