using Konduktor.Storage.Testing;

[assembly: TestFramework(OptInTestFramework.TypeName, OptInTestFramework.AssemblyName)]

namespace Konduktor.Storage.Gcs.Tests;

/// <summary>
/// The store conformance suite against a real GCS bucket, opt-in: set <c>KONDUKTOR_TEST_GCS_BUCKET</c> (credentials come from
/// Application Default Credentials). Without it every test is reported as skipped.
/// </summary>
[RequiresEnvironmentVariable(
    BucketVariable,
    "a real GCS bucket (with Application Default Credentials)",
    NotApplicable = [nameof(PutAsync_KeyOfMaximumLength_RoundTrips)],
    NotApplicableReason = "a 1024-byte key needs the bucket's root; opt-in runs stay under a random prefix")]
public sealed class RealGcsBucketConformanceTests() : RealBucketConformanceTests(BucketVariable)
{
    private const string BucketVariable = "KONDUKTOR_TEST_GCS_BUCKET";

    protected override string Scheme => "gs";

    protected override ICheckpointStore CreateStore(Uri location) => new GcsCheckpointStore(location, new GcsStoreOptions { PartSizeMiB = 1 });
}
