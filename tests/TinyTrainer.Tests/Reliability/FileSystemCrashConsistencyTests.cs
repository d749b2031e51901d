using Konduktor.Storage.Reliability;
using Konduktor.Storage.Reliability.CommitRace;
using Konduktor.Storage.Reliability.KillCampaign;

using Xunit.Abstractions;

namespace TinyTrainer.Tests.Reliability;

/// <summary>
/// The short form of the crash-consistency campaign on the file-system store (eng/reliability.sh runs the full one),
/// and commits racing across processes, where no in-process lock can serialise them.
/// </summary>
public sealed class FileSystemCrashConsistencyTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Pod_KilledAtRandomMoments_RestartsFromTheNewestCommittedStepAndEndsWithExactWeights()
    {
        using var store = CampaignStore.FileSystem(_temp.Combine("store"));
        var seed = Environment.TickCount & 0xFFFF;
        output.WriteLine($"seed {seed}");
        var options = new KillCampaignOptions { Kills = 5, Seed = seed, Steps = 6, WorkDirectory = _temp.Combine("work"), Log = output.WriteLine };

        var report = await new KillCampaignRunner(store, options).RunAsync();

        output.WriteLine(report.Summary());
        Assert.True(report.Passed, string.Join("\n\n", report.Failures));
        Assert.Equal(5, report.Kills);
        Assert.Equal(0, report.LostCommitted);
        Assert.Equal(0, report.TornRestores);
        Assert.Equal(report.Jobs, report.CompletedJobs);
    }

    [Fact]
    public async Task Commit_TwoProcessesRaceForTheSameSteps_ExactlyOneWinsEachStep()
    {
        using var store = CampaignStore.FileSystem(_temp.Combine("store"));

        var rounds = await CommitRaceRunner.RunAsync(store, "race", racers: 2, rounds: 12, _temp.Combine("work"));

        output.WriteLine(string.Join('\n', rounds.Select(r => $"step {r.Step}: won by {string.Join(", ", r.Winners)}")));
        Assert.Equal(12, rounds.Count);
        foreach (var round in rounds)
        {
            var winner = Assert.Single(round.Winners);
            Assert.Equal(winner, round.CommittedWriter);
            var loss = Assert.Single(round.Losses);
            Assert.StartsWith($"lost {round.Step} {winner} CheckpointConflictException: Step {round.Step} was committed by another writer (writer {winner}", loss, StringComparison.Ordinal);
        }
    }
}
