using System.Net;
using System.Net.Http.Headers;

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace Konduktor.Storage.Gcs.Tests;

/// <summary>Option validation, location parsing, error mapping and DI; no server needed.</summary>
public sealed class GcsStoreOptionsTests
{
    private const string LocalBaseUri = "http://127.0.0.1:9/storage/v1/";

    [Theory]
    [InlineData(nameof(GcsStoreOptions.PartSizeMiB), "0")]
    [InlineData(nameof(GcsStoreOptions.PartSizeMiB), "0.3")]
    [InlineData(nameof(GcsStoreOptions.PartSizeMiB), "1024.25")]
    [InlineData(nameof(GcsStoreOptions.PartSizeMiB), "-1")]
    [InlineData(nameof(GcsStoreOptions.Concurrency), "0")]
    [InlineData(nameof(GcsStoreOptions.Concurrency), "65")]
    [InlineData(nameof(GcsStoreOptions.Endpoint), "ftp://x/storage/v1/")]
    [InlineData(nameof(GcsStoreOptions.Endpoint), "storage/v1")]
    [InlineData(nameof(GcsStoreOptions.ProjectId), "my project")]
    [InlineData(nameof(GcsStoreOptions.CredentialsFile), "relative/key.json")]
    public void Validate_Invalid_NamesKeyAndValue(string property, string value)
    {
        var options = Bind(new Dictionary<string, string?> { [$"{GcsStoreOptions.SectionName}:{property}"] = value });

        var ex = Assert.Throws<CheckpointConfigurationException>(() => GcsStoreOptionsValidator.ThrowIfInvalid(options));

        Assert.Equal($"{GcsStoreOptions.SectionName}:{property}", ex.Key);
        Assert.Equal(value, ex.Value);
    }

    [Theory]
    [InlineData("0.25", 256 * 1024)]
    [InlineData("8", 8 * 1024 * 1024)]
    [InlineData("16.75", (16 * 1024 * 1024) + (768 * 1024))]
    public void Validate_QuarterMiBMultiples_AreAcceptedAsExactChunkSizes(string value, int bytes)
    {
        var options = Bind(new Dictionary<string, string?> { [$"{GcsStoreOptions.SectionName}:PartSizeMiB"] = value });

        GcsStoreOptionsValidator.ThrowIfInvalid(options);

        Assert.Equal(bytes, options.ChunkSizeBytes);
        Assert.Equal(0, options.ChunkSizeBytes % (256 * 1024));
    }

    [Fact]
    public void Defaults_AreValid()
    {
        var options = new GcsStoreOptions();

        GcsStoreOptionsValidator.ThrowIfInvalid(options);
        Assert.Equal(16, options.PartSizeMiB);
        Assert.Equal(16, options.Concurrency);
        Assert.Null(options.Endpoint);
    }

    [Theory]
    [InlineData("gs://bucket", "bucket", "", "gs://bucket/")]
    [InlineData("gs://bucket/a/b/", "bucket", "a/b", "gs://bucket/a/b/")]
    [InlineData("gs://bucket/with%20space", "bucket", "with space", "gs://bucket/with%20space/")]
    public void Constructor_Location_ParsesBucketAndPrefix(string location, string bucket, string prefix, string normalized)
    {
        using var store = new GcsCheckpointStore(new Uri(location), new GcsStoreOptions { Endpoint = LocalBaseUri });

        Assert.Equal(bucket, store.Bucket);
        Assert.Equal(prefix, store.Prefix);
        Assert.Equal(normalized, store.Location.AbsoluteUri);
        Assert.True(store.Capabilities.CreateOnly);
        Assert.True(store.Capabilities.ConditionalDelete);
        Assert.Equal("crc32c", store.Capabilities.ServerChecksumAlgorithm);
        Assert.IsNotAssignableFrom<IPendingUploadStore>(store);
    }

    [Theory]
    [InlineData("s3://bucket/p")]
    [InlineData("gs://bucket/a%5Cb")]
    [InlineData("gs://bucket/a/../b")]
    [InlineData("gs://bucket/a//b")]
    [InlineData("gs://bucket/p?x=1")]
    [InlineData("gs://bucket/p#f")]
    [InlineData("gs://bucket/a%2Fb")]
    public void Constructor_NotAGcsLocation_ThrowsArgument(string location)
    {
        Assert.ThrowsAny<ArgumentException>(() => new GcsCheckpointStore(new Uri(location), new GcsStoreOptions { Endpoint = LocalBaseUri }));
    }

