using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography;

namespace TinyTrainer.Launcher;

/// <summary>
/// A small local stand-in for Konduktor: runs the pod program (this executable) as a child process with the variables
/// Konduktor sets, and restarts it after a failure with RESTART_ATTEMPT raised, the way Konduktor restarts a job.
/// </summary>
internal static class LocalKonduktor
{
    private const string Prefix = "[local konduktor] ";

    /// <summary>The pod program's exit code for a configuration or environment error: restarting cannot help.</summary>
    private const int ConfigurationErrorExitCode = 2;

    private static readonly Lock ConsoleGate = new();

    public static async Task<int> RunAsync(string[] args, int maxRestarts)
    {
        var jobName = $"tiny-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2))}";
        Console.WriteLine($"{Prefix}job {jobName}: starting pod attempt 0 (up to {maxRestarts} restarts)");
        var started = Stopwatch.StartNew();
        var exitCode = 0;
        string? result = null;
        for (var attempt = 0; attempt <= maxRestarts; attempt++)
        {
            (exitCode, result) = await RunPodAsync(jobName, attempt, args);
            if (exitCode == 0)
            {
                Console.WriteLine($"{Prefix}pod attempt {attempt} succeeded; job {jobName} finished after {attempt} restart(s) in {started.Elapsed.TotalSeconds:F1} s");
                break;
            }

            if (exitCode == ConfigurationErrorExitCode)
            {
                Console.WriteLine($"{Prefix}pod attempt {attempt} failed with exit code {exitCode} (configuration error): not restarting");
                break;
            }

            Console.WriteLine(attempt < maxRestarts
                ? $"{Prefix}pod attempt {attempt} failed with exit code {exitCode}: restarting the job with RESTART_ATTEMPT={attempt + 1}"
                : $"{Prefix}pod attempt {attempt} failed with exit code {exitCode}: giving up after {maxRestarts} restart(s)");
        }

        if (result is not null)
        {
            Console.WriteLine(result);
        }

        return exitCode;
    }

    /// <summary>
    /// Runs one pod attempt, streaming its output with a prefix; its RESULT line is held back for the end. With
    /// <paramref name="pod"/> it is one rank of a multi-node job; <paramref name="kill"/> stops it (a gang restart).
    /// </summary>
    internal static async Task<(int ExitCode, string? Result)> RunPodAsync(string jobName, int attempt, string[] args, GangPod? pod = null, CancellationToken kill = default)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath ?? throw new InvalidOperationException("The path of this executable is unknown."))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // Under `dotnet TinyTrainer.dll` (or `dotnet run`) the process is the dotnet host: it needs the assembly to run.
        if (Path.GetFileNameWithoutExtension(start.FileName).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        if (pod is { Crashes: false })
        {
            start.ArgumentList.Add("--Trainer:CrashAtStep=0"); // Only one rank crashes on purpose; the last argument wins.
        }

        start.Environment["KONDUKTOR_JOB_NAME"] = jobName;
        start.Environment["RESTART_ATTEMPT"] = attempt.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["JOB_COMPLETION_INDEX"] = (pod?.Rank ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["NUM_NODES"] = (pod?.Nodes ?? 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (pod is not null)
        {
            start.Environment["MASTER_ADDR"] = "127.0.0.1";
            start.Environment["MASTER_PORT"] = pod.MasterPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var prefix = pod is null ? $"[pod attempt {attempt}] " : $"[pod attempt {attempt} rank {pod.Rank}] ";
        string? result = null;
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            if (e.Data.StartsWith("RESULT ", StringComparison.Ordinal))
            {
                result = e.Data;
                return;
            }

            lock (ConsoleGate)
            {
                Console.Out.WriteLine(prefix + e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (ConsoleGate)
                {
                    Console.Error.WriteLine(prefix + e.Data);
                }
            }
        };

        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(kill);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }

        return (process.ExitCode, result);
    }
}
