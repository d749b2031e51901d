using System.Text.Json;

using static Konduktor.Storage.Tests.CheckpointTestKit;

namespace Konduktor.Storage.Tests;

public sealed class CheckpointSaveTests
{
    [Fact]
    public async Task SaveAsync_Streams_CommitsManifestWithLengthsAndChecksums()
    {
        var store = new InMemoryCheckpointStore();
        var manager = Manager(store);
        var model = Bytes(300_000, 1);
        var optimizer = Bytes(0, 2);

        var manifest = await manager.SaveAsync(7, ("model.bin", model), ("optim/state.bin", optimizer));

        Assert.Equal(7, manifest.Step);
        Assert.Equal([("model.bin", 300_000L, ContentHash.Of(model)), ("optim/state.bin", 0L, ContentHash.Of(optimizer))],
            manifest.Files.Select(f => (f.Name, f.Length, f.Checksum)));
        var stored = JsonDocument.Parse(await store.ReadAllAsync(ManifestKey(manager, 7))).RootElement;
        Assert.Equal("konduktor-checkpoint/1", stored.GetProperty("format").GetString());
        Assert.Equal(Run, stored.GetProperty("run").GetString());
        Assert.Equal("rank-00000", stored.GetProperty("scope").GetString());
        Assert.Equal(7, stored.GetProperty("step").GetInt64());
        Assert.Equal(manifest.Writer, stored.GetProperty("writer").GetString());
        Assert.Equal(ContentHash.Of(model), stored.GetProperty("files")[0].GetProperty("checksum").GetString());
        Assert.Equal(model, await store.ReadAllAsync(DataKey(manager, manifest, "model.bin")));
    }

    [Fact]
    public async Task SaveAsync_Layout_FollowsTheContract()
    {
        var store = new InMemoryCheckpointStore();
        var manager = Manager(store, o => o.Mode = CheckpointMode.PerRank, job: JobContext.Create(rank: 2, nodeCount: 4, restartAttempt: 1));

        var manifest = await manager.SaveAsync(1200, ("model.bin", Bytes(10, 1)));

        Assert.Matches("^a1-[0-9a-f]{12}$", manifest.Writer);
        Assert.Equal(
            [$"run-1/rank-00002/step-000000001200/{manifest.Writer}/model.bin", "run-1/rank-00002/step-000000001200/manifest.json"],
            await store.KeysAsync());
        Assert.Equal(new ManifestJob(1, 2, 4, manifest.Job!.Host), manifest.Job);
    }

    [Fact]
    public async Task SaveAsync_Manifest_IsWrittenLast()
    {
        var store = new RecordingStore(new InMemoryCheckpointStore());
        var manager = Manager(store);

        await manager.SaveAsync(1, ("a.bin", Bytes(10, 1)), ("b.bin", Bytes(20, 2)), ("c.bin", Bytes(30, 3)));

        Assert.Equal(4, store.Events.Count);
        Assert.EndsWith("/manifest.json", store.Events[^1]);
    }

    [Fact]
    public async Task SaveAsync_Metadata_IsStoredInTheManifest()
    {
        var manager = Manager(new InMemoryCheckpointStore());

        await manager.SaveAsync(3, new Dictionary<string, Stream> { ["w"] = new MemoryStream([1]) }, new Dictionary<string, string> { ["loss"] = "0.25", ["epoch"] = "2" });

        var listed = Assert.Single(await manager.ListAsync());
        Assert.Equal("0.25", listed.Manifest!.Metadata["loss"]);
        Assert.Equal("2", listed.Manifest.Metadata["epoch"]);
    }

    [Fact]
    public async Task AddFileAsync_WriterCallback_StreamsTheBytesItWrites()
    {
        var store = new InMemoryCheckpointStore();
        var manager = Manager(store);
        var data = Bytes(5 * 1024 * 1024, 4);

        await using var save = await manager.BeginSaveAsync(1);
        var entry = await save.AddFileAsync("weights.bin", async (stream, ct) =>
        {
            for (var offset = 0; offset < data.Length; offset += 100_000)
            {
                await stream.WriteAsync(data.AsMemory(offset, Math.Min(100_000, data.Length - offset)), ct);
            }
        });
        var manifest = await save.CommitAsync();

        Assert.Equal(ContentHash.Of(data), entry.Checksum);
        Assert.Equal(data.Length, entry.Length);
        Assert.Equal(data, await store.ReadAllAsync(DataKey(manager, manifest, "weights.bin")));
    }

