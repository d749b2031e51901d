namespace TinyTrainer.Tests;

/// <summary>`dotnet run --project samples/TinyTrainer`: the program plays Konduktor and runs itself as the pod.</summary>
public sealed class LocalModeTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Run_Twice_CrashesRestartsAndFinishesEachTime()
    {
        for (var run = 0; run < 2; run++)
        {
            var local = await TrainerProcess.RunAsync(_temp.Path, new Dictionary<string, string>());

            Assert.True(local.ExitCode == 0, local.ToString());
            Assert.Contains(local.StdoutLines, l => l.StartsWith("[pod attempt 0] crashing on purpose at step 12", StringComparison.Ordinal));
            Assert.Contains(local.StdoutLines, l => l.StartsWith("[pod attempt 1] attempt 1: resuming from step 10", StringComparison.Ordinal));
            Assert.Contains(local.StdoutLines, l => l.StartsWith("[pod attempt 1] saved step 20", StringComparison.Ordinal));
            var result = local.Result;
            Assert.Equal(20, result.GetProperty("step").GetInt64());
            Assert.Equal(10, result.GetProperty("resumedFromStep").GetInt64());
            Assert.Equal(1, result.GetProperty("restartAttempt").GetInt32());
        }

        // Each invocation is a job of its own.
        Assert.Equal(2, Directory.GetDirectories(_temp.Combine(".checkpoints"), "tiny-*").Length);
    }

    [Fact]
    public async Task Run_CrashEveryAttempt_GivesUpAfterMaxRestarts()
    {
        // CrashAtStep applies only to attempt 0, so every later attempt succeeds; a crash on each attempt needs a
        // failure that does not depend on the attempt: a store path under a file, which fails at the first write.
        File.WriteAllText(_temp.Combine("not-a-directory"), "");
        var local = await TrainerProcess.RunAsync(
            _temp.Path, new Dictionary<string, string>(), $"--Konduktor:Checkpoints:Location={_temp.Combine("not-a-directory", "checkpoints")}", "--Trainer:MaxRestarts=1");

        Assert.NotEqual(0, local.ExitCode);
        Assert.Contains(local.StdoutLines, l => l.Contains("giving up after 1 restart(s)", StringComparison.Ordinal));
        Assert.DoesNotContain(local.StdoutLines, l => l.StartsWith("[pod attempt 2]", StringComparison.Ordinal));
    }
}
