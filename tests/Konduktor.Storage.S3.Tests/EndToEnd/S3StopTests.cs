using System.Globalization;

using TinyTrainer.Tests;

namespace Konduktor.Storage.S3.Tests;

/// <summary>
/// SIGTERM to the sample's pod program on RadosGW, as Kubernetes sends it before a preemption: the step in progress is
/// saved (waiting for a large background upload first), the pod exits 143 well within 30 s, and a restart resumes from
/// the step it reported.
/// </summary>
[Collection("RadosGW")]
public sealed class S3StopTests : IDisposable
{
    private static readonly TimeSpan GracePeriod = TimeSpan.FromSeconds(30);
    private readonly RadosGwServer _server;
    private readonly string _work = Path.Combine(Path.GetTempPath(), "konduktor-s3-stop", Guid.NewGuid().ToString("N"));
    private readonly string _prefix = $"stop-{Guid.NewGuid():N}";

    public S3StopTests(RadosGwServer server)
    {
        _server = server;
        var aws = Path.Combine(_work, ".home", ".aws");
        Directory.CreateDirectory(aws);
        File.WriteAllText(Path.Combine(aws, "credentials"), $"[default]\naws_access_key_id = {server.AccessKey}\naws_secret_access_key = {server.SecretKey}\n");
        File.WriteAllText(Path.Combine(aws, "config"), $"[default]\nregion = {RadosGwServer.Region}\n");
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Theory]
    [InlineData(0, 300)]
    [InlineData(48, 300)]
    public async Task Sigterm_BetweenCheckpoints_SavesTheStepInProgressExits143AndTheRestartResumesExactly(int payloadMiB, int stepDelayMs)
    {
        await S3TestStores.EnsureBucketAsync(_server);
        var settings = new[] { ("Trainer__PayloadMiB", payloadMiB.ToString(CultureInfo.InvariantCulture)), ("Trainer__StepDelayMs", stepDelayMs.ToString(CultureInfo.InvariantCulture)) };
        using var trainer = new StoppableTrainer(_work, Pod("stopped", settings));
        await trainer.WaitForLineAsync(l => l.StartsWith("saved step 5", StringComparison.Ordinal), TimeSpan.FromSeconds(120));

        var clock = System.Diagnostics.Stopwatch.StartNew();
        trainer.Signal(15);
        var stopped = await trainer.WaitAsync(GracePeriod);
        clock.Stop();

        Assert.True(stopped.ExitCode == 143, stopped.ToString());
        Assert.True(clock.Elapsed < GracePeriod * 2 / 3, $"stopping took {clock.Elapsed.TotalSeconds:F1} s");
        var report = StoppableTrainer.LastLine(stopped, "STOPPED ");
        var step = report.GetProperty("step").GetInt64();
        Assert.True(step % 5 != 0, $"stopped at step {step}, a checkpoint step:\n{stopped}");
        Assert.Equal(step, report.GetProperty("savedStep").GetInt64());
        Assert.Equal(step, (await CommittedStepsAsync("stopped")).Max());

        var resumed = await TrainerProcess.RunAsync(_work, Pod("stopped", settings[..1]));
        var uninterrupted = await TrainerProcess.RunAsync(_work, Pod("straight", settings[..1]));

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(step, resumed.Result.GetProperty("resumedFromStep").GetInt64());
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.ToString());
        Assert.Equal(uninterrupted.Result.GetProperty("weightsSha256").GetString(), resumed.Result.GetProperty("weightsSha256").GetString());
    }

    private Dictionary<string, string> Pod(string job, params (string Key, string Value)[] settings)
    {
        var environment = new Dictionary<string, string>
        {
            ["KONDUKTOR_JOB_NAME"] = job,
            ["RESTART_ATTEMPT"] = "0",
            ["JOB_COMPLETION_INDEX"] = "0",
            ["NUM_NODES"] = "1",
            ["Trainer__CrashAtStep"] = "0",
            ["Konduktor__Checkpoints__Location"] = $"s3://{S3TestStores.Bucket}/{_prefix}",
            ["Konduktor__Checkpoints__Background__StagingDirectory"] = Path.Combine(_work, "staging"),
            ["AWS_ENDPOINT_URL_S3"] = _server.Endpoint.ToString(),
        };
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        return environment;
    }

    /// <summary>The committed steps of a job, as `aws s3 ls` shows them: what any user would see in the bucket.</summary>
    private async Task<List<long>> CommittedStepsAsync(string job)
    {
        var listing = await _server.RunAwsCliAsync("s3", "ls", "--recursive", $"s3://{S3TestStores.Bucket}/{_prefix}/{job}/");
        Assert.True(listing.ExitCode == 0, listing.StdErr);
        return [.. listing.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.TrimEnd().EndsWith("/manifest.json", StringComparison.Ordinal))
            .Select(l => long.Parse(l.TrimEnd().Split('/')[^2]["step-".Length..], CultureInfo.InvariantCulture))];
    }
}
