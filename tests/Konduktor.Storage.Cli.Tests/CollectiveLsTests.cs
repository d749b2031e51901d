namespace Konduktor.Storage.Cli.Tests;

/// <summary><c>ls --run</c> on a collective run: its steps under <c>job</c>, each rank's part, and the ranks missing from an uncommitted step.</summary>
public sealed class CollectiveLsTests : IDisposable
{
    private const string Run = "collective-job";
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Ls_CollectiveRun_ShowsStepsWithPartsAndMissingRanks()
    {
        var location = _temp.Combine("store");
        var store = new FileSystemCheckpointStore(location);
        // Step 10: both ranks save, rank 0 commits the step. Step 20: rank 1 never saves, so rank 0 gives up waiting.
        await Task.WhenAll(Rank(store, 0, TimeSpan.FromMinutes(1)).SaveAsync(10, Files(10)), Rank(store, 1, TimeSpan.FromMinutes(1)).SaveAsync(10, Files(11)));
        await Assert.ThrowsAsync<CollectiveTimeoutException>(() => Rank(store, 0, TimeSpan.FromMilliseconds(200)).SaveAsync(20, Files(20)));

        var json = await CliRunner.RunAsync(new Dictionary<string, string?>(), "ls", location, "--run", Run, "--json");
        var plain = await CliRunner.RunAsync(new Dictionary<string, string?>(), "ls", location, "--run", Run);

        Assert.True(json.ExitCode == 0, json.ToString());
        var steps = json.Json.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal([20L, 10L], steps.Select(s => s.GetProperty("step").GetInt64()));
        Assert.All(steps, s => Assert.Equal("job", s.GetProperty("scope").GetString()));
        Assert.Equal("uncommitted", steps[0].GetProperty("state").GetString());
        Assert.Equal([0], steps[0].GetProperty("parts").EnumerateArray().Select(p => p.GetProperty("rank").GetInt32()));
        Assert.Equal([1], steps[0].GetProperty("missingRanks").EnumerateArray().Select(r => r.GetInt32()));
        Assert.Equal("committed", steps[1].GetProperty("state").GetString());
        Assert.Equal([0, 1], steps[1].GetProperty("parts").EnumerateArray().Select(p => p.GetProperty("rank").GetInt32()));
        Assert.Equal(2, steps[1].GetProperty("nodes").GetInt32());
        Assert.Empty(steps[1].GetProperty("missingRanks").EnumerateArray());
        Assert.True(plain.ExitCode == 0, plain.ToString());
        Assert.Contains("parts 0 of 2: ranks 1 have no part", plain.Out, StringComparison.Ordinal);
        Assert.Contains("parts 0,1 of 2", plain.Out, StringComparison.Ordinal);
    }

    private static CheckpointManager Rank(ICheckpointStore store, int rank, TimeSpan timeout) => new(
        store,
        JobContext.Create(rank: rank, nodeCount: 2, jobName: Run),
        new CheckpointManagerOptions { Collective = new CollectiveOptions { Timeout = timeout } });

    private static Dictionary<string, Stream> Files(int seed) => new() { ["model.bin"] = new MemoryStream(Checkpoints.Bytes(4096, seed)) };
}
