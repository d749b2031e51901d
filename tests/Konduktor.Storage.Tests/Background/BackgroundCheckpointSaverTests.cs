using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Konduktor.Storage.Tests;

public sealed class BackgroundCheckpointSaverTests : IDisposable
{
    private const int MiB = 1024 * 1024;

    private readonly string _temp = CheckpointTestKit.TempDirectory();

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Fact]
    public async Task SaveAsync_EveryContentKind_CommitsWhatWasCapturedWhenTheSourcesChangeRightAfter()
    {
        var store = new HeldUploadStore(new InMemoryCheckpointStore());
        var manager = CheckpointTestKit.Manager(store);
        var local = Path.Combine(_temp, "optimizer.bin");
        File.WriteAllBytes(local, CheckpointTestKit.Bytes(3 * MiB + 5, 2));
        var model = CheckpointTestKit.Bytes(2 * MiB + 7, 1);
        await using var saver = new BackgroundCheckpointSaver(manager, Options());
        store.Hold();

        var save = await saver.BeginSaveAsync(7);
        var source = new MemoryStream(model);
        await save.AddFileAsync("model.bin", source);
        await save.AddFileAsync("state.json", (stream, ct) => stream.WriteAsync("{\"step\":7}"u8.ToArray(), ct).AsTask());
        await save.AddLocalFileAsync("optim/optimizer.bin", local);
        await save.CommitAsync(new Dictionary<string, string> { ["loss"] = "0.5" });

        // Captured: the sources may change at once (a program replaces its file), and nothing is durable yet.
        Array.Clear(model);
        File.Delete(local);
        File.WriteAllBytes(local, [1, 2, 3]);
        Assert.False(save.Durable.IsCompleted);
        Assert.Equal(1, saver.InFlight);

        store.Release();
        var manifest = await save.Durable.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(7, manifest.Step);
        Assert.Equal("0.5", manifest.Metadata["loss"]);
        var restored = Path.Combine(_temp, "restored");
        await manager.RestoreLatestAsync(restored);
        Assert.Equal(CheckpointTestKit.Bytes(2 * MiB + 7, 1), File.ReadAllBytes(Path.Combine(restored, "model.bin")));
        Assert.Equal(CheckpointTestKit.Bytes(3 * MiB + 5, 2), File.ReadAllBytes(Path.Combine(restored, "optim", "optimizer.bin")));
        Assert.Equal("{\"step\":7}", File.ReadAllText(Path.Combine(restored, "state.json")));
        Assert.Equal(7, saver.NewestDurableStep);
        Assert.Equal(0, saver.StagedMemoryBytes);
        Assert.Equal(0, saver.StagedDiskBytes);
    }

    [Fact]
    public async Task SaveAsync_MemoryLimitTooSmall_SpillsToTheStagingDirectoryAndSavesTheSameBytes()
    {
        var manager = CheckpointTestKit.Manager(new InMemoryCheckpointStore());
        await using var saver = new BackgroundCheckpointSaver(manager, Options(memoryMiB: 1, diskMiB: 16));
        var data = CheckpointTestKit.Bytes(5 * MiB + 3, 3);

        var save = await saver.SaveAsync(1, new Dictionary<string, Stream> { ["big.bin"] = new MemoryStream(data) });
        await save.Durable.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(MiB, saver.PeakStagedMemoryBytes);
        Assert.Equal(4 * MiB + 3, saver.PeakStagedDiskBytes);
        var reader = await manager.OpenLatestAsync();
        await using var stream = await reader.OpenFileAsync("big.bin");
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        Assert.Equal(data, copy.ToArray());
    }

    [Fact]
    public async Task BeginSaveAsync_SavesFasterThanUploads_WaitsForTheSlotAndStagingStaysWithinItsLimits()
    {
        var store = new HeldUploadStore(new InMemoryCheckpointStore()) { UploadDelay = TimeSpan.FromMilliseconds(150) };
        var manager = CheckpointTestKit.Manager(store);
        await using var saver = new BackgroundCheckpointSaver(manager, Options(memoryMiB: 2, diskMiB: 6));
        var stagingFolder = Path.Combine(_temp, "staging");
        long peakFolderBytes = 0;
        var maxInFlight = 0;

        for (var step = 1; step <= 5; step++)
        {
            var save = await saver.BeginSaveAsync(step);
            maxInFlight = Math.Max(maxInFlight, saver.InFlight + 1);
            await save.AddFileAsync("a.bin", new MemoryStream(CheckpointTestKit.Bytes(3 * MiB, step)));
            await save.AddFileAsync("b.bin", new MemoryStream(CheckpointTestKit.Bytes(4 * MiB, step + 100)));
            peakFolderBytes = Math.Max(peakFolderBytes, FolderBytes(stagingFolder));
            await save.CommitAsync();
            peakFolderBytes = Math.Max(peakFolderBytes, FolderBytes(stagingFolder));
        }

        await saver.FlushAsync();

        Assert.Equal(1, maxInFlight);
        Assert.True(saver.PeakStagedMemoryBytes <= 2 * MiB, $"memory peaked at {saver.PeakStagedMemoryBytes} bytes");
        Assert.True(saver.PeakStagedDiskBytes <= 6 * MiB, $"staging disk peaked at {saver.PeakStagedDiskBytes} bytes");
        Assert.True(peakFolderBytes is > 0 and <= 6 * MiB, $"the staging folder held {peakFolderBytes} bytes");
        Assert.Equal([5, 4, 3], (await manager.ListAsync()).Select(c => c.Step));
    }

    [Fact]
    public async Task AddFileAsync_StepLargerThanBothLimits_FailsNamingTheLimitAndFreesTheSlot()
    {
        var manager = CheckpointTestKit.Manager(new InMemoryCheckpointStore());
        await using var saver = new BackgroundCheckpointSaver(manager, Options(memoryMiB: 1, diskMiB: 1));

        var save = await saver.BeginSaveAsync(1);
        var error = await Assert.ThrowsAsync<CheckpointStorageException>(() => save.AddFileAsync("big.bin", new MemoryStream(new byte[3 * MiB])));
        await save.DisposeAsync();

        Assert.Contains("Step 1 does not fit", error.Message, StringComparison.Ordinal);
        Assert.Contains("Konduktor:Checkpoints:Background:DiskLimitMiB", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, saver.StagedMemoryBytes + saver.StagedDiskBytes);
        var next = await saver.SaveAsync(2, new Dictionary<string, Stream> { ["small.bin"] = new MemoryStream(new byte[100]) }).WaitAsync(TimeSpan.FromSeconds(30));
        await next.Durable;
    }

    [Fact]
    public async Task UploadDenied_NextSaveThrowsNamingStepAndCause_AndEarlierCommitStays()
    {
        var store = new HeldUploadStore(new InMemoryCheckpointStore());
        var manager = CheckpointTestKit.Manager(store);
        await using var saver = new BackgroundCheckpointSaver(manager, Options());
        await (await saver.SaveAsync(5, Files(5))).Durable;
        store.DenyFromStep = 10;

        var failed = await saver.SaveAsync(10, Files(10));
        await Assert.ThrowsAsync<BackgroundSaveException>(() => failed.Durable);
        var error = await Assert.ThrowsAsync<BackgroundSaveException>(() => saver.BeginSaveAsync(15));

        Assert.Equal(10, error.Step);
        Assert.Contains("step 10", error.Message, StringComparison.Ordinal);
        Assert.Contains("403 Forbidden", error.Message, StringComparison.Ordinal);
        Assert.IsType<StoreAccessDeniedException>(error.InnerException);
        Assert.Equal([5], (await manager.ListAsync()).Where(c => c.Manifest is not null).Select(c => c.Step));
        Assert.Equal(5, (await manager.RestoreLatestAsync(Path.Combine(_temp, "r"))).Step);
    }

    [Fact]
    public async Task UploadDenied_FlushAsyncThrowsNamingStepAndCause()
    {
        var store = new HeldUploadStore(new InMemoryCheckpointStore()) { DenyFromStep = 3 };
        var manager = CheckpointTestKit.Manager(store);
        var saver = new BackgroundCheckpointSaver(manager, Options());

        await saver.SaveAsync(3, Files(3));
        var error = await Assert.ThrowsAsync<BackgroundSaveException>(() => saver.FlushAsync());
        await saver.SaveAsync(4, Files(4));
        var atDispose = await Assert.ThrowsAsync<BackgroundSaveException>(async () => await saver.DisposeAsync());

        Assert.Equal(3, error.Step);
        Assert.Contains("AccessDenied", error.Message, StringComparison.Ordinal);
        Assert.Equal(4, atDispose.Step);
        Assert.DoesNotContain(await manager.ListAsync(), c => c.Manifest is not null);
    }

    [Fact]
    public async Task Staging_FolderOfAKilledProcess_IsRemovedAndOwnFolderGoesOnDispose()
    {
        var staging = Path.Combine(_temp, "staging");
        var orphan = Path.Combine(staging, "konduktor-staging-999999999-0123");
        Directory.CreateDirectory(orphan);
        File.WriteAllBytes(Path.Combine(orphan, "00000001.part"), new byte[10]);
        var manager = CheckpointTestKit.Manager(new InMemoryCheckpointStore());
        var saver = new BackgroundCheckpointSaver(manager, Options(memoryMiB: 0, diskMiB: 4));

        await (await saver.SaveAsync(1, Files(1))).Durable;
        Assert.False(Directory.Exists(orphan));
        Assert.Single(Directory.GetDirectories(staging));
        await saver.DisposeAsync();

        Assert.Empty(Directory.GetDirectories(staging));
    }

    [Fact]
    public async Task Metrics_SaveAndFailure_RecordBlockedNotDurableAndFailures()
    {
        using var blocked = new MetricCollector<double>(null, StorageTelemetry.Name, "konduktor.storage.background.blocked");
        using var notDurable = new MetricCollector<double>(null, StorageTelemetry.Name, "konduktor.storage.background.not_durable");
        using var failures = new MetricCollector<long>(null, StorageTelemetry.Name, "konduktor.storage.background.failures");
        var store = new HeldUploadStore(new InMemoryCheckpointStore()) { DenyFromStep = 2 };
        await using var saver = new BackgroundCheckpointSaver(CheckpointTestKit.Manager(store), Options());

        var saved = await saver.SaveAsync(1, Files(1));
        await saved.Durable;
        await (await saver.SaveAsync(2, Files(2))).Durable.ContinueWith(_ => { }, TaskScheduler.Default);
        await Assert.ThrowsAsync<BackgroundSaveException>(() => saver.FlushAsync());

        Assert.Contains(blocked.GetMeasurementSnapshot(), m => m.Value >= 0);
        Assert.Contains(notDurable.GetMeasurementSnapshot(), m => m.Value > 0);
        Assert.Contains(failures.GetMeasurementSnapshot(), m => m.Value == 1 && Equals(m.Tags["outcome"], "failed"));
        Assert.True(saved.BlockedTime > TimeSpan.Zero);
    }

    [Theory]
    [InlineData(0, 512, 100, "Konduktor:Checkpoints:Background:MaxInFlight = '0'")]
    [InlineData(1, -1, 100, "Konduktor:Checkpoints:Background:MemoryLimitMiB = '-1'")]
    [InlineData(1, 0, 0, "Konduktor:Checkpoints:Background:DiskLimitMiB = '0'")]
    public void Constructor_InvalidOptions_NamesTheKeyAndValue(int maxInFlight, int memory, int disk, string expected)
    {
        var manager = CheckpointTestKit.Manager(new InMemoryCheckpointStore());
        var options = new BackgroundSaveOptions { MaxInFlight = maxInFlight, MemoryLimitMiB = memory, DiskLimitMiB = disk };

        var error = Assert.Throws<CheckpointConfigurationException>(() => new BackgroundCheckpointSaver(manager, options));

        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    private static Dictionary<string, Stream> Files(int step) => new() { ["model.bin"] = new MemoryStream(CheckpointTestKit.Bytes(1000 + step, step)) };

    private static long FolderBytes(string folder) =>
        Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) : 0;

    private BackgroundSaveOptions Options(int memoryMiB = 64, int diskMiB = 256) => new()
    {
        MemoryLimitMiB = memoryMiB,
        DiskLimitMiB = diskMiB,
        StagingDirectory = Path.Combine(_temp, "staging"),
    };
}
