using TinyTrainer.Tests;

namespace Konduktor.Storage.Cli.Tests;

/// <summary>The tool on what the sample wrote: the crash-and-resume run of <c>samples/TinyTrainer</c> on the file system.</summary>
public sealed class SampleCheckpointsTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task SampleRun_LsVerifyFlipPull()
    {
        // The sample as Konduktor runs it: a pod that crashes at step 12, then its restart, which resumes and finishes.
        var store = _temp.Combine("checkpoints");
        const string run = "tiny-cli";
        var crashed = await TrainerProcess.RunAsync(_temp.Path, Pod(store, run, restartAttempt: 0));
        var resumed = await TrainerProcess.RunAsync(_temp.Path, Pod(store, run, restartAttempt: 1));
        Assert.True(crashed.ExitCode != 0, crashed.ToString());
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        var environment = new Dictionary<string, string?>();

        var ls = await CliRunner.RunAsync(environment, "ls", store, "--run", run, "--json");
        Assert.True(ls.ExitCode == 0, ls.ToString());
        var steps = ls.Json.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal(20, steps[0].GetProperty("step").GetInt64());
        Assert.All(steps, s => Assert.Equal("committed", s.GetProperty("state").GetString()));
        Assert.All(steps, s => Assert.True(s.GetProperty("files").GetInt32() > 0 && s.GetProperty("bytes").GetInt64() > 0));
        Assert.All(steps, s => Assert.NotEmpty(s.GetProperty("metadata").EnumerateObject()));

        var verify = await CliRunner.RunAsync(environment, "verify", store, "--run", run, "--all");
        Assert.True(verify.ExitCode == 0, verify.ToString());

        // Flip a byte of the newest step's largest data file, as bit rot would.
        var newest = Directory.GetFiles(Path.Combine(store, run, "rank-00000", "step-000000000020"), "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != "manifest.json").MaxBy(f => new FileInfo(f).Length)!;
        var bytes = await File.ReadAllBytesAsync(newest);
        bytes[bytes.Length / 2] ^= 1;
        await File.WriteAllBytesAsync(newest, bytes);

        var corrupt = await CliRunner.RunAsync(environment, "verify", store, "--run", run);
        Assert.True(corrupt.ExitCode == 1, corrupt.ToString());
        Assert.Contains($"'{Path.GetFileName(newest)}'", corrupt.Error, StringComparison.Ordinal);
        Assert.Contains("step 20", corrupt.Error, StringComparison.Ordinal);

        var destination = _temp.Combine("pulled");
        var pull = await CliRunner.RunAsync(environment, "pull", store, "--run", run, destination);
        Assert.True(pull.ExitCode == 0, pull.ToString());
        Assert.Contains("skipped step 20", pull.Error, StringComparison.Ordinal);
        var previous = steps[1].GetProperty("step").GetInt64();
        Assert.Contains($"pulled step {previous}", pull.Out, StringComparison.Ordinal);
        var stepFolder = Path.Combine(store, run, "rank-00000", $"step-{previous:D12}");
        var files = Directory.GetFiles(destination, "*", SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        foreach (var pulled in files)
        {
            var name = Path.GetRelativePath(destination, pulled);
            var saved = Assert.Single(Directory.GetDirectories(stepFolder), d => File.Exists(Path.Combine(d, name)));
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(saved, name)), await File.ReadAllBytesAsync(pulled));
        }
    }

    private static Dictionary<string, string> Pod(string store, string run, int restartAttempt) => new()
    {
        ["KONDUKTOR_JOB_NAME"] = run,
        ["RESTART_ATTEMPT"] = restartAttempt.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["JOB_COMPLETION_INDEX"] = "0",
        ["NUM_NODES"] = "1",
        ["Konduktor__Checkpoints__Location"] = store,
    };
}
