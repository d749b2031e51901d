using System.Globalization;
using System.Text;

using Konduktor.Storage;
using Konduktor.Storage.Testing;

namespace TinyTrainer.Tests;

/// <summary>The sample's runtime outputs (metrics.jsonl, eval/summary.json) synced to a file-system store.</summary>
public sealed class OutputsTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Pod_CrashAtStep12ThenResume_StoreHoldsEachStepOnceAndTheSummary()
    {
        var crashed = await TrainerProcess.RunAsync(_temp.Path, Pod("j", 0, "pod-a"));
        Assert.True(crashed.ExitCode == 3, crashed.ToString());

        // The restarted pod has a fresh disk: it gets its outputs back from the store.
        var resumed = await TrainerProcess.RunAsync(_temp.Path, Pod("j", 1, "pod-b"));

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(10, resumed.Result.GetProperty("resumedFromStep").GetInt64());
        await SampleOutputs.AssertAfterJobAsync(Store(), "j", resumed.Result, steps: 20);
    }

    [Fact]
    public async Task Pod_KilledMidRunWithOneSecondInterval_SyncedPrefixReadableAndRestartContinues()
    {
        const int Steps = 20000;
        var settings = new[] { ("Trainer__Steps", Steps.ToString(CultureInfo.InvariantCulture)), ("Trainer__CheckpointEvery", "2000"), ("Trainer__CrashAtStep", "0") };
        var outputs = new RunOutputs(Store(), "k");
        string synced;
        string written;
        using (var pod = TrainerProcess.Start(_temp.Path, Pod("k", 0, "pod-a", settings)))
        {
            // Wait for a sync pass that holds more than a checkpoint's worth of lines, then kill -9.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (await outputs.StatAsync("rank-00000/metrics.jsonl") is not { Length: > 100_000 })
            {
                Assert.True(DateTime.UtcNow < deadline && !pod.Process.HasExited, "no outputs were synced while the pod ran");
                await Task.Delay(100);
            }

            pod.Process.Kill();
            await pod.Process.WaitForExitAsync();
            synced = Encoding.UTF8.GetString(await outputs.ReadAllBytesAsync("rank-00000/metrics.jsonl"));
            written = File.ReadAllText(_temp.Combine("pod-a", "metrics.jsonl"));
        }

        Assert.StartsWith(synced, written, StringComparison.Ordinal);
        Assert.True(SampleOutputs.Steps(written).Count < Steps, "the pod finished before it was killed");

        var resumed = await TrainerProcess.RunAsync(_temp.Path, Pod("k", 1, "pod-b", settings));

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        await SampleOutputs.AssertAfterJobAsync(Store(), "k", resumed.Result, Steps);
    }

    [Fact]
    public async Task Pod_ZeroOutputsInterval_ConfigurationErrorNamesTheKey()
    {
        var run = await TrainerProcess.RunAsync(_temp.Path, Pod("c", 0, "pod-a", ("Konduktor__Outputs__Interval", "00:00:00")));

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("configuration error: Konduktor:Outputs:Interval = '00:00:00'", run.Stderr, StringComparison.Ordinal);
    }

    private FileSystemCheckpointStore Store() => new(_temp.Combine("store"));

    private Dictionary<string, string> Pod(string job, int restartAttempt, string disk, params (string Name, string Value)[] extra)
    {
        var environment = new Dictionary<string, string>
        {
            ["Konduktor__Checkpoints__Location"] = _temp.Location(),
            ["Konduktor__Outputs__LocalDirectory"] = _temp.Combine(disk),
            ["Konduktor__Outputs__Interval"] = "00:00:01",
            ["KONDUKTOR_JOB_NAME"] = job,
            ["JOB_COMPLETION_INDEX"] = "0",
            ["RESTART_ATTEMPT"] = restartAttempt.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (name, value) in extra)
        {
            environment[name] = value;
        }

        return environment;
    }
}
