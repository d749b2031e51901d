using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Konduktor.Storage.Reliability.FaultCampaign;

/// <summary>
/// Reads the figures the fault campaign (an xUnit class of the S3 tests, trait <c>Category=FaultCampaign</c>) writes to
/// <c>KONDUKTOR_FAULT_CAMPAIGN_REPORT</c>, prints them, and judges them: any unclear error, hang, torn checkpoint or
/// wrong byte fails the campaign.
/// </summary>
public static class FaultCampaignFigures
{
    private static readonly string[] MustBeZero = ["unclearErrors", "hung", "torn", "wrongBytes"];

    /// <summary>Prints the figures of <paramref name="path"/>; returns 0 when they pass, 1 when not, 2 when the report is missing or unreadable.</summary>
    public static int Check(string path, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!File.Exists(path))
        {
            output.WriteLine($"faults: FAIL: the fault campaign wrote no report at {path}");
            return 2;
        }

        JsonElement figures;
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(path));
            figures = json.RootElement.Clone();
        }
        catch (JsonException e)
        {
            output.WriteLine($"faults: FAIL: the report at {path} is not JSON: {e.Message}");
            return 2;
        }

        long Number(string name) => figures.TryGetProperty(name, out var value) && value.TryGetInt64(out var n) ? n : -1;
        var line = new StringBuilder().Append(CultureInfo.InvariantCulture, $"faults: {Number("transfers")} transfers ({Number("saves")} saves, {Number("restores")} restores), seed {Number("seed")}: ");
        line.Append(CultureInfo.InvariantCulture, $"succeeded {Number("succeeded")}, failed clearly {Number("failedClearly")}");
        foreach (var name in MustBeZero)
        {
            line.Append(CultureInfo.InvariantCulture, $", {name} {Number(name)}");
        }

        if (figures.TryGetProperty("faultsByKind", out var kinds) && kinds.ValueKind == JsonValueKind.Object)
        {
            line.Append("; faults injected: ").AppendJoin(", ", kinds.EnumerateObject().Select(k => $"{k.Name} {k.Value}"));
        }

        output.WriteLine(line.ToString());
        output.WriteLine("FIGURES " + figures.GetRawText());
        var failed = MustBeZero.Where(n => Number(n) != 0).ToList();
        if (failed.Count > 0)
        {
            output.WriteLine($"faults: FAIL: {string.Join(", ", failed.Select(n => $"{n} = {Number(n)}"))} (a missing figure reads -1)");
            return 1;
        }

        return 0;
    }
}
