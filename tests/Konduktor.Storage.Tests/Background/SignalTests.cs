namespace Konduktor.Storage.Tests;

/// <summary>A real SIGTERM to this test process, so it runs alone: no other test's host may see the signal.</summary>
[CollectionDefinition(nameof(SignalGroup), DisableParallelization = true)]
public sealed class SignalGroup;

[Collection(nameof(SignalGroup))]
public sealed class SignalTests : IDisposable
{
    private readonly string _temp = CheckpointTestKit.TempDirectory();

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Fact]
    public async Task HandleSignals_Sigterm_StartsTheStopInsteadOfEndingTheProcess()
    {
        var saver = new BackgroundCheckpointSaver(CheckpointTestKit.Manager(new InMemoryCheckpointStore()), new BackgroundSaveOptions { StagingDirectory = _temp });
        using var shutdown = new CheckpointShutdown(saver);
        using var signals = shutdown.HandleSignals();
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = shutdown.Stopping.Register(() => stopped.TrySetResult());

        Assert.Equal(0, Kill(Environment.ProcessId, 15));
        await stopped.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(shutdown.IsStopping);
        Assert.True(shutdown.Remaining > TimeSpan.FromSeconds(20));
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
