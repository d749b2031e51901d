using Konduktor.Storage.Testing;

[assembly: TestFramework(OptInTestFramework.TypeName, OptInTestFramework.AssemblyName)]

namespace Konduktor.Storage.Gcs.Tests;

/// <summary>
/// The store conformance suite against a real GCS bucket, opt-in: set <c>KONDUKTOR_TEST_GCS_BUCKET</c> (credentials come from
/// Application Default Credentials). Without it every test is reported as skipped. Each test writes under a fresh random
/// prefix and deletes what it wrote.
/// </summary>
[RequiresEnvironmentVariable(
    BucketVariable,
    "a real GCS bucket (with Application Default Credentials)",
    NotApplicable = [nameof(PutAsync_KeyOfMaximumLength_RoundTrips)],
    NotApplicableReason = "a 1024-byte key needs the bucket's root; opt-in runs stay under a random prefix")]
public sealed class RealGcsBucketConformanceTests : CheckpointStoreConformanceTests, IAsyncLifetime
{
    private const string BucketVariable = "KONDUKTOR_TEST_GCS_BUCKET";
    private readonly List<GcsCheckpointStore> _stores = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            using (store)
            {
                await foreach (var entry in store.ListAsync(string.Empty))
                {
                    await store.DeleteAsync(entry.Key);
                }
            }
        }
    }

    protected override Task<ICheckpointStore> CreateStoreAsync()
    {
        var bucket = Environment.GetEnvironmentVariable(BucketVariable)!;
        var store = new GcsCheckpointStore(new Uri($"gs://{bucket}/konduktor-test-{Guid.NewGuid():N}"), new GcsStoreOptions { ChunkSizeMiB = 1 });
        _stores.Add(store);
        return Task.FromResult<ICheckpointStore>(store);
    }
}
