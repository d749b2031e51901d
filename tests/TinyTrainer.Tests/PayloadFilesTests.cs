using System.Text.Json;

namespace TinyTrainer.Tests;

/// <summary><c>Trainer:PayloadFiles</c>: the payload split into many files (a sharded state), saved and verified end to end.</summary>
public sealed class PayloadFilesTests : IDisposable
{
    private const int MiB = 1024 * 1024;

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Run_PayloadInSevenFiles_SavesShardsThatAddUpAndResumesExactly()
    {
        var crashed = await RunPodAsync("j", restartAttempt: 0);
        Assert.True(crashed.ExitCode == 3, crashed.ToString());
        var shards = Shards("j", 10);

        var resumed = await RunPodAsync("j", restartAttempt: 1);
        var reference = await RunPodAsync("reference", restartAttempt: 0, ("Trainer__CrashAtStep", "0"));

        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"payload/shard-{i:D5}.bin"), shards.Select(s => s.Name));
        Assert.Equal(MiB, shards.Sum(s => s.Length));
        Assert.InRange(shards.Max(s => s.Length) - shards.Min(s => s.Length), 0, 1);
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(10, resumed.Result.GetProperty("resumedFromStep").GetInt64());
        Assert.Equal(reference.Result.GetProperty("weightsSha256").GetString(), resumed.Result.GetProperty("weightsSha256").GetString());
    }

    [Fact]
    public async Task Run_OneShardBitFlippedInStep10_FallsBackToStep5()
    {
        var crashed = await RunPodAsync("j", restartAttempt: 0);
        Assert.True(crashed.ExitCode == 3, crashed.ToString());
        var shard = Shards("j", 10).Single(s => s.Name == "payload/shard-00003.bin");
        using (var file = new FileStream(StepFolder("j", 10, shard.Key), FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = shard.Length / 2;
            var original = file.ReadByte();
            file.Position = shard.Length / 2;
            file.WriteByte((byte)(original ^ 0x01));
        }

        var resumed = await RunPodAsync("j", restartAttempt: 1);

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(5, resumed.Result.GetProperty("resumedFromStep").GetInt64());
        Assert.Contains("skipped step 10 (ChecksumMismatch", resumed.Stdout, StringComparison.Ordinal);
    }

    private Task<TrainerRun> RunPodAsync(string job, int restartAttempt, params (string Name, string Value)[] extra)
    {
        var environment = new Dictionary<string, string>
        {
            ["Konduktor__Checkpoints__Location"] = _temp.Location(),
            ["KONDUKTOR_JOB_NAME"] = job,
            ["JOB_COMPLETION_INDEX"] = "0",
            ["RESTART_ATTEMPT"] = restartAttempt.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Trainer__PayloadMiB"] = "1",
            ["Trainer__PayloadFiles"] = "7",
        };
        foreach (var (name, value) in extra)
        {
            environment[name] = value;
        }

        return TrainerProcess.RunAsync(_temp.Path, environment);
    }

    private string StepFolder(string job, long step, string file) =>
        Path.Combine(_temp.Combine("store", job, "rank-00000", $"step-{step:D12}"), file);

    private List<(string Name, string Key, long Length)> Shards(string job, long step)
    {
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(StepFolder(job, step, "manifest.json")));
        return [.. manifest.RootElement.GetProperty("files").EnumerateArray()
            .Select(f => (Name: f.GetProperty("name").GetString()!, Key: f.GetProperty("key").GetString()!, Length: f.GetProperty("length").GetInt64()))
            .Where(f => f.Name.StartsWith("payload", StringComparison.Ordinal))
            .OrderBy(f => f.Name, StringComparer.Ordinal)];
    }
}
