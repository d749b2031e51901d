using Konduktor.Storage.Testing;

using Xunit.Abstractions;

namespace Konduktor.Storage.Gcs.Tests;

/// <summary>
/// The fault campaign on the project's loopback GCS test server: checkpoints saved and restored through the fault proxy
/// under every profile. The short form runs with the other tests; <c>KONDUKTOR_FAULT_CAMPAIGN_TRANSFERS</c> and <c>_SEED</c>
/// run a longer one, <c>_REPORT</c> names where its figures go.
/// </summary>
[Trait("Category", "FaultCampaign")]
public sealed class GcsFaultCampaignTests(ITestOutputHelper output) : IAsyncLifetime
{
    private GcsTestServer _server = null!;

    public async Task InitializeAsync() => _server = await GcsTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public Task Campaign_EveryProfile_NoUnclearErrorHangTornCheckpointOrWrongBytes() =>
        FaultCampaign.RunAndAssertAsync(new GcsFaultCampaignStore(_server), output.WriteLine);

    /// <summary>GCS stores on the test server: 1 MiB chunks, so the large file goes as a resumable upload of four chunks.</summary>
    private sealed class GcsFaultCampaignStore(GcsTestServer server) : IFaultCampaignStore
    {
        private readonly string _bucket = GcsTestStores.NewBucket(server);

        public string Name => "gcs";

        public Uri ServerEndpoint => server.Endpoint;

        public int LargeFileBytes => (3 * GcsTestStores.MiB) + 12345;

        public Task<ICheckpointStore> CreateStoreAsync(Uri endpoint, string prefix, ResilienceOptions resilience) =>
            Task.FromResult<ICheckpointStore>(new GcsCheckpointStore(
                new Uri($"gs://{_bucket}/{prefix}"),
                new GcsStoreOptions { Endpoint = new Uri(endpoint, "storage/v1/").ToString(), PartSizeMiB = 1, Concurrency = 3 },
                credential: null,
                new StoreRetryPolicy(resilience),
                logger: null,
                timeProvider: null,
                environment: _ => null));
    }
}
