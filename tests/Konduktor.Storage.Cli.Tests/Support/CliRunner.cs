using System.Diagnostics;

using Konduktor.Storage.Testing;

namespace Konduktor.Storage.Cli.Tests;

/// <summary>What one run of the tool printed and returned.</summary>
internal sealed record CliResult(int ExitCode, string Out, string Error)
{
    public System.Text.Json.JsonElement Json => System.Text.Json.JsonDocument.Parse(Out).RootElement;

    public override string ToString() => $"exit code {ExitCode}\n--- stdout ---\n{Out}\n--- stderr ---\n{Error}";
}

/// <summary>Runs <c>konduktor-storage</c> in-process (fast, with an environment of its own) or as a process (exit codes, terminals).</summary>
internal static class CliRunner
{
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromMinutes(2);

    /// <summary>Runs the tool in-process, off a terminal, with <paramref name="environment"/> as its environment variables.</summary>
    public static async Task<CliResult> RunAsync(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await KonduktorStorageCli.RunAsync(args, new CliConsole(output, error, IsTerminal: false, environment, Terminal: null));
        return new CliResult(code, output.ToString(), error.ToString());
    }

    /// <summary>The tool's dll, built beside the tests.</summary>
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "Konduktor.Storage.Cli.dll");

    /// <summary>Runs the tool as a process (stdout and stderr piped) in <paramref name="workingDirectory"/>.</summary>
    public static async Task<CliResult> RunProcessAsync(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        Directory.CreateDirectory(workingDirectory);
        return await RunAsync(Start(workingDirectory, environment, args));
    }

    /// <summary>
    /// How to start the tool: on this test project's runtimeconfig, whose shared frameworks (ASP.NET Core, for the GCS test
    /// server) supply the Microsoft.Extensions.* assemblies the build does not copy beside the tool.
    /// </summary>
    public static ProcessStartInfo Start(string workingDirectory, IReadOnlyDictionary<string, string> environment, IEnumerable<string> args) =>
        SampleProcessStart.Create(Dll, workingDirectory, environment, args, Path.ChangeExtension(typeof(CliRunner).Assembly.Location, ".runtimeconfig.json"));

    /// <summary>Runs a prepared process to its end (killed after <paramref name="timeout"/>, two minutes by default).</summary>
    public static async Task<CliResult> RunAsync(ProcessStartInfo start, TimeSpan? timeout = null)
    {
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout ?? ProcessTimeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{start.FileName} {string.Join(' ', start.ArgumentList)} did not finish within {timeout ?? ProcessTimeout}");
        }

        return new CliResult(process.ExitCode, await output, await error);
    }
}
