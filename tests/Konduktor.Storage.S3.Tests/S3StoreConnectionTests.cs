using System.Diagnostics;

using Amazon.Runtime;

namespace Konduktor.Storage.S3.Tests;

/// <summary>Endpoints, credentials and compatibility settings against a real RadosGW.</summary>
[Collection("RadosGW")]
public sealed class S3StoreConnectionTests(RadosGwServer server) : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("konduktor-s3-creds-").FullName;

    [Fact]
    public async Task PutAsync_MissingBucket_ThrowsNamingTheBucketAndEndpoint()
    {
        using var store = new S3CheckpointStore(new Uri("s3://no-such-bucket-konduktor/p"), S3TestStores.Options(server), S3TestStores.Credentials(server));

        var ex = await Assert.ThrowsAsync<CheckpointStorageException>(() => store.PutAsync("k", new MemoryStream([1])));

        Assert.Contains("'no-such-bucket-konduktor' does not exist", ex.Message, StringComparison.Ordinal);
        Assert.Contains(server.Endpoint.ToString(), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListAsync_MissingBucket_ThrowsNamingTheBucket()
    {
        using var store = new S3CheckpointStore(new Uri("s3://no-such-bucket-konduktor"), S3TestStores.Options(server), S3TestStores.Credentials(server));

        var ex = await Assert.ThrowsAsync<CheckpointStorageException>(async () =>
        {
            await foreach (var _ in store.ListAsync(string.Empty))
            {
            }
        });

        Assert.Contains("no-such-bucket-konduktor", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PutAsync_WrongSecret_ThrowsAccessDeniedWithinSeconds()
    {
        var stopwatch = Stopwatch.StartNew();
        using var store = await S3TestStores.CreateAsync(server, credentials: new BasicAWSCredentials(server.AccessKey, "wrong-secret"));

        var ex = await Assert.ThrowsAsync<StoreAccessDeniedException>(() => store.PutAsync("k", new MemoryStream([1])));

        Assert.InRange(stopwatch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        Assert.Contains("in code", ex.CredentialSource, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-secret", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Store_CredentialsOnlyFromCredentialsFile_Works()
    {
        var file = WriteCredentialsFile("training", server.AccessKey, server.SecretKey);
        await S3TestStores.EnsureBucketAsync(server);
        using var store = new S3CheckpointStore(
            new Uri($"s3://{S3TestStores.Bucket}/creds-{Guid.NewGuid():N}"),
            S3TestStores.Options(server, o =>
            {
                o.CredentialsFile = file;
                o.Profile = "training";
            }));

        await store.PutAsync("k", new MemoryStream("v"u8.ToArray()));

        Assert.Equal(1, (await store.StatAsync("k"))!.Length);
        Assert.Equal($"profile 'training' in {file}", store.CredentialSource);
    }

    [Fact]
    public void Constructor_ProfileMissingFromCredentialsFile_ThrowsCredentialsNamingTheSource()
    {
        var file = WriteCredentialsFile("training", server.AccessKey, server.SecretKey);

        var ex = Assert.Throws<CredentialsException>(() => new S3CheckpointStore(
            new Uri("s3://bkt/p"),
            S3TestStores.Options(server, o =>
            {
                o.CredentialsFile = file;
                o.Profile = "nope";
            })));

        Assert.Equal([$"profile 'nope' in {file}"], ex.SourcesTried);
        Assert.DoesNotContain(server.SecretKey, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CompatibilityAuto_CustomEndpoint_UploadsThatRadosGwAccepts()
    {
        // RadosGW rejects the SDK's default aws-chunked uploads, so a successful single PUT and multipart upload prove the setting.
        using var store = await S3TestStores.CreateAsync(server, o => o.Compatibility = S3Compatibility.Auto);
        var data = new byte[11 * 1024 * 1024];
        new Random(11).NextBytes(data);

        await store.PutAsync("small", new MemoryStream([1, 2, 3]));
        var writer = await store.OpenWriteAsync("large");
        await using (writer)
        {
            await writer.WriteAsync(data);
            await writer.CompleteAsync();
        }

        Assert.Equal(3, (await store.StatAsync("small"))!.Length);
        Assert.Equal(data.Length, (await store.StatAsync("large"))!.Length);
    }

    [Fact]
    public async Task CompatibilityAws_AgainstRadosGw_IsRejected()
    {
        // The control for the test above: SDK defaults (aws-chunked with a CRC32 trailer) are what RadosGW refuses.
        using var store = await S3TestStores.CreateAsync(server, o =>
        {
            o.Compatibility = S3Compatibility.Aws;
            o.ForcePathStyle = true;
        });

        var ex = await Assert.ThrowsAnyAsync<CheckpointStorageException>(() => store.PutAsync("k", new MemoryStream([1, 2, 3])));

        Assert.IsNotType<TransientStoreException>(ex);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string WriteCredentialsFile(string profile, string accessKey, string secretKey)
    {
        var path = Path.Join(_folder, "credentials");
        File.WriteAllText(path, $"[{profile}]\naws_access_key_id = {accessKey}\naws_secret_access_key = {secretKey}\n");
        return path;
    }
}
