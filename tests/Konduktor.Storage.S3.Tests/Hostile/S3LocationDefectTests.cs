using Amazon.Runtime;

namespace Konduktor.Storage.S3.Tests;

/// <summary>
/// Issue 18, defect 5 for the S3 store (the core's parser is tested in Konduktor.Storage.Tests, LocationAndScopeDefectTests):
/// the store's own constructor parses its location with the same parser as dependency injection. No server needed.
/// </summary>
public sealed class S3LocationDefectTests
{
    private static readonly AWSCredentials Keys = new BasicAWSCredentials("access", "secret");

    [Theory]
    [InlineData("s3://bucket/a/../b")]
    [InlineData("s3://bucket/./b")]
    [InlineData("s3://bucket/a//b")]
    [InlineData("s3://bucket/p?x=1")]
    [InlineData("s3://bucket/p#f")]
    [InlineData("s3://bucket/a%zz")]
    [InlineData("s3://bucket/a%2Fb")]
    public void S3Store_LocationNotUnderstoodExactly_ThrowsArgumentNamingIt(string location)
    {
        var error = Assert.ThrowsAny<ArgumentException>(
            () => new S3CheckpointStore(new Uri(location), new S3StoreOptions { Endpoint = "http://127.0.0.1:9" }, Keys));

        Assert.Contains(location, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void S3Store_PercentEncodedPrefix_DecodedOnceAsByTheParser()
    {
        var s3 = CheckpointLocation.Parse("s3://bucket/with%20space%25");

        using var store = new S3CheckpointStore(s3.Uri, new S3StoreOptions { Endpoint = "http://127.0.0.1:9" }, Keys);

        Assert.Equal((s3.Prefix, "with space%"), (store.Prefix, s3.Prefix));
    }
}
