using Konduktor.Storage.Testing;

using Xunit.Abstractions;

namespace Konduktor.Storage.S3.Tests;

/// <summary>
/// The fault campaign on RadosGW: checkpoints saved and restored through the fault proxy under every profile. The short form
/// runs with the other tests; <c>KONDUKTOR_FAULT_CAMPAIGN_TRANSFERS</c>, <c>_SEED</c> and <c>_REPORT</c> run a longer one.
/// </summary>
[Collection("RadosGW")]
[Trait("Category", "FaultCampaign")]
public sealed class S3FaultCampaignTests(RadosGwServer server, ITestOutputHelper output)
{
    [Fact]
    public Task Campaign_EveryProfile_NoUnclearErrorHangTornCheckpointOrWrongBytes() =>
        FaultCampaign.RunAndAssertAsync(new S3FaultCampaignStore(server), output.WriteLine);

    /// <summary>S3 stores on the test RadosGW: 5 MiB parts, so the large file goes in three parts.</summary>
    private sealed class S3FaultCampaignStore(RadosGwServer server) : IFaultCampaignStore
    {
        public string Name => "s3";

        public Uri ServerEndpoint => server.Endpoint;

        public int LargeFileBytes => 11 * S3ManagerTestSupport.MiB;

        public async Task<ICheckpointStore> CreateStoreAsync(Uri endpoint, string prefix, ResilienceOptions resilience)
        {
            await S3TestStores.EnsureBucketAsync(server);
            return new S3CheckpointStore(
                new Uri($"s3://{S3TestStores.Bucket}/{prefix}"),
                S3TestStores.Options(server, o => o.Endpoint = endpoint.ToString()),
                S3TestStores.Credentials(server),
                resilience);
        }
    }
}
