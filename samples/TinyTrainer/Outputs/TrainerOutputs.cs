using System.Globalization;
using System.Text;
using System.Text.Json;

using Konduktor.Storage;

namespace TinyTrainer.Outputs;

/// <summary>
/// The pod's runtime outputs, in the directory the library syncs (<c>Konduktor:Outputs:LocalDirectory</c>):
/// <c>metrics.jsonl</c>, one line per trained step, and at the end <c>eval/summary.json</c>. A resumed pod first pulls
/// what it synced before and keeps only the lines up to the step it resumed from, so the store ends with each step once.
/// </summary>
internal sealed class TrainerOutputs(OutputSync sync) : IAsyncDisposable
{
    public const string MetricsFile = "metrics.jsonl";
    public const string SummaryFile = "eval/summary.json";

    private StreamWriter? _metrics;

    /// <summary>Gets the pod's earlier outputs back and trims <c>metrics.jsonl</c> to the steps up to <paramref name="resumedFrom"/>.</summary>
    public async Task ResumeAsync(long? resumedFrom, CancellationToken cancellationToken)
    {
        try
        {
            await sync.Outputs.PullAsync(sync.LocalDirectory, sync.Scope, cancellationToken: cancellationToken);
        }
        catch (OutputNotFoundException)
        {
            // A fresh job: nothing synced yet.
        }

        var path = Path.Combine(sync.LocalDirectory, MetricsFile);
        var kept = File.Exists(path) ? KeepUpTo(await File.ReadAllTextAsync(path, cancellationToken), resumedFrom ?? 0) : "";
        var temporary = path + ".trimmed";
        await File.WriteAllTextAsync(temporary, kept, cancellationToken);
        File.Move(temporary, path, overwrite: true);
        _metrics = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite), new UTF8Encoding(false));
    }

    /// <summary>Appends one step's line, flushed so that the next sync sees it.</summary>
    public async Task RecordStepAsync(long step, double loss, CancellationToken cancellationToken)
    {
        var writer = _metrics ?? throw new InvalidOperationException("ResumeAsync comes first.");
        await writer.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"{{\"step\":{step},\"loss\":{loss:R}}}\n").AsMemory(), cancellationToken);
        await writer.FlushAsync(cancellationToken);
    }

    /// <summary>Writes <c>eval/summary.json</c> (step and loss), whole or not at all.</summary>
    public async Task WriteSummaryAsync(long step, double? loss, CancellationToken cancellationToken)
    {
        var path = Path.Combine(sync.LocalDirectory, SummaryFile);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var json = JsonSerializer.Serialize(new EvalSummary(step, loss), OutputsJson.Default.EvalSummary);
        await File.WriteAllTextAsync(path + ".tmp", json, cancellationToken);
        File.Move(path + ".tmp", path, overwrite: true);
    }

    public async ValueTask DisposeAsync()
    {
        if (_metrics is not null)
        {
            await _metrics.DisposeAsync();
        }
    }

    /// <summary>The complete lines whose step is at most <paramref name="step"/> (a torn last line is dropped).</summary>
    private static string KeepUpTo(string text, long step)
    {
        var kept = new StringBuilder();
        var lines = text.Split('\n');
        foreach (var line in lines[..^1])
        {
            using var json = JsonDocument.Parse(line);
            if (json.RootElement.GetProperty("step").GetInt64() <= step)
            {
                kept.Append(line).Append('\n');
            }
        }

        return kept.ToString();
    }
}
