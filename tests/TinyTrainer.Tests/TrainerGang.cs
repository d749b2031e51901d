using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TinyTrainer.Tests;

/// <summary>
/// The ranks of one multi-node job as processes, the way Konduktor runs them: one pod per rank, started together,
/// <c>MASTER_ADDR</c> on loopback and <c>MASTER_PORT</c> a free port, and a short collective timeout so that a rank whose
/// peer is gone fails in seconds. Compiled into every test project that runs the two-node scenarios.
/// </summary>
internal static class TrainerGang
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary>Runs every rank of <paramref name="job"/> in restart attempt <paramref name="attempt"/> and waits for all of them.</summary>
    /// <param name="work">The working directory (HOME is <c>.home</c> inside it).</param>
    /// <param name="baseEnvironment">Variables for every rank (the location, credentials…).</param>
    /// <param name="job">The job name.</param>
    /// <param name="attempt">RESTART_ATTEMPT.</param>
    /// <param name="nodes">How many ranks.</param>
    /// <param name="perRank">Extra variables of one rank (e.g. a crash on rank 1 only).</param>
    public static async Task<TrainerRun[]> RunAsync(
        string work, IReadOnlyDictionary<string, string> baseEnvironment, string job, int attempt, int nodes = 2, Func<int, IEnumerable<(string Key, string Value)>>? perRank = null)
    {
        var port = FreePort();
        var ranks = Enumerable.Range(0, nodes).Select(rank =>
        {
            var environment = new Dictionary<string, string>(baseEnvironment)
            {
                ["KONDUKTOR_JOB_NAME"] = job,
                ["RESTART_ATTEMPT"] = attempt.ToString(CultureInfo.InvariantCulture),
                ["JOB_COMPLETION_INDEX"] = rank.ToString(CultureInfo.InvariantCulture),
                ["NUM_NODES"] = nodes.ToString(CultureInfo.InvariantCulture),
                ["MASTER_ADDR"] = "127.0.0.1",
                ["MASTER_PORT"] = port.ToString(CultureInfo.InvariantCulture),
                ["Konduktor__Checkpoints__Collective__Timeout"] = "00:00:03",
                ["Trainer__CrashAtStep"] = "0",
            };
            foreach (var (key, value) in perRank?.Invoke(rank) ?? [])
            {
                environment[key] = value;
            }

            return TrainerProcess.Start(work, environment);
        }).ToList();
        try
        {
            return await Task.WhenAll(ranks.Select(r => r.WaitAsync(Timeout)));
        }
        finally
        {
            ranks.ForEach(r => r.Dispose());
        }
    }

    /// <summary>The weights every rank reported; they must be one and the same.</summary>
    public static string SharedWeights(TrainerRun[] ranks)
    {
        Assert.All(ranks, r => Assert.True(r.ExitCode == 0, r.ToString()));
        var hashes = ranks.Select(r => r.Result.GetProperty("weightsSha256").GetString()!).Distinct().ToList();
        Assert.True(hashes.Count == 1, $"the ranks hold different weights: {string.Join(", ", hashes)}");
        return hashes[0];
    }

    /// <summary>
    /// The acceptance scenario: rank 1 crashes after training step 10 and before saving it; rank 0 saves its part of step
    /// 10 and fails because its peer is gone; both restart with RESTART_ATTEMPT=1, resume from step 5 and finish with the
    /// uninterrupted run's weights, superseding rank 0's stale part of step 10 (kept in quarantine, not in the new commit).
    /// </summary>
    /// <param name="keys">Lists the keys under a prefix of the location (relative to it).</param>
    public static async Task CrashOfOneRankAsync(string work, IReadOnlyDictionary<string, string> environment, Func<string, Task<IReadOnlyList<string>>> keys)
    {
        var straight = SharedWeights(await RunAsync(work, environment, "straight", 0));

        var crashed = await RunAsync(work, environment, "crashy", 0, perRank: rank => rank == 1 ? [("Trainer__CrashAtStep", "10")] : []);
        Assert.True(crashed[1].ExitCode == 3, crashed[1].ToString());
        Assert.True(crashed[0].ExitCode != 0, crashed[0].ToString());
        Assert.Contains("rank(s) 1 never answered", crashed[0].Stderr, StringComparison.Ordinal);
        var afterCrash = await keys("crashy/job/");
        Assert.Contains("crashy/job/step-000000000005/manifest.json", afterCrash);
        Assert.Contains("crashy/job/step-000000000010/rank-00000/manifest.json", afterCrash);
        Assert.DoesNotContain("crashy/job/step-000000000010/manifest.json", afterCrash);
        Assert.DoesNotContain("crashy/job/step-000000000010/rank-00001/manifest.json", afterCrash);

        var resumed = await RunAsync(work, environment, "crashy", 1);

        Assert.Equal(straight, SharedWeights(resumed));
        Assert.All(resumed, r => Assert.Equal(5, r.Result.GetProperty("resumedFromStep").GetInt64()));
        var afterResume = await keys("crashy/job/step-000000000010/");
        Assert.Contains("crashy/job/step-000000000010/manifest.json", afterResume);
        Assert.Single(afterResume, k => k.StartsWith("crashy/job/step-000000000010/rank-00000/quarantine/", StringComparison.Ordinal));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
