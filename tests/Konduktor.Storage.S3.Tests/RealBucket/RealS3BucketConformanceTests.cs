using Konduktor.Storage.Testing;

[assembly: TestFramework(OptInTestFramework.TypeName, OptInTestFramework.AssemblyName)]

namespace Konduktor.Storage.S3.Tests;

/// <summary>
/// The store conformance suite against a real S3 bucket, opt-in: set <c>KONDUKTOR_TEST_S3_BUCKET</c> (and the standard AWS
/// variables for credentials and region; <c>KONDUKTOR_TEST_S3_ENDPOINT</c> for an S3-compatible server). Without it every
/// test is reported as skipped. Each test writes under a fresh random prefix and deletes what it wrote.
/// </summary>
[RequiresEnvironmentVariable(
    BucketVariable,
    "a real S3 bucket (with AWS credentials and region in the standard AWS_* variables)",
    NotApplicable = [nameof(PutAsync_KeyOfMaximumLength_RoundTrips)],
    NotApplicableReason = "a 1024-byte key needs the bucket's root; opt-in runs stay under a random prefix")]
public sealed class RealS3BucketConformanceTests : CheckpointStoreConformanceTests, IAsyncLifetime
{
    private const string BucketVariable = "KONDUKTOR_TEST_S3_BUCKET";
    private readonly List<S3CheckpointStore> _stores = [];

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
        var options = new S3StoreOptions { ServiceUrl = Environment.GetEnvironmentVariable("KONDUKTOR_TEST_S3_ENDPOINT") is { Length: > 0 } url ? url : null };
        var store = new S3CheckpointStore(new Uri($"s3://{bucket}/konduktor-test-{Guid.NewGuid():N}"), options);
        _stores.Add(store);
        return Task.FromResult<ICheckpointStore>(store);
    }
}
