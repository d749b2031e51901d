using System.Diagnostics;

namespace Konduktor.Storage.Testing;

/// <summary>
/// How the tests and the reliability harness start a program built beside them (the sample's pod program, the commit
/// racer): under the dotnet host, with nothing of the machine's Konduktor, rank or cloud variables leaking in, and a
/// HOME of its own. Compiled into each project that starts such processes.
/// </summary>
internal static class SampleProcessStart
{
    private static readonly string[] ClearedPrefixes = ["KONDUKTOR", "Konduktor__", "Trainer__", "SKYPILOT_", "AWS_", "GOOGLE_", "Logging__"];

    private static readonly string[] ClearedVariables =
        ["RESTART_ATTEMPT", "JOB_COMPLETION_INDEX", "RANK", "NUM_NODES", "NUM_GPUS_PER_NODE", "NODE_HOST_IPS", "MASTER_ADDR", "MASTER_PORT", "DOTNET_ENVIRONMENT"];

    /// <summary>The start info for <paramref name="dll"/> in <paramref name="workingDirectory"/>, stdout and stderr redirected.</summary>
    /// <param name="dll">The program's dll.</param>
    /// <param name="workingDirectory">Its working directory; HOME is <c>.home</c> inside it.</param>
    /// <param name="environment">Variables to set, after the machine's Konduktor, rank and cloud variables are cleared.</param>
    /// <param name="args">The program's arguments.</param>
    /// <param name="runtimeConfig">Run on this runtimeconfig instead of the program's own (<c>dotnet exec --runtimeconfig</c>).</param>
    public static ProcessStartInfo Create(
        string dll, string workingDirectory, IReadOnlyDictionary<string, string> environment, IEnumerable<string> args, string? runtimeConfig = null)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (runtimeConfig is not null)
        {
            start.ArgumentList.Add("exec");
            start.ArgumentList.Add("--runtimeconfig");
            start.ArgumentList.Add(runtimeConfig);
        }

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

        return start;
    }

    /// <summary>The dotnet host running this process (`dotnet test` names it; a harness run by dotnet is one), else the one on the PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self
        : "dotnet";
}
