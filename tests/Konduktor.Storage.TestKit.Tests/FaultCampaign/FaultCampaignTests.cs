using Konduktor.Storage.Testing;

namespace Konduktor.Storage.TestKit.Tests;

/// <summary>The fault campaign's settings, report format and error judgement (the campaign itself runs on RadosGW in the S3 tests).</summary>
public sealed class FaultCampaignTests
{
    [Fact]
    public void FromEnvironment_NothingSet_ShortFormWithTheFixedSeed()
    {
        var options = FaultCampaignOptions.FromEnvironment(_ => null);

        Assert.Equal((FaultCampaignOptions.DefaultTransfers, FaultCampaignOptions.DefaultSeed, null), (options.Transfers, options.Seed, options.ReportPath));
    }

    [Fact]
    public void FromEnvironment_AllSet_AreRead()
    {
        var variables = new Dictionary<string, string>
        {
            ["KONDUKTOR_FAULT_CAMPAIGN_TRANSFERS"] = " 500 ",
            ["KONDUKTOR_FAULT_CAMPAIGN_SEED"] = "7",
            ["KONDUKTOR_FAULT_CAMPAIGN_REPORT"] = "/tmp/report.json",
        };

        var options = FaultCampaignOptions.FromEnvironment(variables.GetValueOrDefault);

        Assert.Equal((500, 7, "/tmp/report.json"), (options.Transfers, options.Seed, options.ReportPath));
    }

    [Theory]
    [InlineData("KONDUKTOR_FAULT_CAMPAIGN_TRANSFERS", "many")]
    [InlineData("KONDUKTOR_FAULT_CAMPAIGN_TRANSFERS", "0")]
    [InlineData("KONDUKTOR_FAULT_CAMPAIGN_SEED", "-1")]
    public void FromEnvironment_BadNumber_ThrowsNamingTheVariable(string variable, string value)
    {
        var error = Assert.Throws<CheckpointConfigurationException>(() => FaultCampaignOptions.FromEnvironment(name => name == variable ? value : null));

        Assert.Equal((variable, value), (error.Key, error.Value));
    }

    [Fact]
    public void ToJson_IsTheDocumentedObject()
    {
        var report = new FaultCampaignReport
        {
            Store = "s3",
            Seed = 7,
            Saves = 3,
            Restores = 2,
            Succeeded = 4,
            FailedClearly = 1,
            FaultsByKind = new Dictionary<string, int> { ["slow-link"] = 2, ["503-SlowDown"] = 5 },
        };

        Assert.Equal(
            """{"store":"s3","seed":7,"transfers":5,"saves":3,"restores":2,"succeeded":4,"failedClearly":1,"unclearErrors":0,"hung":0,"torn":0,"wrongBytes":0,"faultsByKind":{"503-SlowDown":5,"slow-link":2}}""",
            report.ToJson());
        Assert.True(report.Passed);
    }

    [Fact]
    public void Unclear_LibraryExceptionSayingWhatFailed_IsClear()
    {
        Assert.Null(FaultCampaign.Unclear(new RetriesExhaustedException("s3-put", 5, new TransientStoreException("503 SlowDown"))));
    }

    [Fact]
    public void Unclear_ForeignExceptionOrVagueMessage_IsUnclear()
    {
        Assert.Contains("HttpIOException", FaultCampaign.Unclear(new HttpIOException(HttpRequestError.ResponseEnded, "ended")), StringComparison.Ordinal);
        Assert.Contains("does not say", FaultCampaign.Unclear(new CheckpointStorageException("failed")), StringComparison.Ordinal);
        Assert.Contains("does not say", FaultCampaign.Unclear(new CheckpointStorageException("One or more errors occurred. (x)")), StringComparison.Ordinal);
    }
}
