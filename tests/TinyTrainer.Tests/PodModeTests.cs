using System.Text.Json;

namespace TinyTrainer.Tests;

/// <summary>The pod program, run the way Konduktor runs it: one process per attempt, KONDUKTOR_JOB_NAME set.</summary>
public sealed class PodModeTests : IDisposable
{
    private const int MiB = 1024 * 1024;

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Run_CrashThenRestart_ResumesFromStep10WithExactWeights()
    {
        var crashed = await RunPodAsync("j", restartAttempt: 0);

        Assert.True(crashed.ExitCode == 3, crashed.ToString());
        Assert.Contains("crashing on purpose at step 12", crashed.Stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(StepFolder("j", 0, 5, "manifest.json")), crashed.ToString());
        Assert.True(File.Exists(StepFolder("j", 0, 10, "manifest.json")), crashed.ToString());
        Assert.False(Directory.Exists(StepFolder("j", 0, 15)));

        var resumed = await RunPodAsync("j", restartAttempt: 1);

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        var result = resumed.Result;
        Assert.Equal(10, result.GetProperty("resumedFromStep").GetInt64());
        Assert.Equal(20, result.GetProperty("step").GetInt64());
        Assert.Equal(1, result.GetProperty("restartAttempt").GetInt32());
        Assert.Equal(await UninterruptedWeightsAsync(), result.GetProperty("weightsSha256").GetString());
        Assert.True(File.Exists(StepFolder("j", 0, 20, "manifest.json")));
    }

