using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Konduktor.Storage.Tests;

public sealed class CheckpointShutdownTests : IDisposable
{
    private readonly string _temp = CheckpointTestKit.TempDirectory();

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Fact]
    public async Task SaveAndDrainAsync_StepNewerThanSaved_CommitsItAndDrainsEarlierSaves()
    {
        var store = new HeldUploadStore(new InMemoryCheckpointStore()) { UploadDelay = TimeSpan.FromMilliseconds(100) };
        var manager = CheckpointTestKit.Manager(store);
        await using var saver = new BackgroundCheckpointSaver(manager, Options());
        using var shutdown = new CheckpointShutdown(saver);
        await saver.SaveAsync(5, File(5));

        var result = await shutdown.SaveAndDrainAsync(7, (save, ct) => save.AddFileAsync("model.bin", new MemoryStream(CheckpointTestKit.Bytes(100, 7)), ct));

        Assert.True(result.Completed);
        Assert.Equal(7, result.EmergencyStep);
        Assert.True(result.EmergencySaved);
        Assert.Equal(7, result.NewestDurableStep);
        Assert.True(shutdown.IsStopping);
        Assert.True(shutdown.Stopping.IsCancellationRequested);
        Assert.Equal([7, 5], (await manager.ListAsync()).Select(c => c.Step));
    }

    [Fact]
    public async Task SaveAndDrainAsync_StepAlreadyHandedOver_MakesNoSecondSave()
    {
        var manager = CheckpointTestKit.Manager(new InMemoryCheckpointStore());
        await using var saver = new BackgroundCheckpointSaver(manager, Options());
        using var shutdown = new CheckpointShutdown(saver);
        await saver.SaveAsync(10, File(10));
        var captures = 0;

        var result = await shutdown.SaveAndDrainAsync(10, (_, _) => Task.FromResult(++captures));

        Assert.Equal(0, captures);
        Assert.Null(result.EmergencyStep);
        Assert.True(result.Completed);
        Assert.Equal(10, result.NewestDurableStep);
    }

    [Fact]
    public async Task SaveAndDrainAsync_UploadCannotFinishInTheBudget_AbandonsWithoutCommitAndThePreviousStepStaysNewest()
    {
        var store = new HeldUploadStore(new InMemoryCheckpointStore());
        var manager = CheckpointTestKit.Manager(store);
        await using var saver = new BackgroundCheckpointSaver(manager, Options());
        using var shutdown = new CheckpointShutdown(saver, new ShutdownOptions { GracePeriod = TimeSpan.FromSeconds(1), Margin = TimeSpan.FromMilliseconds(500) });
        await (await saver.SaveAsync(5, File(5))).Durable;
        store.Hold(); // the network stalls: step 10 can never be uploaded
        var slow = await saver.SaveAsync(10, File(10));

        var result = await shutdown.SaveAndDrainAsync(12, (save, ct) => save.AddFileAsync("model.bin", new MemoryStream([1, 2, 3]), ct));

        Assert.False(result.Completed);
        Assert.Equal(12, result.EmergencyStep);
        Assert.False(result.EmergencySaved);
        Assert.Contains(10L, result.AbandonedSteps);
        Assert.Equal(5, result.NewestDurableStep);
        var error = await Assert.ThrowsAsync<BackgroundSaveException>(() => slow.Durable);
        Assert.IsAssignableFrom<OperationCanceledException>(error.InnerException);
        store.Release();
        Assert.Equal([5], (await manager.ListAsync()).Where(c => c.Manifest is not null).Select(c => c.Step));
        Assert.Equal(5, (await manager.RestoreLatestAsync(Path.Combine(_temp, "r"))).Step);
    }

    [Fact]
    public async Task HostStop_BackgroundSaveInFlight_TheRegisteredServiceDrainsIt()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Konduktor:Checkpoints:Location"] = $"file://{_temp}/store",
            ["Konduktor:Checkpoints:RunId"] = "run-1",
            ["Konduktor:Checkpoints:Background:StagingDirectory"] = Path.Combine(_temp, "staging"),
            ["Konduktor:Shutdown:GracePeriod"] = "00:00:20",
        });
        builder.Services.AddSingleton(JobContext.Create());
        builder.Services.AddKonduktorCheckpoints(builder.Configuration).AddBackgroundSaves(builder.Configuration);
        using var host = builder.Build();
        await host.StartAsync();
        var saver = host.Services.GetRequiredService<BackgroundCheckpointSaver>();
        var shutdown = host.Services.GetRequiredService<CheckpointShutdown>();
        var save = await saver.SaveAsync(3, File(3));

        await host.StopAsync();

        Assert.True(save.Durable.IsCompletedSuccessfully);
        Assert.True(shutdown.IsStopping);
        Assert.Equal(TimeSpan.FromSeconds(20), shutdown.Options.GracePeriod);
        Assert.Equal(3, (await host.Services.GetRequiredService<CheckpointManager>().ListAsync()).Single().Step);
    }

    [Theory]
    [InlineData("Konduktor:Checkpoints:Background:MaxInFlight", "0", "Konduktor:Checkpoints:Background:MaxInFlight = '0' is not valid; expected a whole number from 1 to 16")]
    [InlineData("Konduktor:Shutdown:Margin", "00:00:30", "Konduktor:Shutdown:Margin = '00:00:30' is not valid; expected a time from 00:00:00 to less than the grace period (00:00:30)")]
    [InlineData("Konduktor:Shutdown:GracePeriod", "00:00:00.5", "Konduktor:Shutdown:GracePeriod = '00:00:00.5000000' is not valid")]
    public async Task HostStart_InvalidOption_FailsNamingTheKeyAndValue(string key, string value, string expected)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Konduktor:Checkpoints:Location"] = $"file://{_temp}/store",
            ["Konduktor:Checkpoints:RunId"] = "run-1",
            [key] = value,
        });
        builder.Services.AddSingleton(JobContext.Create());
        builder.Services.AddKonduktorCheckpoints(builder.Configuration).AddBackgroundSaves(builder.Configuration);
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Remaining_AfterStopBegins_CountsDownFromGracePeriodMinusMargin()
    {
        var clock = CheckpointTestKit.Clock();
        var saver = new BackgroundCheckpointSaver(CheckpointTestKit.Manager(new InMemoryCheckpointStore()), Options());
        using var shutdown = new CheckpointShutdown(saver, new ShutdownOptions(), timeProvider: clock);

        Assert.Equal(TimeSpan.FromSeconds(25), shutdown.Remaining);
        shutdown.BeginStop("test");
        clock.Advance(TimeSpan.FromSeconds(10));
        shutdown.BeginStop("a second stop does not restart the clock");

        Assert.Equal(TimeSpan.FromSeconds(15), shutdown.Remaining);
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(TimeSpan.Zero, shutdown.Remaining);
    }

    private static Dictionary<string, Stream> File(int step) => new() { ["model.bin"] = new MemoryStream(CheckpointTestKit.Bytes(1000 + step, step)) };

    private BackgroundSaveOptions Options() => new() { StagingDirectory = Path.Combine(_temp, "staging") };
}
