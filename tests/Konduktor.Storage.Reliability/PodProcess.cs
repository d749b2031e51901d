using System.Diagnostics;
using System.Text;

using Konduktor.Storage.Testing;

namespace Konduktor.Storage.Reliability;

/// <summary>
/// One run of a program beside the harness (the sample's pod program, or the commit racer) with a controlled
/// environment: nothing of the machine's Konduktor, rank or cloud variables leaks in, and HOME is a folder of its own.
/// Output lines are collected as they come, so the harness can act on them while the process runs.
/// </summary>
public sealed class PodProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _stdout = [];
    private readonly List<TimeSpan> _stdoutTimes = [];
    private readonly StringBuilder _stderr = new();
    private readonly Lock _gate = new();
    private readonly Stopwatch _age = Stopwatch.StartNew();
    private Action<string>? _onLine;

    private PodProcess(Process process) => _process = process;

    /// <summary>How long ago the process was started.</summary>
    public TimeSpan Age => _age.Elapsed;

    /// <summary>Whether the process has ended.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The process's stdin, for programs that wait for a word from the harness.</summary>
    public StreamWriter Input => _process.StandardInput;

    /// <summary>The stdout lines so far.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_gate)
            {
                return [.. _stdout];
            }
        }
    }

    /// <summary>Stderr so far.</summary>
    public string Stderr
    {
        get
        {
            lock (_gate)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>When the first stdout line that <paramref name="match"/> accepts arrived, after the start; null if none did.</summary>
    public TimeSpan? TimeOf(Func<string, bool> match)
    {
        lock (_gate)
        {
            var index = _stdout.FindIndex(l => match(l));
            return index < 0 ? null : _stdoutTimes[index];
        }
    }

    /// <summary>Starts <paramref name="program"/> (a dll beside the harness) in <paramref name="workDirectory"/>.</summary>
    public static PodProcess Start(string program, string workDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, program + ".dll");
        if (!File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json")))
        {
            throw new FileNotFoundException($"The build output of {program} is missing beside the harness.", dll);
        }

        Directory.CreateDirectory(workDirectory);
        var start = SampleProcessStart.Create(dll, workDirectory, environment, args);
        start.RedirectStandardInput = true;

        var process = new Process { StartInfo = start };
        var pod = new PodProcess(process);
        process.OutputDataReceived += (_, e) => pod.Received(e.Data, stdout: true);
        process.ErrorDataReceived += (_, e) => pod.Received(e.Data, stdout: false);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return pod;
    }

    /// <summary>Waits for the first stdout line that <paramref name="match"/> accepts; null when the process ends first.</summary>
    public async Task<string?> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var found = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_stdout.FirstOrDefault(match) is { } seen)
            {
                return seen;
            }

            _onLine = line =>
            {
                if (match(line))
                {
                    found.TrySetResult(line);
                }
            };
        }

        var exited = _process.WaitForExitAsync();
        var winner = await Task.WhenAny(found.Task, exited, Task.Delay(timeout)).ConfigureAwait(false);
        lock (_gate)
        {
            _onLine = null;
            return winner == found.Task ? found.Task.Result : _stdout.FirstOrDefault(match);
        }
    }

    /// <summary>SIGKILL: no clean-up, no flush, no finally blocks; then waits until it is gone and its output drained.</summary>
    public async Task KillAsync()
    {
        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
            // it ended by itself a moment ago
        }

        await _process.WaitForExitAsync().ConfigureAwait(false);
    }

    /// <summary>Waits for the process to end; null when it has not ended by <paramref name="timeout"/> (it is then killed).</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token).ConfigureAwait(false);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            await KillAsync().ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>The output, for failure reports.</summary>
    public string Describe() =>
        $"--- stdout ---\n{string.Join('\n', Lines)}\n--- stderr ---\n{Stderr}";

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private void Received(string? line, bool stdout)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            if (stdout)
            {
                _stdout.Add(line);
                _stdoutTimes.Add(_age.Elapsed);
                _onLine?.Invoke(line);
            }
            else
            {
                _stderr.AppendLine(line);
            }
        }
    }
}
