using Konduktor.Storage.Testing;

using static Konduktor.Storage.Tests.CheckpointTestKit;

namespace Konduktor.Storage.Tests;

/// <summary>The commit protocol: create-only manifests, races between writers, lost answers, and superseding corrupt steps.</summary>
public sealed class CheckpointCommitTests
{
    private readonly InMemoryCheckpointStore _store = new();

    [Fact]
    public async Task CommitAsync_TwoWritersOfOneStepConcurrently_ExactlyOneWinsAndItsDataIsIntact()
    {
        for (var round = 0; round < 20; round++)
        {
            var store = new InMemoryCheckpointStore();
            var first = Manager(store);
            var second = Manager(store);
            using var start = new Barrier(2);
            async Task<CheckpointManifest> Save(CheckpointManager manager, int seed)
            {
                await Task.Yield();
                start.SignalAndWait();
                return await manager.SaveAsync(1, ("m.bin", Bytes(200_000, seed)));
            }

            var results = await Task.WhenAll(
                Capture(Task.Run(() => Save(first, 1))),
                Capture(Task.Run(() => Save(second, 2))));

            var winner = Assert.Single(results, r => r.Manifest is not null);
            var loser = Assert.Single(results, r => r.Error is not null);
            var conflict = Assert.IsType<CheckpointConflictException>(loser.Error);
            Assert.Equal(winner.Manifest!.Writer, conflict.Winner!.Writer);
            var keys = await store.KeysAsync();
            Assert.Single(keys, k => k.EndsWith("manifest.json", StringComparison.Ordinal));
            Assert.All(keys.Where(k => !k.EndsWith("manifest.json", StringComparison.Ordinal)), k => Assert.Contains(winner.Manifest.Writer, k));
            var restored = await Manager(store).OpenLatestAsync();
            await using var stream = await restored.OpenFileAsync("m.bin");
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            Assert.Equal(Bytes(200_000, winner.Manifest == results[0].Manifest ? 1 : 2), copy.ToArray());
        }
    }

    [Fact]
    public async Task CommitAsync_StepAlreadyCommittedByAnotherWriter_ThrowsConflictAndOverwritesNothing()
    {
        var other = Manager(_store, job: JobContext.Create(restartAttempt: 0, hostName: "pod-a"));
        var mine = Manager(_store);
        var theirs = await other.SaveAsync(4, ("m.bin", Bytes(100, 1)));
        var manifestBefore = await _store.ReadAllAsync(ManifestKey(other, 4));

        var error = await Assert.ThrowsAsync<CheckpointConflictException>(() => mine.SaveAsync(4, ("m.bin", Bytes(100, 2))));

        Assert.Equal(4, error.Step);
        Assert.Equal(theirs.Writer, error.Winner!.Writer);
        Assert.Contains(theirs.Writer, error.Message);
        Assert.Contains("pod-a", error.Message);
        Assert.Equal(manifestBefore, await _store.ReadAllAsync(ManifestKey(other, 4)));
        Assert.Equal([DataKey(other, theirs, "m.bin"), ManifestKey(other, 4)], await _store.KeysAsync());
    }

    [Fact]
    public async Task CommitAsync_AnswerLostAfterTheManifestLanded_RecognisesItsOwnManifest()
    {
        var flaky = new RecordingStore(_store);
        var lost = 0;
        var attempts = 0;
        flaky.BeforePut = key =>
        {
            if (key.EndsWith("manifest.json", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref attempts);
            }

            return Task.CompletedTask;
        };
        flaky.AfterPut = (key, info) => key.EndsWith("manifest.json", StringComparison.Ordinal) && Interlocked.Increment(ref lost) == 1
            ? throw new TransientStoreException("connection reset after the request was sent")
            : info;
        var manager = Manager(flaky);

        var manifest = await manager.SaveAsync(1, ("m.bin", Bytes(10, 1)));

        Assert.Equal(1, manifest.Step);
        Assert.Equal(1, lost);
        Assert.Equal(2, attempts);
        Assert.Equal(1, (await manager.RestoreLatestAsync(TempDirectory())).Step);
    }

    [Fact]
    public async Task CommitAsync_PermanentFailure_IsNotRetriedAndLeavesNoVisibleCheckpoint()
    {
        var failing = new RecordingStore(_store);
        var attempts = 0;
        failing.BeforePut = key =>
        {
            Interlocked.Increment(ref attempts);
            throw new StoreAccessDeniedException(_store.Location, "test credentials", "403 Forbidden");
        };
        var manager = Manager(failing);

        await Assert.ThrowsAsync<StoreAccessDeniedException>(() => manager.SaveAsync(1, ("m.bin", Bytes(10, 1))));

        Assert.Equal(1, attempts);
        Assert.Empty(await _store.KeysAsync());
    }