    [Fact]
    public void Constructor_ClientRetriesAreOff()
    {
        using var store = new GcsCheckpointStore(new Uri("gs://bucket/p"), new GcsStoreOptions { Endpoint = LocalBaseUri });

        Assert.Equal(1, store.Transport.Service.HttpClient.MessageHandler.NumTries);
    }

    [Fact]
    public async Task Key_TooLongWithPrefix_ThrowsArgumentBeforeAnyRequest()
    {
        using var store = new GcsCheckpointStore(new Uri("gs://bucket/some-prefix"), new GcsStoreOptions { Endpoint = LocalBaseUri });

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => store.StatAsync(new string('k', 1020)));

        Assert.Contains("some-prefix", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_404OfAListingOrAnUploadStart_SaysTheBucketIsMissing()
    {
        var error = Mapper().FromStatus(404, "Not Found", null, "LIST", null, "n/a", new InvalidOperationException());

        Assert.IsType<CheckpointStorageException>(error);
        Assert.Contains("bucket 'bkt' does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_404OfAnObject_IsNotFound()
    {
        Assert.IsType<ObjectNotFoundException>(Mapper().FromStatus(404, "No such object: bkt/p/k", null, "GET", "k", "n/a", new InvalidOperationException()));
    }

    [Fact]
    public void Map_403_IsAccessDeniedNamingTheCredentialSource()
    {
        var error = Assert.IsType<StoreAccessDeniedException>(Mapper().FromStatus(403, "forbidden", null, "GET", "k", "n/a", new InvalidOperationException()));

        Assert.Equal("a test source", error.CredentialSource);
        Assert.Contains("a test source", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_412_IsPreconditionFailedWithTheReason()
    {
        var error = Assert.IsType<PreconditionFailedException>(Mapper().FromStatus(412, "", null, "UPLOAD CHUNK", "k", "it already exists", new InvalidOperationException()));

        Assert.Contains("it already exists", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(408)]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(503)]
    public void Map_RetryableStatus_IsTransient(int status)
    {
        Assert.IsType<TransientStoreException>(Mapper().FromStatus(status, "", null, "GET", "k", "n/a", new InvalidOperationException()));
    }

    [Theory]
    [InlineData(400)]
    [InlineData(409)]
    public void Map_OtherClientErrors_ArePermanent(int status)
    {
        var error = Mapper().FromStatus(status, "bad", null, "GET", "k", "n/a", new InvalidOperationException());

        Assert.Equal(typeof(CheckpointStorageException), error.GetType());
    }

    [Fact]
    public async Task Map_429WithRetryAfter_CarriesTheServersDelay()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests) { Content = new StringContent("slow down") };
        response.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(7));

        var error = Assert.IsType<TransientStoreException>(await Mapper().FromResponseAsync(response, "UPLOAD CHUNK", "k", "n/a", CancellationToken.None));

        Assert.Equal(TimeSpan.FromSeconds(7), error.RetryAfter);
    }

    [Fact]
    public void Crc32C_KnownVector_MatchesCastagnoli()
    {
        // RFC 3720's check value: CRC32C("123456789") = 0xE3069283; GCS writes it as base64 of the big-endian bytes.
        var crc = new Crc32C();
        crc.Append("12345"u8);
        crc.Append("6789"u8);

        Assert.Equal(0xE3069283u, crc.Value);
        Assert.Equal("4waSgw==", crc.Base64);
    }

    [Fact]
    public void Crc32C_LongInput_SameInOneOrManyPieces()
    {
        var data = new byte[100_003];
        new Random(1).NextBytes(data);
        var whole = new Crc32C();
        whole.Append(data);
        var pieces = new Crc32C();
        for (var i = 0; i < data.Length; i += 997)
        {
            pieces.Append(data.AsSpan(i, Math.Min(997, data.Length - i)));
        }

        Assert.Equal(whole.Value, pieces.Value);
    }

    [Fact]
    public void AddGcs_BindsSectionAndCreatesTheStore()
    {
        var configuration = Config(new Dictionary<string, string?>
        {
            ["Konduktor:Checkpoints:Location"] = "gs://bucket/run-prefix",
            [$"{GcsStoreOptions.SectionName}:Endpoint"] = LocalBaseUri,
            [$"{GcsStoreOptions.SectionName}:PartSizeMiB"] = "8.5",
        });
        var services = new ServiceCollection().AddSingleton(configuration);
        services.AddKonduktorCheckpoints(configuration).AddGcs();
        using var provider = services.BuildServiceProvider();

        var store = Assert.IsType<GcsCheckpointStore>(provider.GetRequiredService<ICheckpointStore>());

        Assert.Equal("gs://bucket/run-prefix/", store.Location.AbsoluteUri);
        Assert.Equal(8.5, provider.GetRequiredService<IOptions<GcsStoreOptions>>().Value.PartSizeMiB);
        Assert.Equal(new Uri(LocalBaseUri), store.Transport.BaseUri);
    }

    [Fact]
    public void AddGcs_FromConfigurationArgument_BindsTheSection()
    {
        var configuration = Config(new Dictionary<string, string?> { [$"{GcsStoreOptions.SectionName}:Concurrency"] = "9" });
        var services = new ServiceCollection();
        services.AddKonduktorCheckpoints(o => o.Location = "gs://bucket/p").AddGcs(configuration);
        using var provider = services.BuildServiceProvider();

        Assert.Equal(9, provider.GetRequiredService<IOptions<GcsStoreOptions>>().Value.Concurrency);
    }

    [Fact]
    public void AddGcs_InvalidOption_FailsValidationNamingTheKey()
    {
        var services = new ServiceCollection();
        services.AddKonduktorCheckpoints(o => o.Location = "gs://bucket/p").AddGcs(o => o.PartSizeMiB = 0.1);
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<GcsStoreOptions>>().Value);

        Assert.Contains($"{GcsStoreOptions.SectionName}:PartSizeMiB", ex.Message, StringComparison.Ordinal);
    }

    private static GcsErrorMapper Mapper() =>
        new(new Uri("gs://bkt/p/"), "bkt", new Uri(LocalBaseUri), "a test source", TimeProvider.System);

    private static IConfiguration Config(Dictionary<string, string?> values) => new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    [Fact]
    public void Store_FormerKeys_StillWorkAndEachWarnsNamingItsNewKey()
    {
        var options = Bind(new Dictionary<string, string?>
        {
            [$"{GcsStoreOptions.SectionName}:BaseUri"] = LocalBaseUri,
            [$"{GcsStoreOptions.SectionName}:ChunkSizeMiB"] = "8.5",
        });
        var logger = new FakeLogger();

        using var store = new GcsCheckpointStore(new Uri("gs://bucket/p"), options, logger: logger);

        Assert.Equal(new Uri(LocalBaseUri), store.Transport.BaseUri);
        Assert.Equal((int)(8.5 * 1024 * 1024), options.ChunkSizeBytes);
        var warnings = logger.Collector.GetSnapshot().Where(r => r.Level == LogLevel.Warning).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.All(warnings, w => Assert.Equal(205, w.Id.Id));
        Assert.Contains(warnings, w => w.Message.Contains($"{GcsStoreOptions.SectionName}:PartSizeMiB", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Message.Contains($"{GcsStoreOptions.SectionName}:Endpoint", StringComparison.Ordinal));
    }

    [Fact]
    public void Store_EndpointIsAServerRoot_UsesItsJsonApi()
    {
        var logger = new FakeLogger();

        using var store = new GcsCheckpointStore(new Uri("gs://bucket/p"), new GcsStoreOptions { Endpoint = "http://127.0.0.1:9" }, logger: logger);

        Assert.Equal(new Uri(LocalBaseUri), store.Transport.BaseUri);
        Assert.DoesNotContain(logger.Collector.GetSnapshot(), r => r.Level >= LogLevel.Warning);
    }

    [Fact]
    public void Validate_NewAndFormerNamesDisagree_NamesEveryFormerName()
    {
        var options = Bind(new Dictionary<string, string?>
        {
            [$"{GcsStoreOptions.SectionName}:Endpoint"] = LocalBaseUri,
            [$"{GcsStoreOptions.SectionName}:BaseUri"] = "http://127.0.0.1:10/storage/v1/",
            [$"{GcsStoreOptions.SectionName}:PartSizeMiB"] = "4",
            [$"{GcsStoreOptions.SectionName}:ChunkSizeMiB"] = "8",
        });

        var ex = Assert.Throws<CheckpointConfigurationException>(() => GcsStoreOptionsValidator.ThrowIfInvalid(options));

        Assert.Contains($"{GcsStoreOptions.SectionName}:BaseUri", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"{GcsStoreOptions.SectionName}:ChunkSizeMiB", ex.Message, StringComparison.Ordinal);
    }

    private static GcsStoreOptions Bind(Dictionary<string, string?> values)
    {
        var options = new GcsStoreOptions();
        Config(values).GetSection(GcsStoreOptions.SectionName).Bind(options);
        return options;
    }
}