    [Fact]
    public async Task Run_Uninterrupted_StartsFreshAndReportsResult()
    {
        var run = await RunPodAsync("u", restartAttempt: 0, ("Trainer__CrashAtStep", "0"));

        Assert.True(run.ExitCode == 0, run.ToString());
        var result = run.Result;
        Assert.Equal(JsonValueKind.Null, result.GetProperty("resumedFromStep").ValueKind);
        Assert.Equal(20, result.GetProperty("step").GetInt64());
        Assert.True(result.GetProperty("loss").GetDouble() > 0);
        Assert.Matches("^[0-9a-f]{64}$", result.GetProperty("weightsSha256").GetString());
        Assert.Single(run.StdoutLines, l => l.StartsWith("RESULT ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_SecondOfTwoNodesPerRank_WritesUnderRank00001()
    {
        var run = await RunPodAsync(
            "j", restartAttempt: 0, ("JOB_COMPLETION_INDEX", "1"), ("NUM_NODES", "2"), ("Trainer__CrashAtStep", "0"), ("Konduktor__Checkpoints__Mode", "PerRank"));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.True(File.Exists(StepFolder("j", 1, 20, "manifest.json")), run.ToString());
        Assert.False(Directory.Exists(_temp.Combine("store", "j", "rank-00000")));
    }

    [Fact]
    public async Task Run_WithPayloadCrashThenRestart_SavesAndVerifiesPayload()
    {
        var crashed = await RunPodAsync("j", restartAttempt: 0, ("Trainer__PayloadMiB", "3"));
        Assert.True(crashed.ExitCode == 3, crashed.ToString());
        Assert.Equal(3 * MiB, PayloadEntry("j", 10).GetProperty("length").GetInt64());

        var resumed = await RunPodAsync("j", restartAttempt: 1, ("Trainer__PayloadMiB", "3"));

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(10, resumed.Result.GetProperty("resumedFromStep").GetInt64());
        Assert.Equal(await UninterruptedWeightsAsync(), resumed.Result.GetProperty("weightsSha256").GetString());
    }

    [Fact]
    public async Task Run_PayloadBitFlippedInStep10_FallsBackToStep5()
    {
        var crashed = await RunPodAsync("j", restartAttempt: 0, ("Trainer__PayloadMiB", "3"));
        Assert.True(crashed.ExitCode == 3, crashed.ToString());
        var payload = StepFolder("j", 0, 10, PayloadEntry("j", 10).GetProperty("key").GetString()!);
        using (var file = new FileStream(payload, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = (3 * MiB) / 2;
            var original = file.ReadByte();
            file.Position = (3 * MiB) / 2;
            file.WriteByte((byte)(original ^ 0x10));
        }

        var resumed = await RunPodAsync("j", restartAttempt: 1, ("Trainer__PayloadMiB", "3"));

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(5, resumed.Result.GetProperty("resumedFromStep").GetInt64());
        Assert.Contains("skipped step 10 (ChecksumMismatch", resumed.Stdout, StringComparison.Ordinal);
        Assert.Equal(20, resumed.Result.GetProperty("step").GetInt64());
        Assert.Equal(await UninterruptedWeightsAsync(), resumed.Result.GetProperty("weightsSha256").GetString());
    }

    [Fact]
    public async Task Run_PayloadInSevenFiles_SavesShardsThatAddUpAndResumesExactly()
    {
        var crashed = await RunPodAsync("j", restartAttempt: 0, SevenShards);
        Assert.True(crashed.ExitCode == 3, crashed.ToString());
        var shards = Shards("j", 10);

        var resumed = await RunPodAsync("j", restartAttempt: 1, SevenShards);

        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"payload/shard-{i:D5}.bin"), shards.Select(s => s.Name));
        Assert.Equal(MiB, shards.Sum(s => s.Length));
        Assert.InRange(shards.Max(s => s.Length) - shards.Min(s => s.Length), 0, 1);
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(10, resumed.Result.GetProperty("resumedFromStep").GetInt64());
        Assert.Equal(await UninterruptedWeightsAsync(), resumed.Result.GetProperty("weightsSha256").GetString());
    }

    [Fact]
    public async Task Run_OneOfSevenPayloadFilesBitFlippedInStep10_FallsBackToStep5()
    {
        var crashed = await RunPodAsync("j", restartAttempt: 0, SevenShards);
        Assert.True(crashed.ExitCode == 3, crashed.ToString());
        var shard = Shards("j", 10).Single(s => s.Name == "payload/shard-00003.bin");
        using (var file = new FileStream(StepFolder("j", 0, 10, shard.Key), FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = shard.Length / 2;
            var original = file.ReadByte();
            file.Position = shard.Length / 2;
            file.WriteByte((byte)(original ^ 0x01));
        }

        var resumed = await RunPodAsync("j", restartAttempt: 1, SevenShards);

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(5, resumed.Result.GetProperty("resumedFromStep").GetInt64());
        Assert.Contains("skipped step 10 (ChecksumMismatch", resumed.Stdout, StringComparison.Ordinal);
    }

    private static (string, string)[] SevenShards => [("Trainer__PayloadMiB", "1"), ("Trainer__PayloadFiles", "7")];

    private Task<TrainerRun> RunPodAsync(string job, int restartAttempt, params (string Name, string Value)[] extra)
    {
        var environment = new Dictionary<string, string>
        {
            ["Konduktor__Checkpoints__Location"] = _temp.Location(),
            ["KONDUKTOR_JOB_NAME"] = job,
            ["JOB_COMPLETION_INDEX"] = "0",
            ["RESTART_ATTEMPT"] = restartAttempt.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (name, value) in extra)
        {
            environment[name] = value;
        }

        return TrainerProcess.RunAsync(_temp.Path, environment);
    }

    /// <summary>The weights' hash after an uninterrupted run of the same configuration, in a run of its own.</summary>
    private async Task<string> UninterruptedWeightsAsync()
    {
        var run = await RunPodAsync("reference", restartAttempt: 0, ("Trainer__CrashAtStep", "0"));
        Assert.True(run.ExitCode == 0, run.ToString());
        return run.Result.GetProperty("weightsSha256").GetString()!;
    }

    private string StepFolder(string job, int rank, long step, string? file = null)
    {
        var folder = _temp.Combine("store", job, $"rank-{rank:D5}", $"step-{step:D12}");
        return file is null ? folder : Path.Combine(folder, file);
    }

    private List<(string Name, string Key, long Length)> Shards(string job, long step)
    {
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(StepFolder(job, 0, step, "manifest.json")));
        return [.. manifest.RootElement.GetProperty("files").EnumerateArray()
            .Select(f => (Name: f.GetProperty("name").GetString()!, Key: f.GetProperty("key").GetString()!, Length: f.GetProperty("length").GetInt64()))
            .Where(f => f.Name.StartsWith("payload/", StringComparison.Ordinal))
            .OrderBy(f => f.Name, StringComparer.Ordinal)];
    }

    private JsonElement PayloadEntry(string job, long step)
    {
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(StepFolder(job, 0, step, "manifest.json")));
        return manifest.RootElement.GetProperty("files").EnumerateArray()
            .Single(f => f.GetProperty("name").GetString() == "payload.bin").Clone();
    }
}
