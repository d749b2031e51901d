using System.Diagnostics;
using System.Security.Cryptography;

namespace TinyTrainer.Launcher;

/// <summary>One rank of a local multi-node job: its index, the node count, rank 0's port, and whether it crashes on purpose.</summary>
internal sealed record GangPod(int Rank, int Nodes, int MasterPort, bool Crashes);

/// <summary>
/// Local mode with <c>Trainer:Nodes</c> = N: runs N pods of one job on loopback (ranks 0 to N-1, <c>MASTER_ADDR</c> =
/// 127.0.0.1, <c>MASTER_PORT</c> = <c>Trainer:MasterPort</c>) and, as Konduktor does, restarts all of them with
/// <c>RESTART_ATTEMPT</c> raised as soon as one fails. Only the last rank crashes on purpose (<c>Trainer:CrashAtStep</c>),
/// so the others show what a rank sees when its peer disappears.
/// </summary>
internal static class GangRestart
{
    private const string Prefix = "[local konduktor] ";
    private const int ConfigurationErrorExitCode = 2;

    public static async Task<int> RunAsync(string[] args, int nodes, int masterPort, int maxRestarts)
    {
        var jobName = $"tiny-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2))}";
        Console.WriteLine($"{Prefix}job {jobName}: {nodes} pods on 127.0.0.1, rank 0 at port {masterPort} (up to {maxRestarts} gang restarts)");
        var started = Stopwatch.StartNew();
        for (var attempt = 0; ; attempt++)
        {
            Console.WriteLine($"{Prefix}starting {nodes} pods, attempt {attempt}");
            using var gang = new CancellationTokenSource();
            var firstFailure = -1;
            var pods = Enumerable.Range(0, nodes).Select(async rank =>
            {
                var outcome = await LocalKonduktor.RunPodAsync(jobName, attempt, args, new GangPod(rank, nodes, masterPort, Crashes: rank == nodes - 1), gang.Token);
                if (outcome.ExitCode != 0 && !gang.IsCancellationRequested && Interlocked.CompareExchange(ref firstFailure, rank, -1) == -1)
                {
                    Console.WriteLine($"{Prefix}pod rank {rank} (attempt {attempt}) failed with exit code {outcome.ExitCode}: stopping the other pods");
                    await gang.CancelAsync();
                }

                return outcome;
            }).ToArray();
            var outcomes = await Task.WhenAll(pods);

            if (firstFailure < 0 && outcomes.All(o => o.ExitCode == 0))
            {
                Console.WriteLine($"{Prefix}all {nodes} pods of attempt {attempt} succeeded; job {jobName} finished after {attempt} gang restart(s) in {started.Elapsed.TotalSeconds:F1} s");
                for (var rank = 0; rank < nodes; rank++)
                {
                    Console.WriteLine($"[rank {rank}] {outcomes[rank].Result}");
                }

                return 0;
            }

            var failed = Math.Max(firstFailure, 0);
            var exitCode = outcomes[failed].ExitCode;
            if (exitCode == ConfigurationErrorExitCode)
            {
                Console.WriteLine($"{Prefix}pod rank {failed} failed with exit code {exitCode} (configuration error): not restarting");
                return exitCode;
            }

            if (attempt == maxRestarts)
            {
                Console.WriteLine($"{Prefix}giving up after {maxRestarts} gang restart(s)");
                return exitCode;
            }

            Console.WriteLine($"{Prefix}gang restart: all {nodes} pods again with RESTART_ATTEMPT={attempt + 1}");
        }
    }
}
