using Konduktor.Storage.Testing;

using static Konduktor.Storage.Gcs.Tests.GcsTestStores;

namespace Konduktor.Storage.Gcs.Tests;

/// <summary><see cref="CheckpointManager"/> over <see cref="GcsCheckpointStore"/> on the loopback GCS test server.</summary>
public sealed class GcsCheckpointManagerTests : IDisposable
{
    private const string Run = "run-gcs";
    private readonly string _temp = Directory.CreateTempSubdirectory("konduktor-gcs-manager-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Fact]
    public async Task SaveAndRestore_SeveralChunksThroughFaults_RestoresByteIdenticalFiles()
    {
        await using var server = await GcsTestServer.StartAsync();
        using var store = Create(server, prefix: "ckpt", chunkSizeMiB: 0.5);
        var manager = Manager(store);
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["config.json"] = RandomBytes(1000, 1),
            ["model.bin"] = RandomBytes((3 * MiB) + 17, 2),
        };
        await manager.SaveAsync(5, files.ToDictionary(f => f.Key, f => (Stream)new MemoryStream(f.Value)));
        server.Faults.ResetMidChunk(1, afterBytes: 100_000);
        server.Faults.FailInitiations(1);
        await manager.SaveAsync(10, files.ToDictionary(f => f.Key, f => (Stream)new MemoryStream(f.Value)));
        server.Faults.FailDownloads(2);

        var restored = await Manager(store).RestoreLatestAsync(Path.Join(_temp, "restore"));

        Assert.Equal(10, restored.Step);
        Assert.Empty(restored.Skipped);
        foreach (var (name, bytes) in files)
        {
            Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Join(restored.Directory!, name)));
        }

        Assert.True(server.Counters.FaultsInjected >= 3, $"only {server.Counters.FaultsInjected} faults were injected");
    }

    [Fact]
    public async Task CommitAsync_StepAlreadyCommittedByAnotherWriter_ThrowsConflictNamingTheWinner()
    {
        await using var server = await GcsTestServer.StartAsync();
        using var store = Create(server, prefix: "ckpt");
        var first = Manager(store);
        var second = Manager(store);
        await using var losing = await second.BeginSaveAsync(3);
        await losing.AddFileAsync("w.bin", new MemoryStream([2]));

        var winner = await first.SaveAsync(3, new Dictionary<string, Stream> { ["w.bin"] = new MemoryStream([1]) });
        var conflict = await Assert.ThrowsAsync<CheckpointConflictException>(() => losing.CommitAsync());

        Assert.Equal(3, conflict.Step);
        Assert.Equal(winner.Writer, conflict.Winner?.Writer);
        var restored = await Manager(store).RestoreLatestAsync(Path.Join(_temp, "winner"));
        Assert.Equal([1], await File.ReadAllBytesAsync(Path.Join(restored.Directory!, "w.bin")));
    }

    private static CheckpointManager Manager(ICheckpointStore store) =>
        new(store, JobContext.Create(), new CheckpointManagerOptions { RunId = Run, Resilience = FastRetries() });
}
