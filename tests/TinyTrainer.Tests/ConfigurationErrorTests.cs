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
    [InlineData(new[] { "Trainer__BackgroundSaves=maybe" }, "Trainer:BackgroundSaves", "maybe")]
    [InlineData(new[] { "Trainer__StepDelayMs=-5" }, "Trainer:StepDelayMs", "-5")]
    [InlineData(new[] { "Konduktor__Checkpoints__Background__MaxInFlight=0" }, "Konduktor:Checkpoints:Background:MaxInFlight", "0")]
    [InlineData(new[] { "Konduktor__Shutdown__Margin=00:01:00" }, "Konduktor:Shutdown:Margin", "00:01:00")]
    [InlineData(new[] { "Trainer__PayloadFiles=0" }, "Trainer:PayloadFiles", "0")]
    [InlineData(new[] { "Konduktor__Outputs__LocalDirectory=/etc/passwd" }, "Konduktor:Outputs:LocalDirectory", "/etc/passwd")]
    [InlineData(new[] { "Konduktor__Checkpoints__S3__Concurrency=99" }, "Konduktor:Checkpoints:S3:Concurrency", "99")]
    [InlineData(new[] { "Konduktor__Checkpoints__Gcs__Concurrency=0" }, "Konduktor:Checkpoints:Gcs:Concurrency", "0")]
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
        Assert.False(Directory.Exists(_temp.Combine(".outputs")), "the pod's outputs folder was created");
    }

    [Theory]
    [InlineData("s3:/bucket/x")]
    [InlineData("s3:bucket/x")]
    [InlineData("gs:/bucket/x")]
    public async Task PodMode_MistypedLocation_ExitsWith2OneLineNothingWritten(string location)
    {
        // An empty working directory, HOME outside it: whatever the run writes there would be a local store.
        var work = Directory.CreateDirectory(_temp.Combine("work")).FullName;
        var environment = new Dictionary<string, string>
        {
            ["Konduktor__Checkpoints__Location"] = location,
            ["KONDUKTOR_JOB_NAME"] = "j",
            ["RESTART_ATTEMPT"] = "0",
            ["HOME"] = _temp.Combine("home"),
        };

        var run = await TrainerProcess.RunAsync(work, environment);

        Assert.True(run.ExitCode == 2, run.ToString());
        var output = (run.Stdout + "\n" + run.Stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var error = Assert.Single(output);
        Assert.StartsWith("configuration error:", error, StringComparison.Ordinal);
        Assert.Contains("Konduktor:Checkpoints:Location", error, StringComparison.Ordinal);
        Assert.Contains($"'{location}'", error, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(work, "*", SearchOption.AllDirectories));
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
