using Amazon.Runtime;

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace Konduktor.Storage.S3.Tests;

/// <summary>Option validation, endpoint and compatibility resolution, credentials and DI; no server needed.</summary>
public sealed class S3StoreOptionsTests : IDisposable
{
    private static readonly BasicAWSCredentials Keys = new("AKIDEXAMPLE", "not-a-real-secret");

    private readonly string _folder = Directory.CreateTempSubdirectory("konduktor-s3-options-").FullName;

    [Theory]
    [InlineData(nameof(S3StoreOptions.PartSizeMiB), "4")]
    [InlineData(nameof(S3StoreOptions.PartSizeMiB), "1025")]
    [InlineData(nameof(S3StoreOptions.Concurrency), "0")]
    [InlineData(nameof(S3StoreOptions.Concurrency), "65")]
    [InlineData(nameof(S3StoreOptions.SinglePutThresholdMiB), "0")]
    [InlineData(nameof(S3StoreOptions.Endpoint), "ftp://x")]
    [InlineData(nameof(S3StoreOptions.Region), "eu west")]
    [InlineData(nameof(S3StoreOptions.CredentialsFile), "relative/credentials")]
    public void Validate_OutOfRange_NamesKeyAndValue(string property, string value)
    {
        var options = Bind(new Dictionary<string, string?> { [$"{S3StoreOptions.SectionName}:{property}"] = value });

        var ex = Assert.Throws<CheckpointConfigurationException>(() => S3StoreOptionsValidator.ThrowIfInvalid(options));

        Assert.Equal($"{S3StoreOptions.SectionName}:{property}", ex.Key);
        Assert.Equal(value, ex.Value);
    }

    [Fact]
    public void Defaults_AreValid()
    {
        var options = new S3StoreOptions();

        S3StoreOptionsValidator.ThrowIfInvalid(options);
        Assert.Equal(5, options.PartSizeMiB);
        Assert.Equal(32, options.Concurrency);
        Assert.Equal(S3Compatibility.Auto, options.Compatibility);
        Assert.Equal(5L * 1024 * 1024, options.SinglePutThresholdBytes);
    }

    [Fact]
    public void Resolve_AutoWithEndpoint_IsGenericPathStyleWithoutChunking()
    {
        var connection = S3Connection.Resolve(new S3StoreOptions { Endpoint = "http://127.0.0.1:9" }, NoEnvironment);

        Assert.True(connection.Generic);
        Assert.Equal("path", connection.Addressing);
        Assert.Equal(RequestChecksumCalculation.WHEN_REQUIRED, connection.Config.RequestChecksumCalculation);
        Assert.Equal(ResponseChecksumValidation.WHEN_REQUIRED, connection.Config.ResponseChecksumValidation);
        Assert.Equal(0, connection.Config.MaxErrorRetry);
        Assert.False(connection.ConditionalDelete);
        Assert.Equal("us-east-1", connection.Region);
    }

    [Theory]
    [InlineData("AWS_ENDPOINT_URL_S3")]
    [InlineData("AWS_ENDPOINT_URL")]
    public void Resolve_AutoWithEndpointVariable_IsGeneric(string variable)
    {
        var connection = S3Connection.Resolve(new S3StoreOptions(), name => name == variable ? "http://127.0.0.1:9" : null);

        Assert.True(connection.Generic);
        Assert.Equal("http://127.0.0.1:9", connection.Endpoint);
    }

    [Fact]
    public void Resolve_AutoWithProfileEndpointUrl_IsGeneric()
    {
        var file = Path.Join(_folder, "credentials");
        File.WriteAllText(file, "[rgw]\naws_access_key_id = a\naws_secret_access_key = b\nendpoint_url = http://127.0.0.1:9\n");

        var connection = S3Connection.Resolve(new S3StoreOptions { CredentialsFile = file, Profile = "rgw" }, NoEnvironment);

        Assert.True(connection.Generic);
        Assert.Equal("http://127.0.0.1:9", connection.Endpoint);
    }

    [Fact]
    public void Resolve_AutoOnAws_KeepsSdkDefaults()
    {
        var connection = S3Connection.Resolve(new S3StoreOptions { Region = "eu-west-1" }, NoEnvironment);

        Assert.False(connection.Generic);
        Assert.Equal("virtual-hosted", connection.Addressing);
        Assert.True(connection.ConditionalDelete);
        Assert.NotEqual(RequestChecksumCalculation.WHEN_REQUIRED, connection.Config.RequestChecksumCalculation);
        Assert.Equal("eu-west-1", connection.Region);
    }

    [Fact]
    public void Resolve_AwsWithoutAnyRegion_ThrowsNamingTheKey()
    {
        var ex = Assert.Throws<CheckpointConfigurationException>(() => S3Connection.Resolve(new S3StoreOptions { CredentialsFile = Path.Join(_folder, "none") }, NoEnvironment));

        Assert.Equal($"{S3StoreOptions.SectionName}:Region", ex.Key);
    }

    [Fact]
    public void Resolve_GenericOnAws_IsGenericEvenWithoutEndpoint()
    {
        var connection = S3Connection.Resolve(new S3StoreOptions { Region = "us-east-2", Compatibility = S3Compatibility.Generic }, NoEnvironment);

        Assert.True(connection.Generic);
        Assert.Equal(RequestChecksumCalculation.WHEN_REQUIRED, connection.Config.RequestChecksumCalculation);
    }

