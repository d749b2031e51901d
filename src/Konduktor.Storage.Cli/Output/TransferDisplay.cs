using Spectre.Console;

namespace Konduktor.Storage.Cli;

/// <summary>
/// Progress bars for transfers and verification on a terminal (Spectre.Console): one bar per file, several at once, with
/// bytes, rate and time left. Off a terminal, with <c>--json</c> or <c>--quiet</c>, nothing is drawn.
/// </summary>
internal sealed class TransferDisplay : IProgress<TransferProgress>
{
    private readonly ProgressContext _context;
    private readonly Dictionary<string, ProgressTask> _tasks = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    private TransferDisplay(ProgressContext context) => _context = context;

    /// <summary>Runs <paramref name="work"/>, drawing its progress when <paramref name="console"/> is a terminal and <paramref name="show"/> is set.</summary>
    public static async Task<T> RunAsync<T>(CliConsole console, bool show, Func<IProgress<TransferProgress>?, Task<T>> work)
    {
        if (!show || console.Terminal is not { } terminal)
        {
            return await work(null).ConfigureAwait(false);
        }

        return await terminal.Progress()
            .AutoClear(false)
            .Columns(
                new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn(),
                new PercentageColumn(),
                new DownloadedColumn(),
                new TransferSpeedColumn(),
                new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var display = new TransferDisplay(context);
                var result = await work(display).ConfigureAwait(false);
                display.Complete();
                return result;
            }).ConfigureAwait(false);
    }

    public void Report(TransferProgress value)
    {
        lock (_gate)
        {
            if (!_tasks.TryGetValue(value.File, out var task))
            {
                _tasks[value.File] = task = _context.AddTask(Markup.Escape(value.File), maxValue: Math.Max(1, value.FileLength ?? value.FileBytes));
            }

            task.MaxValue = Math.Max(task.MaxValue, value.FileBytes);
            task.Value = value.FileBytes;
        }
    }

    private void Complete()
    {
        lock (_gate)
        {
            foreach (var task in _tasks.Values)
            {
                task.Value = task.MaxValue;
                task.StopTask();
            }
        }
    }
}