    [Fact]
    public async Task SaveAsync_StepJudgedCorrupt_SupersedesItAndQuarantinesTheOldManifest()
    {
        var manager = Manager(_store, o => o.Retention.KeepLast = 10);
        await manager.SaveAsync(1, ("m.bin", Bytes(100, 1)));
        var bad = await manager.SaveAsync(2, ("m.bin", Bytes(100, 2)));
        await _store.FlipByteAsync(DataKey(manager, bad, "m.bin"), 0);
        var badManifest = await _store.ReadAllAsync(ManifestKey(manager, 2));
        Assert.Equal(1, (await manager.RestoreLatestAsync(TempDirectory())).Step);

        var good = await manager.SaveAsync(2, ("m.bin", Bytes(100, 22)));

        var target = Path.Combine(TempDirectory(), "o");
        Assert.Equal(2, (await Manager(_store).RestoreLatestAsync(target)).Step);
        Assert.Equal(Bytes(100, 22), await File.ReadAllBytesAsync(Path.Combine(target, "m.bin")));
        var quarantined = Assert.Single(await _store.KeysAsync($"{Run}/rank-00000/step-000000000002/quarantine/"));
        Assert.Equal(badManifest, await _store.ReadAllAsync(quarantined));
        Assert.NotNull(await _store.StatAsync(DataKey(manager, bad, "m.bin")));
        Assert.NotEqual(bad.Writer, good.Writer);
    }

    [Fact]
    public async Task SaveAsync_StepWithGarbageManifestJudgedByRestore_IsSuperseded()
    {
        var manager = Manager(_store);
        await manager.SaveAsync(1, ("m.bin", Bytes(10, 1)));
        await _store.PutAsync(ManifestKey(manager, 2), new MemoryStream(Utf8("{ garbage")));
        await manager.RestoreLatestAsync(TempDirectory());

        await manager.SaveAsync(2, ("m.bin", Bytes(10, 2)));

        Assert.Equal(2, (await manager.RestoreLatestAsync(TempDirectory())).Step);
    }

    [Fact]
    public async Task SaveAsync_CorruptStepReplacedByAnotherWriterSinceJudged_IsAConflict()
    {
        var manager = Manager(_store);
        var other = Manager(_store);
        await manager.SaveAsync(1, ("m.bin", Bytes(10, 1)));
        var bad = await manager.SaveAsync(2, ("m.bin", Bytes(10, 2)));
        await _store.FlipByteAsync(DataKey(manager, bad, "m.bin"), 0);
        await manager.RestoreLatestAsync(TempDirectory());
        await other.RestoreLatestAsync(TempDirectory());
        var theirs = await other.SaveAsync(2, ("m.bin", Bytes(10, 3)));

        var error = await Assert.ThrowsAsync<CheckpointConflictException>(() => manager.SaveAsync(2, ("m.bin", Bytes(10, 4))));

        Assert.Equal(theirs.Writer, error.Winner!.Writer);
        var target = Path.Combine(TempDirectory(), "o");
        await Manager(_store).RestoreLatestAsync(target);
        Assert.Equal(Bytes(10, 3), await File.ReadAllBytesAsync(Path.Combine(target, "m.bin")));
    }

    [Fact]
    public async Task SaveAsync_GarbageManifestNeverJudged_IsAConflictNotAnOverwrite()
    {
        var manager = Manager(_store);
        await _store.PutAsync(ManifestKey(manager, 2), new MemoryStream(Utf8("{ garbage")));

        await Assert.ThrowsAsync<CheckpointConflictException>(() => manager.SaveAsync(2, ("m.bin", Bytes(10, 2))));

        Assert.Equal(Utf8("{ garbage"), await _store.ReadAllAsync(ManifestKey(manager, 2)));
    }

    [Fact]
    public async Task CommitAsync_StoreWithoutCreateOnly_StillRefusesAnExistingManifest()
    {
        var store = new NoCreateOnlyStore(_store);
        var first = Manager(store);
        var second = Manager(store);
        await first.SaveAsync(1, ("m.bin", Bytes(10, 1)));

        await Assert.ThrowsAsync<CheckpointConflictException>(() => second.SaveAsync(1, ("m.bin", Bytes(10, 2))));
    }

    private static async Task<(CheckpointManifest? Manifest, Exception? Error)> Capture(Task<CheckpointManifest> save)
    {
        try
        {
            return (await save, null);
        }
        catch (Exception e)
        {
            return (null, e);
        }
    }

    /// <summary>A store that cannot write create-only (ignores the option and says so in its capabilities).</summary>
    private sealed class NoCreateOnlyStore(ICheckpointStore inner) : DelegatingStore(inner)
    {
        public override StoreCapabilities Capabilities { get; } = new() { CreateOnly = false, ConditionalDelete = false };

        public override Task<ObjectInfo> PutAsync(string key, Stream content, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default) =>
            Inner.PutAsync(key, content, null, cancellationToken);

        public override Task<ObjectWriteStream> OpenWriteAsync(string key, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default) =>
            Inner.OpenWriteAsync(key, null, cancellationToken);

        public override Task<bool> DeleteAsync(string key, string? ifMatch = null, CancellationToken cancellationToken = default) =>
            ifMatch is null ? Inner.DeleteAsync(key, null, cancellationToken) : throw new NotSupportedException();
    }
}
