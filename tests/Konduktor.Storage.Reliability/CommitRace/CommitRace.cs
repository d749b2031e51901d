using System.Globalization;

namespace Konduktor.Storage.Reliability.CommitRace;

/// <summary>One round of a commit race: who won, and what each loser was told.</summary>
public sealed record CommitRound(long Step, IReadOnlyList<string> Winners, IReadOnlyList<string> Losses, string? CommittedWriter);

/// <summary>
/// Races separate processes (attempts 0, 1, … of one job and scope) to commit the same steps: each round all of them
/// hold a fully uploaded save of the step, are told "go" at the same moment, and commit. Nothing in one process can
/// serialise the others, so exactly one winner per round shows the store's create-only commit across processes.
/// </summary>
public static class CommitRaceRunner
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>Runs <paramref name="rounds"/> rounds between <paramref name="racers"/> processes on <paramref name="store"/>.</summary>
    public static async Task<IReadOnlyList<CommitRound>> RunAsync(CampaignStore store, string job, int racers, int rounds, string workDirectory)
    {
        ArgumentNullException.ThrowIfNull(store);
        var processes = Enumerable.Range(0, racers).Select(attempt => PodProcess.Start(
            "Konduktor.Storage.Reliability",
            workDirectory,
            new Dictionary<string, string>(store.Environment)
            {
                ["KONDUKTOR_JOB_NAME"] = job,
                ["RESTART_ATTEMPT"] = attempt.ToString(CultureInfo.InvariantCulture),
            },
            "commit-racer",
            rounds.ToString(CultureInfo.InvariantCulture))).ToList();
        try
        {
            var results = new List<CommitRound>();
            for (var step = 1; step <= rounds; step++)
            {
                var ready = $"ready {step}";
                foreach (var racer in processes)
                {
                    _ = await racer.WaitForLineAsync(l => l == ready, Deadline).ConfigureAwait(false)
                        ?? throw new InvalidOperationException($"A racer did not get ready for step {step}:\n{racer.Describe()}");
                }

                // Rotate who hears "go" first, so no racer is always ahead by the write's few microseconds.
                foreach (var racer in processes.Skip(step % racers).Concat(processes.Take(step % racers)))
                {
                    await racer.Input.WriteLineAsync("go").ConfigureAwait(false);
                    await racer.Input.FlushAsync().ConfigureAwait(false);
                }

                var answers = new List<string>();
                foreach (var racer in processes)
                {
                    var prefix = $" {step} ";
                    answers.Add(await racer.WaitForLineAsync(l => (l.StartsWith("won", StringComparison.Ordinal) || l.StartsWith("lost", StringComparison.Ordinal)) && l.Contains(prefix, StringComparison.Ordinal), Deadline).ConfigureAwait(false)
                        ?? throw new InvalidOperationException($"A racer did not answer for step {step}:\n{racer.Describe()}"));
                }

                var manifest = await new CheckpointManager(store.Store, JobContext.Create(jobName: job)).ListAsync().ConfigureAwait(false);
                results.Add(new CommitRound(
                    step,
                    answers.Where(a => a.StartsWith("won ", StringComparison.Ordinal)).Select(a => a.Split(' ')[2]).ToList(),
                    answers.Where(a => a.StartsWith("lost ", StringComparison.Ordinal)).ToList(),
                    manifest.FirstOrDefault(c => c.Step == step)?.Manifest?.Writer));
            }

            foreach (var racer in processes)
            {
                if (await racer.WaitForExitAsync(Deadline).ConfigureAwait(false) != 0)
                {
                    throw new InvalidOperationException($"A racer failed:\n{racer.Describe()}");
                }
            }

            return results;
        }
        finally
        {
            foreach (var racer in processes)
            {
                racer.Dispose();
            }
        }
    }
}
