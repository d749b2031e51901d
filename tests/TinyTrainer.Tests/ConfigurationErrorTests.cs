namespace TinyTrainer.Tests;

/// <summary>Bad variables and settings: one clear message naming the culprit, exit code 2, nothing written.</summary>
public sealed class ConfigurationErrorTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(new[] { "RESTART_ATTEMPT=abc" }, "RESTART_ATTEMPT", "abc")]
    [InlineData(new[] { "JOB_COMPLETION_INDEX=1", "NUM_NODES=1" }, "JOB_COMPLETION_INDEX", "1")]
    [InlineData(new[] { "Konduktor__Checkpoints__Location=ftp://x/y" }, "Konduktor:Checkpoints:Location", "ftp://x/y")]
    [InlineData(new[] { "Konduktor__Checkpoints__BufferSize=abc" }, "Konduktor:Checkpoints:BufferSize", "abc")]
    [InlineData(new[] { "Konduktor__Checkpoints__Retention__KeepLast=-1" }, "Retention:KeepLast", "-1")]
    [InlineData(new[] { "Trainer__Steps=-1" }, "Trainer:Steps", "-1")]
    [InlineData(new[] { "Trainer__CheckpointEvery=0" }, "Trainer:CheckpointEvery", "0")]
    [InlineData(new[] { "Trainer__PayloadMiB=lots" }, "Trainer:PayloadMiB", "lots")]
    public async Task Run_InvalidInput_ExitsWith2NamingKeyAndValue(string[] assignments, string key, string value)
    {
        var environment = new Dictionary<string, string>
        {
            ["Konduktor__Checkpoints__Location"] = _temp.Location(),
            ["KONDUKTOR_JOB_NAME"] = "j",
            ["RESTART_ATTEMPT"] = "0",
        };
        foreach (var assignment in assignments)
        {
            var (name, setting) = (assignment[..assignment.IndexOf('=', StringComparison.Ordinal)], assignment[(assignment.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            environment[name] = setting;
        }

        var run = await TrainerProcess.RunAsync(_temp.Path, environment);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains(key, run.Stderr, StringComparison.Ordinal);
        Assert.Contains($"'{value}'", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("RESULT", run.Stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_temp.Combine("store")), "the store was written to");
        Assert.False(Directory.Exists(_temp.Combine(".checkpoints")), "the default store was written to");
    }

    [Fact]
    public async Task LocalMode_InvalidTrainerValue_ExitsWith2WithoutStartingPods()
    {
        var run = await TrainerProcess.RunAsync(_temp.Path, new Dictionary<string, string>(), "--Trainer:Steps=0");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("Trainer:Steps = '0'", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("[pod attempt", run.Stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_temp.Combine(".checkpoints")));
    }
}