    [Fact]
    public async Task SaveDirectoryAsync_NestedFiles_RestoreIdentically()
    {
        var source = TempDirectory();
        var target = Path.Combine(TempDirectory(), "restored");
        Directory.CreateDirectory(Path.Combine(source, "optim", "deep"));
        await File.WriteAllBytesAsync(Path.Combine(source, "model.bin"), Bytes(2_000_000, 1));
        await File.WriteAllBytesAsync(Path.Combine(source, "optim", "deep", "state.bin"), Bytes(123, 2));
        await File.WriteAllBytesAsync(Path.Combine(source, "empty"), []);
        var manager = Manager(new InMemoryCheckpointStore());

        var manifest = await manager.SaveDirectoryAsync(5, source);
        var result = await manager.RestoreLatestAsync(target);

        Assert.Equal(["empty", "model.bin", "optim/deep/state.bin"], manifest.Files.Select(f => f.Name));
        Assert.Equal(5, result.Step);
        foreach (var name in new[] { "model.bin", "optim/deep/state.bin", "empty" })
        {
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(source, name)), await File.ReadAllBytesAsync(Path.Combine(target, name)));
        }
    }

    [Fact]
    public async Task SaveDirectoryAsync_MissingDirectory_Throws()
    {
        var manager = Manager(new InMemoryCheckpointStore());

        await Assert.ThrowsAsync<DirectoryNotFoundException>(() => manager.SaveDirectoryAsync(1, Path.Combine(TempDirectory(), "nope")));
    }

    [Fact]
    public async Task AddLocalFileAsync_LocalFile_IsSaved()
    {
        var path = Path.Combine(TempDirectory(), "f.bin");
        var data = Bytes(70_000, 9);
        await File.WriteAllBytesAsync(path, data);
        var store = new InMemoryCheckpointStore();
        var manager = Manager(store);

        await using var save = await manager.BeginSaveAsync(2);
        await save.AddLocalFileAsync("f.bin", path);
        var manifest = await save.CommitAsync();

        Assert.Equal(data, await store.ReadAllAsync(DataKey(manager, manifest, "f.bin")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("../escape.bin")]
    [InlineData("/abs.bin")]
    [InlineData("a//b")]
    [InlineData("a/./b")]
    [InlineData("dir/")]
    [InlineData("bad\u0007name")]
    [InlineData("back\\slash")]
    public async Task AddFileAsync_InvalidName_ThrowsArgumentExceptionNamingIt(string name)
    {
        var store = new InMemoryCheckpointStore();
        await using var save = await Manager(store).BeginSaveAsync(1);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => save.AddFileAsync(name, new MemoryStream([1])));

        Assert.Contains("not a valid checkpoint file name", error.Message);
        Assert.Equal(0, store.Count);
    }

    [Theory]
    [InlineData("a.bin", "a.bin")]
    [InlineData("a", "a/b")]
    [InlineData("a/b", "a")]
    public async Task AddFileAsync_DuplicateOrNestedName_Throws(string first, string second)
    {
        await using var save = await Manager(new InMemoryCheckpointStore()).BeginSaveAsync(1);
        await save.AddFileAsync(first, new MemoryStream([1]));

        await Assert.ThrowsAsync<ArgumentException>(() => save.AddFileAsync(second, new MemoryStream([2])));
    }

    [Fact]
    public async Task BeginSaveAsync_NegativeStep_Throws()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Manager(new InMemoryCheckpointStore()).BeginSaveAsync(-1));
    }

    [Fact]
    public async Task CommitAsync_Twice_ThrowsInvalidOperation()
    {
        await using var save = await Manager(new InMemoryCheckpointStore()).BeginSaveAsync(1);
        await save.AddFileAsync("a", new MemoryStream([1]));
        await save.CommitAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(() => save.CommitAsync());
    }

    [Fact]
    public async Task SaveAsync_CancelledMidway_LeavesNoVisibleCheckpointAndNoData()
    {
        var store = new InMemoryCheckpointStore();
        var manager = Manager(store);
        await manager.SaveStepAsync(1);
        var before = await store.KeysAsync();
        using var cts = new CancellationTokenSource();
        var source = new InterruptedStream(10_000_000, 3_000_000, () =>
        {
            cts.Cancel();
            return new OperationCanceledException(cts.Token);
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            manager.SaveAsync(2, new Dictionary<string, Stream> { ["big.bin"] = source }, cancellationToken: cts.Token));

        Assert.Equal(before, await store.KeysAsync());
        Assert.Equal(1, (await manager.RestoreLatestAsync(TempDirectory())).Step);
    }

    [Fact]
    public async Task SaveAsync_SourceFailsMidway_LeavesNoVisibleCheckpointAndRemovesWrittenFiles()
    {
        var store = new InMemoryCheckpointStore();
        var manager = Manager(store);
        var files = new Dictionary<string, Stream>
        {
            ["a.bin"] = new MemoryStream(Bytes(1000, 1)),
            ["b.bin"] = new InterruptedStream(5_000_000, 2_000_000, () => new IOException("disk read failed")),
        };

        await Assert.ThrowsAsync<IOException>(() => manager.SaveAsync(1, files));

        Assert.Empty(await store.KeysAsync());
        Assert.False((await manager.RestoreLatestAsync(TempDirectory())).Found);
    }

    [Fact]
    public async Task DisposeAsync_WithoutCommit_RemovesWrittenFiles()
    {
        var store = new InMemoryCheckpointStore();
        var manager = Manager(store);

        await using (var save = await manager.BeginSaveAsync(4))
        {
            await save.AddFileAsync("a.bin", new MemoryStream(Bytes(100, 1)));
            Assert.Equal(1, store.Count);
        }

        Assert.Equal(0, store.Count);
    }

    [Fact]
    public async Task SaveAsync_Progress_ReportsEveryByte()
    {
        var manager = Manager(new InMemoryCheckpointStore(), o => o.BufferSize = 64 * 1024);
        var reports = new List<TransferProgress>();
        var progress = new SynchronousProgress<TransferProgress>(reports.Add);

        await manager.SaveAsync(1, new Dictionary<string, Stream> { ["a.bin"] = new MemoryStream(Bytes(1_000_000, 1)) }, progress: progress);

        Assert.True(reports.Count >= 10);
        Assert.Equal(1_000_000, reports[^1].FileBytes);
        Assert.Equal(1_000_000, reports[^1].TotalBytes);
        Assert.All(reports, r => Assert.Equal("a.bin", r.File));
    }

    [Fact]
    public void Constructor_NoRunIdAndNoJobName_ThrowsNamingTheKey()
    {
        var error = Assert.Throws<CheckpointConfigurationException>(() =>
            new CheckpointManager(new InMemoryCheckpointStore(), JobContext.Create(), new CheckpointManagerOptions()));

        Assert.Equal("Konduktor:Checkpoints:RunId", error.Key);
        Assert.Contains("KONDUKTOR_JOB_NAME", error.Message);
    }

    [Fact]
    public void Constructor_JobName_NamesTheRunAndRankNamesTheScope()
    {
        var manager = new CheckpointManager(new InMemoryCheckpointStore(), JobContext.Create(rank: 3, nodeCount: 4, jobName: "llama-ft"));

        Assert.Equal("llama-ft", manager.RunId);
        Assert.Equal("rank-00003", manager.Scope);
    }

    [Fact]
    public void Constructor_FixedScope_IsUsed()
    {
        var manager = Manager(new InMemoryCheckpointStore(), o => o.Scope = "shared");

        Assert.Equal("shared", manager.Scope);
    }

    public static TheoryData<string, Action<CheckpointManagerOptions>> InvalidOptions => new()
    {
        { "Konduktor:Checkpoints:RunId", o => o.RunId = "a/b" },
        { "Konduktor:Checkpoints:Scope", o => o.Scope = "../x" },
        { "Konduktor:Checkpoints:Retention:KeepLast", o => o.Retention.KeepLast = -1 },
        { "Konduktor:Checkpoints:Retention:KeepEvery", o => o.Retention.KeepEvery = 0 },
        { "Konduktor:Checkpoints:Retention:KeepBest", o => o.Retention.KeepBest = 0 },
        { "Konduktor:Checkpoints:Retention:BestMetric", o => o.Retention.KeepBest = 2 },
        { "Konduktor:Checkpoints:Retention:BestMode", o => o.Retention.BestMode = (BestMode)7 },
        { "Konduktor:Checkpoints:Retention:Pinned", o => o.Retention.Pinned.Add(-5) },
        { "Konduktor:Checkpoints:GarbageGracePeriod", o => o.GarbageGracePeriod = TimeSpan.FromSeconds(-1) },
        { "Konduktor:Checkpoints:BufferSize", o => o.BufferSize = 100 },
        { "Konduktor:Checkpoints:Resilience:MaxRetryAttempts", o => o.Resilience.MaxRetryAttempts = -1 },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Constructor_InvalidOption_ThrowsNamingKeyAndValue(string key, Action<CheckpointManagerOptions> breakIt)
    {
        var error = Assert.Throws<CheckpointConfigurationException>(() => Manager(new InMemoryCheckpointStore(), breakIt));

        Assert.Equal(key, error.Key);
        Assert.Contains(key, error.Message);
    }
}

/// <summary>An <see cref="IProgress{T}"/> that reports on the calling thread, so tests see every report before the call returns.</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value)
    {
        lock (this)
        {
            report(value);
        }
    }
}
