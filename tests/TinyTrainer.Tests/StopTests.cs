using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace TinyTrainer.Tests;

/// <summary>
/// SIGTERM and SIGINT, as Kubernetes and Ctrl-C send them: the pod finishes its step, saves it, drains, prints
/// <c>STOPPED</c> and exits 143 well within the 30 s grace period; a restart resumes from the step it saved.
/// </summary>
public sealed class StopTests : IDisposable
{
    private static readonly TimeSpan GracePeriod = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(15, true)]
    [InlineData(2, true)]
    [InlineData(15, false)]
    public async Task Signal_MidRunBetweenCheckpoints_SavesTheFinishedStepExits143AndResumesExactly(int signal, bool backgroundSaves)
    {
        var settings = new[] { ("Trainer__StepDelayMs", "300"), ("Trainer__BackgroundSaves", backgroundSaves ? "true" : "false") };
        using var trainer = new StoppableTrainer(_temp.Path, Pod("j", settings));
        await trainer.WaitForLineAsync(l => l.StartsWith("saved step 5", StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        var clock = Stopwatch.StartNew();
        trainer.Signal(signal);
        var stopped = await trainer.WaitAsync(GracePeriod);
        clock.Stop();

        Assert.True(stopped.ExitCode == 143, stopped.ToString());
        Assert.True(clock.Elapsed < GracePeriod / 2, $"stopping took {clock.Elapsed.TotalSeconds:F1} s");
        var report = StoppableTrainer.LastLine(stopped, "STOPPED ");
        var step = report.GetProperty("step").GetInt64();
        Assert.True(step is > 5 and < 10, $"stopped at step {step}, not between the checkpoints of steps 5 and 10:\n{stopped}");
        Assert.Equal(step, report.GetProperty("savedStep").GetInt64());
        Assert.Equal(0, report.GetProperty("restartAttempt").GetInt32());
        Assert.True(File.Exists(StepFolder("j", step, "manifest.json")), stopped.ToString());

        // A preemption: the same RESTART_ATTEMPT again.
        var resumed = await TrainerProcess.RunAsync(_temp.Path, Pod("j"));

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(step, resumed.Result.GetProperty("resumedFromStep").GetInt64());
        Assert.Equal(await UninterruptedWeightsAsync(), resumed.Result.GetProperty("weightsSha256").GetString());
    }

    [Theory]
    [InlineData("00:00:30", "00:00:05")]
    [InlineData("00:00:01", "00:00:00.950")]
    public async Task Sigterm_LargeBackgroundSaveUploading_SavedStepTellsTheTruthAndTheRestartResumesFromIt(string gracePeriod, string margin)
    {
        var settings = new[]
        {
            ("Trainer__StepDelayMs", "20"), ("Trainer__PayloadMiB", "96"),
            ("Konduktor__Shutdown__GracePeriod", gracePeriod), ("Konduktor__Shutdown__Margin", margin),
        };
        using var trainer = new StoppableTrainer(_temp.Path, Pod("big", settings));
        await trainer.WaitForLineAsync(l => l.StartsWith("saved step 10", StringComparison.Ordinal), TimeSpan.FromSeconds(90));

        trainer.Signal(15);
        var stopped = await trainer.WaitAsync(GracePeriod);

        Assert.True(stopped.ExitCode == 143, stopped.ToString());
        var report = StoppableTrainer.LastLine(stopped, "STOPPED ");
        var step = report.GetProperty("step").GetInt64();
        var saved = report.GetProperty("savedStep").GetInt64();
        var committed = Directory.GetDirectories(_temp.Combine("store", "big", "rank-00000"), "step-*")
            .Where(d => File.Exists(Path.Combine(d, "manifest.json")))
            .Max(d => long.Parse(Path.GetFileName(d)["step-".Length..], CultureInfo.InvariantCulture));
        Assert.Equal(committed, saved);
        if (TimeSpan.Parse(gracePeriod, CultureInfo.InvariantCulture) == GracePeriod)
        {
            Assert.Equal(step, saved); // the drain had time: the step in progress was saved and everything before it committed
        }
        else
        {
            Assert.True(saved >= 5, stopped.ToString()); // step 5 was durable before step 10 could take the only slot
        }

        var resumed = await TrainerProcess.RunAsync(_temp.Path, Pod("big", ("Trainer__PayloadMiB", "96")));

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(saved, resumed.Result.GetProperty("resumedFromStep").GetInt64());
        Assert.Equal(await UninterruptedWeightsAsync(), resumed.Result.GetProperty("weightsSha256").GetString());
    }

    [Fact]
    public async Task Run_BackgroundAndSynchronous_ReportBlockedTimeAndSavesWithTheSameWeights()
    {
        var background = await TrainerProcess.RunAsync(_temp.Path, Pod("bg", ("Trainer__BackgroundSaves", "true")));
        var synchronous = await TrainerProcess.RunAsync(_temp.Path, Pod("sync", ("Trainer__BackgroundSaves", "false")));

        foreach (var run in new[] { background, synchronous })
        {
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Equal(4, run.Result.GetProperty("saves").GetInt32());
            Assert.True(run.Result.GetProperty("checkpointBlockedSeconds").GetDouble() > 0, run.ToString());
        }

        Assert.Equal(synchronous.Result.GetProperty("weightsSha256").GetString(), background.Result.GetProperty("weightsSha256").GetString());
        Assert.Contains(background.StdoutLines, l => l.StartsWith("saved step 20 in the background", StringComparison.Ordinal));
        Assert.True(File.Exists(StepFolder("bg", 20, "manifest.json")), "the final drain committed the last background save");
    }

    [Fact]
    public async Task LocalMode_CtrlC_StopsThePodTheSameWayAndTheLauncherReportsIt()
    {
        using var launcher = new StoppableTrainer(_temp.Path, new Dictionary<string, string>(), "--Trainer:StepDelayMs=300", "--Trainer:CrashAtStep=0");
        await launcher.WaitForLineAsync(l => l.StartsWith("[pod attempt 0] saved step 5", StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        launcher.Signal(2);
        var stopped = await launcher.WaitAsync(GracePeriod);

        Assert.True(stopped.ExitCode == 143, stopped.ToString());
        Assert.Contains(stopped.StdoutLines, l => l.StartsWith("[local konduktor] pod attempt 0 stopped by a signal (exit code 143)", StringComparison.Ordinal));
        Assert.DoesNotContain(stopped.StdoutLines, l => l.StartsWith("[pod attempt 1]", StringComparison.Ordinal));
        var report = StoppableTrainer.LastLine(stopped, "STOPPED ");
        Assert.Equal(report.GetProperty("step").GetInt64(), report.GetProperty("savedStep").GetInt64());
    }

    private Dictionary<string, string> Pod(string job, params (string Name, string Value)[] extra)
    {
        var environment = new Dictionary<string, string>
        {
            ["Konduktor__Checkpoints__Location"] = _temp.Location(),
            ["KONDUKTOR_JOB_NAME"] = job,
            ["JOB_COMPLETION_INDEX"] = "0",
            ["RESTART_ATTEMPT"] = "0",
            ["Trainer__CrashAtStep"] = "0",
            ["Konduktor__Checkpoints__Background__StagingDirectory"] = _temp.Combine("staging"),
        };
        foreach (var (name, value) in extra)
        {
            environment[name] = value;
        }

        return environment;
    }

    private async Task<string> UninterruptedWeightsAsync()
    {
        var run = await TrainerProcess.RunAsync(_temp.Path, Pod($"reference-{Guid.NewGuid():N}"));
        Assert.True(run.ExitCode == 0, run.ToString());
        return run.Result.GetProperty("weightsSha256").GetString()!;
    }

    private string StepFolder(string job, long step, string file) =>
        _temp.Combine("store", job, "rank-00000", $"step-{step:D12}", file);
}
