using System.Diagnostics;
using System.Text.Json;

namespace TinyTrainer.Tests;

/// <summary>What one run of the trainer did.</summary>
internal sealed record TrainerRun(int ExitCode, string Stdout, string Stderr)
{
    public IReadOnlyList<string> StdoutLines { get; } = Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The RESULT line's JSON; the line must be the last one of stdout.</summary>
    public JsonElement Result
    {
        get
        {
            Assert.True(StdoutLines.Count > 0, $"no output; stderr:\n{Stderr}");
            var last = StdoutLines[^1];
            Assert.True(last.StartsWith("RESULT ", StringComparison.Ordinal), $"the last stdout line is not a RESULT line:\n{this}");
            return JsonDocument.Parse(last["RESULT ".Length..]).RootElement.Clone();
        }
    }

    public override string ToString() => $"exit code {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

/// <summary>
/// Runs the sample (TinyTrainer.dll, built beside the tests) as a process with a controlled environment: nothing of the
/// machine's Konduktor, rank or cloud variables leaks in, and HOME is a temporary directory.
/// </summary>
internal static class TrainerProcess
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static readonly string[] ClearedPrefixes = ["KONDUKTOR", "Konduktor__", "Trainer__", "SKYPILOT_", "AWS_", "GOOGLE_", "Logging__"];

    private static readonly string[] ClearedVariables =
        ["RESTART_ATTEMPT", "JOB_COMPLETION_INDEX", "RANK", "NUM_NODES", "NUM_GPUS_PER_NODE", "NODE_HOST_IPS", "MASTER_ADDR", "DOTNET_ENVIRONMENT"];

    public static async Task<TrainerRun> RunAsync(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "TinyTrainer.dll");
        Assert.True(File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json")), $"the sample's build output is missing beside the tests: {dll}");
        var start = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var name in start.Environment.Keys.ToList())
        {
            if (ClearedVariables.Contains(name, StringComparer.Ordinal)
                || ClearedPrefixes.Any(p => name.StartsWith(p, StringComparison.OrdinalIgnoreCase)))
            {
                start.Environment.Remove(name);
            }
        }

        start.Environment["HOME"] = Path.Combine(workingDirectory, ".home");
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"the trainer did not finish within {Timeout.TotalSeconds} s and was killed:\n{new TrainerRun(-1, await stdout, await stderr)}");
        }

        return new TrainerRun(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The dotnet host running these tests (`dotnet test` names it), else the one on the PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
}
