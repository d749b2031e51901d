using System.Globalization;

using TinyTrainer.Tests;

namespace Konduktor.Storage.Cli.Tests;

/// <summary>
/// The tool on what the sample wrote, on any store: the crash-and-resume run of <c>samples/TinyTrainer</c> (a pod that
/// crashes at step 12, then its restart), then <c>ls</c>, <c>verify</c>, a flipped byte, and <c>pull</c> past it.
/// </summary>
internal static class SampleCheckpointsScenario
{
    /// <summary>Runs the scenario.</summary>
    /// <param name="work">The pods' working directory (their HOME is <c>{work}/.home</c>).</param>
    /// <param name="checkpoints">The location, opened like the tool opens it; the sample's job is its run.</param>
    /// <param name="pod">The pod environment for a restart attempt, beside the job name and rank.</param>
    /// <param name="cli">Runs the tool with the store's connection options.</param>
    public static async Task RunAsync(
        string work, Checkpoints checkpoints, Func<int, Dictionary<string, string>> pod, Func<string[], Task<CliResult>> cli)
    {
        const string run = Checkpoints.Run;
        var crashed = await TrainerProcess.RunAsync(work, Pod(pod, 0));
        var resumed = await TrainerProcess.RunAsync(work, Pod(pod, 1));
        Assert.True(crashed.ExitCode == 3, crashed.ToString());
        Assert.True(resumed.ExitCode == 0, resumed.ToString());

        // The run's outputs are reported as outputs, not as a scope of checkpoints.
        var runs = await cli(["ls", checkpoints.Location, "--json"]);
        Assert.True(runs.ExitCode == 0, runs.ToString());
        var listed = runs.Json.GetProperty("runs").EnumerateArray().Single(r => r.GetProperty("run").GetString() == run);
        Assert.Equal(["rank-00000"], listed.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        Assert.True(listed.GetProperty("outputs").GetBoolean(), runs.ToString());

        var ls = await cli(["ls", checkpoints.Location, "--run", run, "--json"]);
        Assert.True(ls.ExitCode == 0, ls.ToString());
        var steps = ls.Json.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal([20L, 15, 10], steps.Select(s => s.GetProperty("step").GetInt64())); // the sample keeps the last three
        Assert.All(steps, s => Assert.Equal("committed", s.GetProperty("state").GetString()));
        Assert.All(steps, s => Assert.True(s.GetProperty("files").GetInt32() > 0 && s.GetProperty("bytes").GetInt64() > 0));
        Assert.All(steps, s => Assert.NotEmpty(s.GetProperty("metadata").EnumerateObject()));

        var verify = await cli(["verify", checkpoints.Location, "--run", run, "--all"]);
        Assert.True(verify.ExitCode == 0, verify.ToString());

        // Flip a byte of the newest step's largest file, as bit rot would.
        var newest = (await checkpoints.ReadStepAsync(20)).MaxBy(f => f.Value.Length).Key;
        await checkpoints.FlipByteAsync(20, newest);
        var corrupt = await cli(["verify", checkpoints.Location, "--run", run]);
        Assert.True(corrupt.ExitCode == 1, corrupt.ToString());
        Assert.Contains($"'{newest}'", corrupt.Error, StringComparison.Ordinal);
        Assert.Contains("step 20", corrupt.Error, StringComparison.Ordinal);

        var destination = Path.Combine(work, "pulled");
        var pull = await cli(["pull", checkpoints.Location, "--run", run, destination]);
        Assert.True(pull.ExitCode == 0, pull.ToString());
        Assert.Contains("skipped step 20", pull.Error, StringComparison.Ordinal);
        Assert.Contains("pulled step 15", pull.Out, StringComparison.Ordinal);
        var saved = await checkpoints.ReadStepAsync(15);
        var pulled = Directory.GetFiles(destination, "*", SearchOption.AllDirectories);
        Assert.Equal(saved.Count, pulled.Length);
        foreach (var file in pulled)
        {
            var name = Path.GetRelativePath(destination, file).Replace(Path.DirectorySeparatorChar, '/');
            Assert.Equal(saved[name], await File.ReadAllBytesAsync(file));
        }
    }

    private static Dictionary<string, string> Pod(Func<int, Dictionary<string, string>> pod, int restartAttempt)
    {
        var environment = pod(restartAttempt);
        environment["KONDUKTOR_JOB_NAME"] = Checkpoints.Run;
        environment["RESTART_ATTEMPT"] = restartAttempt.ToString(CultureInfo.InvariantCulture);
        environment["JOB_COMPLETION_INDEX"] = "0";
        environment["NUM_NODES"] = "1";
        return environment;
    }
}
