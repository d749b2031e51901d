using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

using Konduktor.Storage.Testing;

namespace TinyTrainer.Tests;

/// <summary>
/// A trainer process whose output is watched line by line, so a test can send it SIGTERM or SIGINT at a chosen moment
/// (after a given line) and then read what it reported.
/// </summary>
internal sealed class StoppableTrainer : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _line = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public StoppableTrainer(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "TinyTrainer.dll");
        var start = SampleProcessStart.Create(
            dll, workingDirectory, environment, args, Path.ChangeExtension(typeof(StoppableTrainer).Assembly.Location, ".runtimeconfig.json"));
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Received(_stdout, e.Data, _stdoutClosed);
        _process.ErrorDataReceived += (_, e) => Received(_stderr, e.Data, _stderrClosed);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int ProcessId => _process.Id;

    /// <summary>Waits until a stdout line satisfies <paramref name="match"/>; fails if the process ends first.</summary>
    public async Task WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Task next;
            lock (_gate)
            {
                if (_stdout.ToString().Split('\n').Any(l => match(l.TrimEnd('\r'))))
                {
                    return;
                }

                next = _line.Task;
            }

            Assert.False(_process.HasExited && _stdoutClosed.Task.IsCompleted, $"the trainer ended before the awaited line:\n{Report()}");
            var left = timeout - deadline.Elapsed;
            Assert.True(left > TimeSpan.Zero, $"no such line within {timeout.TotalSeconds} s:\n{Report()}");
            await Task.WhenAny(next, Task.Delay(left));
        }
    }

    /// <summary>Sends a signal (15: SIGTERM, 2: SIGINT) to the process.</summary>
    public void Signal(int signal) => Assert.True(Kill(_process.Id, signal) == 0, $"kill({_process.Id}, {signal}) failed");

    /// <summary>Waits for the process to exit (killing it after <paramref name="timeout"/>) and returns its run.</summary>
    public async Task<TrainerRun> WaitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            Assert.Fail($"the trainer did not exit within {timeout.TotalSeconds} s and was killed:\n{Report()}");
        }

        await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task);
        lock (_gate)
        {
            return new TrainerRun(_process.ExitCode, _stdout.ToString(), _stderr.ToString());
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    /// <summary>The JSON after <paramref name="prefix"/> on the last stdout line, which must start with it.</summary>
    public static JsonElement LastLine(TrainerRun run, string prefix)
    {
        Assert.True(run.StdoutLines.Count > 0 && run.StdoutLines[^1].StartsWith(prefix, StringComparison.Ordinal), $"the last stdout line is not a {prefix}line:\n{run}");
        return JsonDocument.Parse(run.StdoutLines[^1][prefix.Length..]).RootElement.Clone();
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private void Received(StringBuilder into, string? line, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }

        TaskCompletionSource signalled;
        lock (_gate)
        {
            into.Append(line).Append('\n');
            signalled = _line;
            _line = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        signalled.TrySetResult();
    }

    private string Report()
    {
        lock (_gate)
        {
            return $"--- stdout ---\n{_stdout}\n--- stderr ---\n{_stderr}";
        }
    }
}
