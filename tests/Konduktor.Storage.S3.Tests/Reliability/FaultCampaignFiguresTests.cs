using Konduktor.Storage.Reliability.FaultCampaign;

namespace Konduktor.Storage.S3.Tests.Reliability;

/// <summary>How eng/reliability.sh judges the fault campaign's report.</summary>
public sealed class FaultCampaignFiguresTests : IDisposable
{
    private const string Clean =
        """{"store":"s3","seed":7,"transfers":500,"saves":250,"restores":250,"succeeded":431,"failedClearly":69,"unclearErrors":0,"hung":0,"torn":0,"wrongBytes":0,"faultsByKind":{"reset":40,"stall":12}}""";

    private readonly string _path = Path.Combine(Path.GetTempPath(), $"faults-{Guid.NewGuid():N}.json");

    public void Dispose() => File.Delete(_path);

    [Fact]
    public void Check_CleanFigures_PassesAndPrintsThem()
    {
        File.WriteAllText(_path, Clean);
        using var output = new StringWriter();

        var exit = FaultCampaignFigures.Check(_path, output);

        Assert.Equal(0, exit);
        Assert.Contains("faults: 500 transfers (250 saves, 250 restores), seed 7: succeeded 431, failed clearly 69, unclearErrors 0, hung 0, torn 0, wrongBytes 0; faults injected: reset 40, stall 12", output.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("unclearErrors")]
    [InlineData("hung")]
    [InlineData("torn")]
    [InlineData("wrongBytes")]
    public void Check_OneBadFigure_Fails(string figure)
    {
        File.WriteAllText(_path, Clean.Replace($"\"{figure}\":0", $"\"{figure}\":2", StringComparison.Ordinal));
        using var output = new StringWriter();

        var exit = FaultCampaignFigures.Check(_path, output);

        Assert.Equal(1, exit);
        Assert.Contains($"faults: FAIL: {figure} = 2", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_FigureMissing_Fails()
    {
        File.WriteAllText(_path, Clean.Replace("\"hung\":0,", "", StringComparison.Ordinal));
        using var output = new StringWriter();

        Assert.Equal(1, FaultCampaignFigures.Check(_path, output));
        Assert.Contains("hung = -1", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_NoReport_FailsNamingThePath()
    {
        using var output = new StringWriter();

        Assert.Equal(2, FaultCampaignFigures.Check(_path, output));
        Assert.Contains($"the fault campaign wrote no report at {_path}", output.ToString(), StringComparison.Ordinal);
    }
}
