using Konduktor.Storage.Reliability;
using Konduktor.Storage.Reliability.CommitRace;
using Konduktor.Storage.Reliability.KillCampaign;

using Xunit.Abstractions;

namespace Konduktor.Storage.S3.Tests.Reliability;

/// <summary>
/// The short form of the crash-consistency campaign on RadosGW (eng/reliability.sh runs the full one), and commits
/// racing across processes on one step's manifest (If-None-Match).
/// </summary>
[Collection("RadosGW")]
public sealed class S3CrashConsistencyTests(RadosGwServer server, ITestOutputHelper output) : IDisposable
{
    private readonly string _work = Path.Combine(Path.GetTempPath(), "konduktor-s3-kill", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_work))
        {
            Directory.Delete(_work, recursive: true);
        }
    }

    [Fact]
    public async Task Pod_KilledAtRandomMoments_RestartsFromTheNewestCommittedStepAndEndsWithExactWeights()
    {
        using var store = await CampaignStore.S3Async(server.Endpoint, server.AccessKey, server.SecretKey, S3TestStores.Bucket);
        var seed = Environment.TickCount & 0xFFFF;
        output.WriteLine($"seed {seed}");
        var options = new KillCampaignOptions { Kills = 3, Seed = seed, Steps = 6, WorkDirectory = _work, Log = output.WriteLine };

        var report = await new KillCampaignRunner(store, options).RunAsync();

        output.WriteLine(report.Summary());
        Assert.True(report.Passed, string.Join("\n\n", report.Failures));
        Assert.Equal(3, report.Kills);
        Assert.Equal(0, report.LostCommitted);
        Assert.Equal(0, report.TornRestores);
    }

    [Fact]
    public async Task Commit_TwoProcessesRaceForTheSameSteps_ExactlyOneWinsEachStep()
    {
        using var store = await CampaignStore.S3Async(server.Endpoint, server.AccessKey, server.SecretKey, S3TestStores.Bucket);

        var rounds = await CommitRaceRunner.RunAsync(store, "race", racers: 2, rounds: 6, _work);

        foreach (var round in rounds)
        {
            var winner = Assert.Single(round.Winners);
            Assert.Equal(winner, round.CommittedWriter);
            var loss = Assert.Single(round.Losses);
            Assert.StartsWith($"lost {round.Step} {winner} CheckpointConflictException: Step {round.Step} was committed by another writer (writer {winner}", loss, StringComparison.Ordinal);
        }
    }
}
