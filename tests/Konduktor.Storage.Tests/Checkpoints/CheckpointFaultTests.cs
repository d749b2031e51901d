using System.Net.Sockets;

using Konduktor.Storage.Testing;

using static Konduktor.Storage.Tests.CheckpointTestKit;

namespace Konduktor.Storage.Tests;

/// <summary>Faults injected between the manager and its store: transient ones are retried, permanent ones surface at once.</summary>
public sealed class CheckpointFaultTests
{
    private readonly InMemoryCheckpointStore _inner = new();
    private readonly FaultInjectingStore _store;

    public CheckpointFaultTests() => _store = new FaultInjectingStore(_inner);

    private static TransientStoreException ServiceUnavailable() => new("503 Service Unavailable");

    [Fact]
    public async Task SaveAsync_TransientFaultsOnEveryOperation_AreRetriedAndTheCheckpointCommits()
    {
        var manager = Manager(_store);
        _store.FailNext(StoreOperation.OpenWrite, 2, ServiceUnavailable);
        _store.FailNext(StoreOperation.Put, 2, () => new IOException("connection reset", new SocketException((int)SocketError.ConnectionReset)));
        _store.FailNext(StoreOperation.Stat, 2, () => new TimeoutException());
        _store.FailNext(StoreOperation.List, 1, ServiceUnavailable);

        var manifest = await manager.SaveAsync(1, ("m.bin", Bytes(100_000, 1)));

        Assert.Equal(3, _store.CallCount(StoreOperation.OpenWrite));
        Assert.True(_store.CallCount(StoreOperation.Put) >= 3);
        Assert.Equal(Bytes(100_000, 1), await _inner.ReadAllAsync(DataKey(manager, manifest, "m.bin")));
    }

    [Fact]
    public async Task RestoreLatestAsync_ConnectionResetsMidDownload_ResumeAndVerify()
    {
        var manager = Manager(_store);
        var data = Bytes(3_000_000, 2);
        await manager.SaveAsync(1, ("m.bin", data));
        _store.FailReadAfter(1_000_000, 2, () => new IOException("connection reset", new SocketException((int)SocketError.ConnectionReset)));
        var target = Path.Combine(TempDirectory(), "o");

        var result = await manager.RestoreLatestAsync(target);

        Assert.Equal(1, result.Step);
        Assert.Empty(result.Skipped);
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(target, "m.bin")));
    }

    [Fact]
    public async Task RestoreLatestAsync_TransientListAndStatFaults_AreRetried()
    {
        var manager = Manager(_store);
        await manager.SaveAsync(1, ("m.bin", Bytes(10, 1)));
        _store.FailNext(StoreOperation.List, 2, ServiceUnavailable);
        _store.FailNext(StoreOperation.Stat, 3, ServiceUnavailable);

        Assert.Equal(1, (await manager.RestoreLatestAsync(TempDirectory())).Step);
    }

    [Fact]
    public async Task RestoreLatestAsync_AccessDenied_IsNotRetriedAndSurfaces()
    {
        var manager = Manager(_store);
        await manager.SaveAsync(1, ("m.bin", Bytes(10, 1)));
        var listsBefore = _store.CallCount(StoreOperation.List);
        _store.FailNext(StoreOperation.List, 5, () => new StoreAccessDeniedException(_inner.Location, "test", "403 Forbidden"));

        await Assert.ThrowsAsync<StoreAccessDeniedException>(() => manager.RestoreLatestAsync(TempDirectory()));

        Assert.Equal(listsBefore + 1, _store.CallCount(StoreOperation.List));
    }

    [Fact]
    public async Task SaveAsync_TransientFaultsBeyondTheBudget_FailWithRetriesExhaustedAndNoCheckpoint()
    {
        var manager = Manager(_store, o => o.Resilience.MaxRetryAttempts = 2);
        _store.FailNext(StoreOperation.OpenWrite, 10, ServiceUnavailable);

        var error = await Assert.ThrowsAsync<RetriesExhaustedException>(() => manager.SaveAsync(1, ("m.bin", Bytes(10, 1))));

        Assert.Equal(3, error.Attempts);
        Assert.Contains("503", error.Message);
        Assert.Equal(0, _inner.Count);
    }

    [Fact]
    public async Task SaveAsync_WriteFailsMidFile_LeavesNoVisibleCheckpoint()
    {
        var manager = Manager(_store);
        await manager.SaveAsync(1, ("m.bin", Bytes(10, 1)));
        _store.FailWriteAfter(500_000, 1, () => new IOException("disk full"));

        await Assert.ThrowsAsync<IOException>(() => manager.SaveAsync(2, ("m.bin", Bytes(2_000_000, 2))));

        Assert.Equal([1L], (await manager.ListAsync()).Where(c => c.IsCommitted).Select(c => c.Step));
        Assert.Equal(1, (await manager.RestoreLatestAsync(TempDirectory())).Step);
    }

    [Fact]
    public void Constructor_StoreThatRetriesItself_IsNotWrappedInASecondRetryLayer()
    {
        var retrying = new SelfRetryingStore(_inner);

        Assert.Same(retrying, Manager(retrying).Store);
        Assert.IsType<ResilientCheckpointStore>(Manager(_inner).Store);
    }

    private sealed class SelfRetryingStore(ICheckpointStore inner) : DelegatingStore(inner)
    {
        public override StoreCapabilities Capabilities { get; } = new() { CreateOnly = true, RetriesTransientFailures = true };
    }
}
