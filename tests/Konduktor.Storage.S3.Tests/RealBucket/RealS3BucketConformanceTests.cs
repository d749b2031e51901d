using Konduktor.Storage.Testing;

[assembly: TestFramework(OptInTestFramework.TypeName, OptInTestFramework.AssemblyName)]

namespace Konduktor.Storage.S3.Tests;

/// <summary>
/// The store conformance suite against a real S3 bucket, opt-in: set <c>KONDUKTOR_TEST_S3_BUCKET</c> (and the standard AWS
/// variables for credentials and region; <c>KONDUKTOR_TEST_S3_ENDPOINT</c> for an S3-compatible server). Without it every
/// test is reported as skipped.
/// </summary>
[RequiresEnvironmentVariable(
    BucketVariable,
    "a real S3 bucket (with AWS credentials and region in the standard AWS_* variables)",
    NotApplicable = [nameof(PutAsync_KeyOfMaximumLength_RoundTrips)],
    NotApplicableReason = "a 1024-byte key needs the bucket's root; opt-in runs stay under a random prefix")]
public sealed class RealS3BucketConformanceTests() : RealBucketConformanceTests(BucketVariable)
{
    private const string BucketVariable = "KONDUKTOR_TEST_S3_BUCKET";

    protected override string Scheme => "s3";

    protected override ICheckpointStore CreateStore(Uri location) => new S3CheckpointStore(
        location,
        new S3StoreOptions { Endpoint = Environment.GetEnvironmentVariable("KONDUKTOR_TEST_S3_ENDPOINT") is { Length: > 0 } url ? url : null });
}
