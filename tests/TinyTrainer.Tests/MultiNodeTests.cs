using static TinyTrainer.Tests.TrainerGang;

namespace TinyTrainer.Tests;

/// <summary>The pod program with NUM_NODES = 2 on the file system: data-parallel training and collective checkpoints.</summary>
public sealed class MultiNodeTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private Dictionary<string, string> Environment() => new() { ["Konduktor__Checkpoints__Location"] = _temp.Combine("store") };

    private Task<IReadOnlyList<string>> KeysAsync(string prefix)
    {
        var root = _temp.Combine("store");
        var folder = Path.Combine(root, prefix);
        IReadOnlyList<string> keys = Directory.Exists(folder)
            ? [.. Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))]
            : [];
        return Task.FromResult(keys);
    }

    [Fact]
    public async Task TwoRanks_Rank1CrashesAfterStep10_BothResumeFromStep5WithTheUninterruptedWeights() =>
        await CrashOfOneRankAsync(_temp.Path, Environment(), KeysAsync);

    [Fact]
    public async Task TwoRanks_FlippedByteInOnePartOfTheNewestStep_BothFallBackInTheSameAttempt()
    {
        var straight = SharedWeights(await RunAsync(_temp.Path, Environment(), "straight", 0));
        var first = await RunAsync(_temp.Path, new Dictionary<string, string>(Environment()) { ["Trainer__Steps"] = "10" }, "flip", 0);
        Assert.All(first, r => Assert.True(r.ExitCode == 0, r.ToString()));
        var weights = (await KeysAsync("flip/job/step-000000000010/rank-00001/")).Single(k => k.EndsWith("/weights.bin", StringComparison.Ordinal));
        var path = _temp.Combine("store", weights);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[17] ^= 0x10;
        await File.WriteAllBytesAsync(path, bytes);

        var resumed = await RunAsync(_temp.Path, Environment(), "flip", 1);

        Assert.Equal(straight, SharedWeights(resumed));
        Assert.All(resumed, r => Assert.Equal(5, r.Result.GetProperty("resumedFromStep").GetInt64()));
        Assert.Contains("PartCorrupt: rank 1 found its part corrupt", resumed[0].Stdout, StringComparison.Ordinal);
        Assert.Contains("ChecksumMismatch", resumed[1].Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoRanks_Uninterrupted_EveryRankReportsTheSameWeights()
    {
        var ranks = await RunAsync(_temp.Path, Environment(), "same", 0);

        SharedWeights(ranks);
        Assert.All(ranks, r => Assert.Equal(20, r.Result.GetProperty("step").GetInt64()));
        Assert.True(File.Exists(_temp.Combine("store", "same", "job", "step-000000000020", "manifest.json")));
    }

    [Fact]
    public async Task LocalMode_TwoNodes_ShowsBothPodsTheGangRestartAndOneHash()
    {
        var port = System.Net.Sockets.TcpListener.Create(0);
        port.Start();
        var free = ((System.Net.IPEndPoint)port.LocalEndpoint).Port;
        port.Stop();

        var local = await TrainerProcess.RunAsync(
            _temp.Path, new Dictionary<string, string>(), "--Trainer:Nodes=2", $"--Trainer:MasterPort={free}", "--Konduktor:Checkpoints:Collective:Timeout=00:00:03");

        Assert.True(local.ExitCode == 0, local.ToString());
        Assert.Contains(local.StdoutLines, l => l.StartsWith("[pod attempt 0 rank 0]", StringComparison.Ordinal));
        Assert.Contains(local.StdoutLines, l => l.StartsWith("[pod attempt 0 rank 1] crashing on purpose at step 12", StringComparison.Ordinal));
        Assert.Contains(local.StdoutLines, l => l.StartsWith("[local konduktor] gang restart: all 2 pods again with RESTART_ATTEMPT=1", StringComparison.Ordinal));
        Assert.Contains(local.StdoutLines, l => l.StartsWith("[pod attempt 1 rank 0] attempt 1: resuming from step 10", StringComparison.Ordinal));
        Assert.Contains(local.StdoutLines, l => l.StartsWith("[pod attempt 1 rank 1] attempt 1: resuming from step 10", StringComparison.Ordinal));
        var results = local.StdoutLines.Where(l => l.Contains("] RESULT ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, results.Count);
        var hashes = results.Select(l => System.Text.Json.JsonDocument.Parse(l[(l.IndexOf("RESULT ", StringComparison.Ordinal) + 7)..]).RootElement.GetProperty("weightsSha256").GetString()).Distinct();
        Assert.Single(hashes);
    }
}
