using Konduktor.Storage.Testing;

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

    [Fact]
    public async Task CollectGarbageAsync_SaveCommittedBetweenScanAndDelete_KeepsItsData()
    {
        var scanned = new TaskCompletionSource();
        var store = new CommitDuringGcStore(_store, async () =>
        {
            // Another pod commits step 2 with that data right after the collector judged it an orphan.
            var manifest = new CheckpointManifest
            {
                Run = Run,
                Scope = "rank-00000",
                Step = 2,
                CreatedUtc = _clock.GetUtcNow(),
                Writer = "a0-dead",
                Files = [new ManifestFile("model.bin", "a0-dead/model.bin", 500, ContentHash.Of(Bytes(500, 1)))],
            };
            await _store.PutAsync($"{Run}/rank-00000/step-000000000002/manifest.json", new MemoryStream(ManifestCodec.Serialize(manifest)));
        });
        var manager = Manager(store, time: _clock);
        await manager.SaveStepAsync(1);
        await _store.PutAsync(Orphan, new MemoryStream(Bytes(500, 1)));
        _clock.Advance(TimeSpan.FromHours(2));

        await manager.CollectGarbageAsync();

        Assert.NotNull(await _store.StatAsync(Orphan));
        Assert.Equal(2, (await manager.RestoreLatestAsync(TempDirectory())).Step);
    }

    /// <summary>Runs a hook once, when the collector has judged step 2 (after it looked into the step's quarantine).</summary>
    private sealed class CommitDuringGcStore(InMemoryCheckpointStore inner, Func<Task> afterScan) : DelegatingStore(inner)
    {
        private int _scans;

        public override async IAsyncEnumerable<StoreEntry> ListAsync(string prefix, ListOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (var entry in Inner.ListAsync(prefix, options, cancellationToken))
            {
                yield return entry;
            }

            if (prefix.EndsWith("step-000000000002/quarantine/", StringComparison.Ordinal) && Interlocked.Increment(ref _scans) == 1)
            {
                await afterScan();
            }
        }
    }

    [Fact]
    public async Task CollectGarbageAsync_StoreWithPendingUploads_AbortsOnlyStaleOnesOfThisScope()
    {
        var store = new PendingUploadsStore(_store);
        var manager = Manager(store, time: _clock);
        var stale = new PendingUpload($"{Run}/rank-00000/step-000000000004/a0-old/model.bin", "u1", _clock.GetUtcNow());
        var otherScope = new PendingUpload($"{Run}/rank-00001/step-000000000004/a0-old/model.bin", "u2", _clock.GetUtcNow());
        store.Pending.AddRange([stale, otherScope]);
        _clock.Advance(TimeSpan.FromHours(2));
        var young = new PendingUpload($"{Run}/rank-00000/step-000000000005/a0-new/model.bin", "u3", _clock.GetUtcNow());
        store.Pending.Add(young);

        var dry = await manager.CollectGarbageAsync(dryRun: true);
        var real = await manager.CollectGarbageAsync();

        Assert.Equal([stale], dry.PendingUploads);
        Assert.Equal([stale], real.PendingUploads);
        Assert.Equal([otherScope, young], store.Pending);
    }

    /// <summary>An in-memory store that also keeps interrupted uploads apart from its objects, as S3 does.</summary>
    private sealed class PendingUploadsStore(InMemoryCheckpointStore inner) : DelegatingStore(inner), IPendingUploadStore
    {
        public List<PendingUpload> Pending { get; } = [];

        public async IAsyncEnumerable<PendingUpload> ListPendingUploadsAsync(string keyPrefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            foreach (var upload in Pending.Where(u => u.Key.StartsWith(keyPrefix, StringComparison.Ordinal)).ToList())
            {
                yield return upload;
            }
        }

        public Task AbortPendingUploadAsync(PendingUpload upload, CancellationToken cancellationToken = default)
        {
            Pending.Remove(upload);
            return Task.CompletedTask;
        }
    }
}
