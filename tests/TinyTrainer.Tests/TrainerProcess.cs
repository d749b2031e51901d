using System.Diagnostics;
using System.Text.Json;

using Konduktor.Storage.Testing;

namespace TinyTrainer.Tests;

/// <summary>What one run of the trainer did.</summary>
internal sealed record TrainerRun(int ExitCode, string Stdout, string Stderr, long PeakMemoryBytes = 0)
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

    public static Task<TrainerRun> RunAsync(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args) =>
        Start(workingDirectory, environment, args).WaitAsync(Timeout);

    /// <summary>Starts the trainer; the caller waits for it (or kills it) through the returned handle.</summary>
    public static RunningTrainer Start(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "TinyTrainer.dll");
        Assert.True(File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json")), $"the sample's build output is missing beside the tests: {dll}");
        // The sample runs on the frameworks of the test project that built it beside itself: a test project that references
        // ASP.NET Core (the test kit's GCS test server) gets the Microsoft.Extensions.* assemblies the sample needs from that
        // shared framework, so they are not copied next to the sample.
        var start = SampleProcessStart.Create(
            dll, workingDirectory, environment, args, Path.ChangeExtension(typeof(TrainerProcess).Assembly.Location, ".runtimeconfig.json"));
        return new RunningTrainer(Process.Start(start)!);
    }
}

/// <summary>A trainer process that is running: its output is collected and its peak memory sampled until it exits.</summary>
internal sealed class RunningTrainer : IDisposable
{
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;
    private readonly Task<long> _peak;

    public RunningTrainer(Process process)
    {
        Process = process;
        _stdout = process.StandardOutput.ReadToEndAsync();
        _stderr = process.StandardError.ReadToEndAsync();
        _peak = Task.Run(SamplePeakMemoryAsync);
    }

    public Process Process { get; }

    public async Task<TrainerRun> WaitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await Process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            Process.Kill(entireProcessTree: true);
            await Process.WaitForExitAsync();
            Assert.Fail($"the trainer did not finish within {timeout.TotalSeconds} s and was killed:\n{new TrainerRun(-1, await _stdout, await _stderr)}");
        }

        return new TrainerRun(Process.ExitCode, await _stdout, await _stderr, await _peak);
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
        }

        Process.Dispose();
    }

    // VmHWM is the process's peak resident memory so far; the last reading before it exits is its peak.
    private async Task<long> SamplePeakMemoryAsync()
    {
        long peak = 0;
        var status = $"/proc/{Process.Id}/status";
        while (!Process.HasExited)
        {
            try
            {
                var line = (await File.ReadAllLinesAsync(status)).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
                if (line is not null)
                {
                    peak = Math.Max(peak, long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024);
                }
            }
            catch (IOException)
            {
                break;
            }

            await Task.Delay(50);
        }

        return peak;
    }
}
