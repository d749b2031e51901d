using static Konduktor.Storage.Tests.CheckpointTestKit;

namespace Konduktor.Storage.Tests;

/// <summary>The public, read-only catalog: what a tool sees of a store without a manager or a restore.</summary>
public sealed class CheckpointCatalogTests
{
    [Fact]
    public async Task ListAsync_CommittedAndTornSteps_NewestFirstWithProblems()
    {
        var store = new InMemoryCheckpointStore();
        var manager = Manager(store);
        await manager.SaveAsync(1, ("a.bin", Bytes(10, 1)));
        await manager.SaveAsync(2, ("a.bin", Bytes(10, 2)));
        await store.DeleteAsync(ManifestKey(manager, 2));

        var listed = await new CheckpointCatalog(store, Run, manager.Scope).ListAsync();

        Assert.Equal([2L, 1L], listed.Select(c => c.Step));
        Assert.False(listed[0].IsCommitted);
        Assert.NotNull(listed[0].Problem);
        Assert.True(listed[1].IsCommitted);
    }

    [Fact]
    public async Task ListRunsAsyncAndListScopesAsync_SavedScope_NamesIt()
    {
        var store = new InMemoryCheckpointStore();
        var manager = Manager(store);
        await manager.SaveAsync(1, ("a.bin", Bytes(10, 1)));

        Assert.Equal([Run], await CheckpointCatalog.ListRunsAsync(store));
        Assert.Equal([manager.Scope], await CheckpointCatalog.ListScopesAsync(store, Run));
    }

    [Fact]
    public void Constructor_InvalidScope_Throws() =>
        Assert.Throws<ArgumentException>(() => new CheckpointCatalog(new InMemoryCheckpointStore(), Run, "a/b"));
}
