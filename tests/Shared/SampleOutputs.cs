using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Konduktor.Storage.Testing;

/// <summary>Checks of the sample's outputs (DESIGN §23) as they are in a store after a job.</summary>
public static class SampleOutputs
{
    /// <summary>
    /// Asserts that <c>rank-00000/metrics.jsonl</c> holds steps 1..<paramref name="steps"/> once each, in order, and that
    /// <c>rank-00000/eval/summary.json</c> has the step and loss of the final <c>RESULT</c>, both as plain objects.
    /// </summary>
    public static async Task AssertAfterJobAsync(ICheckpointStore store, string run, JsonElement result, int steps)
    {
        var outputs = new RunOutputs(store, run);
        var metrics = Encoding.UTF8.GetString(await outputs.ReadAllBytesAsync("rank-00000/metrics.jsonl"));
        Assert.EndsWith("\n", metrics, StringComparison.Ordinal);
        var recorded = metrics.TrimEnd('\n').Split('\n').Select(line => JsonDocument.Parse(line).RootElement.GetProperty("step").GetInt64()).ToList();
        Assert.Equal(Enumerable.Range(1, steps).Select(s => (long)s), recorded);

        using var summary = JsonDocument.Parse(await outputs.ReadAllBytesAsync("rank-00000/eval/summary.json"));
        Assert.Equal(result.GetProperty("step").GetInt64(), summary.RootElement.GetProperty("step").GetInt64());
        Assert.Equal(
            result.GetProperty("loss").GetDouble().ToString("R", CultureInfo.InvariantCulture),
            summary.RootElement.GetProperty("loss").GetDouble().ToString("R", CultureInfo.InvariantCulture));

        await foreach (var output in outputs.ListAsync("rank-00000"))
        {
            Assert.True(output.IsPlainObject, $"{output.Path} is not one plain object after the job");
        }
    }

    /// <summary>The steps of the complete lines of a <c>metrics.jsonl</c> text.</summary>
    public static List<long> Steps(string metrics) =>
        [.. metrics.Split('\n')[..^1].Select(line => JsonDocument.Parse(line).RootElement.GetProperty("step").GetInt64())];
}