    [Fact]
    public void Constructor_MissingCredentialsFile_ThrowsCredentialsNamingTheFile()
    {
        var file = Path.Join(_folder, "missing");

        var ex = Assert.Throws<CredentialsException>(() => new S3CheckpointStore(
            new Uri("s3://bkt"), new S3StoreOptions { Endpoint = "http://127.0.0.1:9", CredentialsFile = file }, null, null, null, null, NoEnvironment));

        Assert.Contains(file, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("s3://bucket", "bucket", "", "s3://bucket/")]
    [InlineData("s3://bucket/a/b/", "bucket", "a/b", "s3://bucket/a/b/")]
    [InlineData("s3://bucket/with%20space", "bucket", "with space", "s3://bucket/with%20space/")]
    public void Constructor_Location_ParsesBucketAndPrefix(string location, string bucket, string prefix, string normalized)
    {
        using var store = new S3CheckpointStore(new Uri(location), new S3StoreOptions { Endpoint = "http://127.0.0.1:9" }, Keys);

        Assert.Equal(bucket, store.Bucket);
        Assert.Equal(prefix, store.Prefix);
        Assert.Equal(normalized, store.Location.AbsoluteUri);
    }

    [Theory]
    [InlineData("gs://bucket/p")]
    [InlineData("s3://bucket/a%5Cb")]
    public void Constructor_NotAnS3Location_ThrowsArgument(string location)
    {
        Assert.ThrowsAny<ArgumentException>(() => new S3CheckpointStore(new Uri(location), new S3StoreOptions { Endpoint = "http://127.0.0.1:9" }, Keys));
    }

    [Fact]
    public async Task Key_TooLongWithPrefix_ThrowsArgumentBeforeAnyRequest()
    {
        using var store = new S3CheckpointStore(new Uri("s3://bucket/some-prefix"), new S3StoreOptions { Endpoint = "http://127.0.0.1:9" }, Keys);

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => store.StatAsync(new string('k', 1020)));

        Assert.Contains("some-prefix", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddS3_BindsSectionAndCreatesTheStore()
    {
        var file = Path.Join(_folder, "credentials");
        File.WriteAllText(file, "[default]\naws_access_key_id = a\naws_secret_access_key = b\n");
        var configuration = Config(new Dictionary<string, string?>
        {
            ["Konduktor:Checkpoints:Location"] = "s3://bucket/run-prefix",
            [$"{S3StoreOptions.SectionName}:Endpoint"] = "http://127.0.0.1:9",
            [$"{S3StoreOptions.SectionName}:PartSizeMiB"] = "8",
            [$"{S3StoreOptions.SectionName}:CredentialsFile"] = file,
        });
        var services = new ServiceCollection().AddSingleton(configuration);
        services.AddKonduktorCheckpoints(configuration).AddS3();
        using var provider = services.BuildServiceProvider();

        var store = Assert.IsType<S3CheckpointStore>(provider.GetRequiredService<ICheckpointStore>());

        Assert.Equal("s3://bucket/run-prefix/", store.Location.AbsoluteUri);
        Assert.Equal(8, provider.GetRequiredService<IOptions<S3StoreOptions>>().Value.PartSizeMiB);
        Assert.Equal($"profile 'default' in {file}", store.CredentialSource);
    }

    [Fact]
    public void AddS3_InvalidOption_FailsValidationNamingTheKey()
    {
        var services = new ServiceCollection();
        services.AddKonduktorCheckpoints(o => o.Location = "s3://bucket/p").AddS3(o => o.Concurrency = 0);
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<S3StoreOptions>>().Value);

        Assert.Contains($"{S3StoreOptions.SectionName}:Concurrency", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Store_FormerServiceUrlKey_StillSetsTheEndpointAndWarnsNamingTheNewKey()
    {
        var options = Bind(new Dictionary<string, string?> { [$"{S3StoreOptions.SectionName}:ServiceUrl"] = "http://127.0.0.1:9" });
        var logger = new FakeLogger();

        using var store = new S3CheckpointStore(new Uri("s3://bucket/p"), options, Keys, logger: logger);

        Assert.Equal(("http://127.0.0.1:9", $"{S3StoreOptions.SectionName}:ServiceUrl"), S3Connection.CustomEndpoint(options, NoEnvironment));
        var warning = Assert.Single(logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Warning);
        Assert.Equal(105, warning.Id.Id);
        Assert.Contains($"{S3StoreOptions.SectionName}:Endpoint", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Store_NewEndpointKey_LogsNoWarning()
    {
        var logger = new FakeLogger();

        using var store = new S3CheckpointStore(new Uri("s3://bucket/p"), new S3StoreOptions { Endpoint = "http://127.0.0.1:9" }, Keys, logger: logger);

        Assert.DoesNotContain(logger.Collector.GetSnapshot(), r => r.Level >= LogLevel.Warning);
    }

    [Fact]
    public void Validate_EndpointAndFormerNameDisagree_NamesTheFormerName()
    {
        var options = Bind(new Dictionary<string, string?>
        {
            [$"{S3StoreOptions.SectionName}:Endpoint"] = "http://127.0.0.1:9",
            [$"{S3StoreOptions.SectionName}:ServiceUrl"] = "http://127.0.0.1:10",
        });

        var ex = Assert.Throws<CheckpointConfigurationException>(() => S3StoreOptionsValidator.ThrowIfInvalid(options));

        Assert.Equal($"{S3StoreOptions.SectionName}:ServiceUrl", ex.Key);
        Assert.Contains("former name", ex.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string? NoEnvironment(string name) => null;

    private static IConfiguration Config(Dictionary<string, string?> values) => new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    private static S3StoreOptions Bind(Dictionary<string, string?> values)
    {
        var options = new S3StoreOptions();
        Config(values).GetSection(S3StoreOptions.SectionName).Bind(options);
        return options;
    }
}
