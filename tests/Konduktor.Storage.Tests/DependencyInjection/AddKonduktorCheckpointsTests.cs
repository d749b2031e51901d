using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Konduktor.Storage.Tests;

public sealed class AddKonduktorCheckpointsTests
{
    private static readonly JobContext Job = JobContext.Create(rank: 1, nodeCount: 2, jobName: "job-from-env");

    private static ServiceProvider Build(Dictionary<string, string?> settings, Action<IKonduktorCheckpointsBuilder>? extend = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton(Job);
        var builder = services.AddKonduktorCheckpoints(configuration);
        extend?.Invoke(builder);
        return services.BuildServiceProvider(validateScopes: true);
    }

    private static async Task<string> StartFailureAsync(Dictionary<string, string?> settings, Action<IKonduktorCheckpointsBuilder>? extend = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton(Job);
        var checkpoints = builder.Services.AddKonduktorCheckpoints(builder.Configuration);
        extend?.Invoke(checkpoints);
        using var host = builder.Build();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        return error.Message;
    }

    [Fact]
    public void AddKonduktorCheckpoints_Configuration_BindsTheSectionAndRegistersTheManager()
    {
        var dir = Path.Combine(Path.GetTempPath(), "konduktor-tests", Guid.NewGuid().ToString("N"));
        using var provider = Build(new()
        {
            ["Konduktor:Checkpoints:Location"] = $"file://{dir}",
            ["Konduktor:Checkpoints:RunId"] = "run-7",
            ["Konduktor:Checkpoints:Retention:KeepLast"] = "5",
            ["Konduktor:Checkpoints:Retention:KeepBest"] = "2",
            ["Konduktor:Checkpoints:Retention:BestMetric"] = "accuracy",
            ["Konduktor:Checkpoints:Retention:BestMode"] = "Max",
            ["Konduktor:Checkpoints:Retention:Pinned:0"] = "100",
            ["Konduktor:Checkpoints:Resilience:MaxDelay"] = "00:00:10",
            ["Konduktor:Checkpoints:GarbageGracePeriod"] = "02:00:00",
        });

        var manager = provider.GetRequiredService<CheckpointManager>();

        Assert.Same(manager, provider.GetRequiredService<CheckpointManager>());
        Assert.Equal("run-7", manager.RunId);
        Assert.Equal("rank-00001", manager.Scope);
        Assert.Equal(new Uri($"file://{dir}/"), manager.Store.Location);
        Assert.IsType<FileSystemCheckpointStore>(provider.GetRequiredService<ICheckpointStore>());
        Assert.Equal((5, 2, "accuracy", BestMode.Max), (manager.Options.Retention.KeepLast, manager.Options.Retention.KeepBest, manager.Options.Retention.BestMetric, manager.Options.Retention.BestMode));
        Assert.Equal([100L], manager.Options.Retention.Pinned);
        Assert.Equal(TimeSpan.FromSeconds(10), manager.Options.Resilience.MaxDelay);
        Assert.Equal(TimeSpan.FromHours(2), manager.Options.GarbageGracePeriod);
    }

    [Fact]
    public void AddKonduktorCheckpoints_NoRunId_UsesTheJobName()
    {
        using var provider = Build(new() { ["Konduktor:Checkpoints:Location"] = "memory://a" });

        Assert.Equal("job-from-env", provider.GetRequiredService<CheckpointManager>().RunId);
    }

    [Fact]
    public void AddKonduktorCheckpoints_EnvironmentVariable_SetsTheLocation()
    {
        const string Variable = "Konduktor__Checkpoints__Location";
        Environment.SetEnvironmentVariable(Variable, "memory://from-environment");
        try
        {
            var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
            var services = new ServiceCollection().AddSingleton(Job);
            services.AddKonduktorCheckpoints(configuration);
            using var provider = services.BuildServiceProvider();

            Assert.Equal(new Uri("memory://from-environment/"), provider.GetRequiredService<ICheckpointStore>().Location);
        }
        finally
        {
            Environment.SetEnvironmentVariable(Variable, null);
        }
    }

    [Fact]
    public async Task AddKonduktorCheckpoints_ActionOverload_ConfiguresInCode()
    {
        var services = new ServiceCollection().AddSingleton(Job);
        services.AddKonduktorCheckpoints(o =>
        {
            o.Location = "memory://code";
            o.Scope = "eval";
        });
        await using var provider = services.BuildServiceProvider();

        var manager = provider.GetRequiredService<CheckpointManager>();
        await manager.SaveAsync(1, new Dictionary<string, Stream> { ["a"] = new MemoryStream([1]) });

        Assert.Equal("eval", manager.Scope);
        Assert.Equal(2, ((InMemoryCheckpointStore)provider.GetRequiredService<ICheckpointStore>()).Count);
    }

    [Fact]
    public void AddKonduktorCheckpoints_RelativePath_IsTheFileSystemStoreUnderTheCurrentDirectory()
    {
        using var provider = Build(new() { ["Konduktor:Checkpoints:Location"] = "ckpt-relative" });

        Assert.Equal(new Uri(Path.GetFullPath("ckpt-relative") + "/"), provider.GetRequiredService<ICheckpointStore>().Location);
    }

    [Fact]
    public void AddStoreScheme_CustomScheme_GetsTheParsedLocation()
    {
        CheckpointLocation? seen = null;
        using var provider = Build(
            new() { ["Konduktor:Checkpoints:Location"] = "custom://bucket-1/some/prefix" },
            b => b.AddStoreScheme("custom", (_, location) =>
            {
                seen = location;
                return new InMemoryCheckpointStore("custom");
            }));

        provider.GetRequiredService<CheckpointManager>();

        Assert.Equal(("custom", "bucket-1", "some/prefix"), (seen!.Scheme, seen.Bucket, seen.Prefix));
    }

    [Fact]
    public async Task StartAsync_UnknownScheme_FailsNamingTheKeyTheValueAndTheSupportedSchemes()
    {
        var message = await StartFailureAsync(new() { ["Konduktor:Checkpoints:Location"] = "ftp://host/dir", ["Konduktor:Checkpoints:RunId"] = "r" });

        Assert.Contains("Konduktor:Checkpoints:Location", message);
        Assert.Contains("ftp://host/dir", message);
        Assert.Contains("file://", message);
    }

    [Theory]
    [InlineData("s3://bucket/prefix", "Konduktor.Storage.S3", ".AddS3()")]
    [InlineData("gs://bucket/prefix", "Konduktor.Storage.Gcs", ".AddGcs()")]
    public async Task StartAsync_SchemeOfAPackageNotRegistered_NamesThePackage(string location, string package, string call)
    {
        var message = await StartFailureAsync(new() { ["Konduktor:Checkpoints:Location"] = location });

        Assert.Contains(package, message);
        Assert.Contains(call, message);
    }

    [Fact]
    public async Task StartAsync_MissingLocation_NamesTheKey()
    {
        var message = await StartFailureAsync([]);

        Assert.Contains("Konduktor:Checkpoints:Location is not set", message);
    }

    [Fact]
    public async Task StartAsync_InvalidRetention_NamesTheKeyAndValue()
    {
        var message = await StartFailureAsync(new()
        {
            ["Konduktor:Checkpoints:Location"] = "memory://x",
            ["Konduktor:Checkpoints:Retention:KeepLast"] = "-2",
        });

        Assert.Contains("Konduktor:Checkpoints:Retention:KeepLast = '-2'", message);
    }

    [Fact]
    public async Task StartAsync_InvalidResilience_NamesTheKey()
    {
        var message = await StartFailureAsync(new()
        {
            ["Konduktor:Checkpoints:Location"] = "memory://x",
            ["Konduktor:Checkpoints:Resilience:MaxRetryAttempts"] = "1000",
        });

        Assert.Contains("Konduktor:Checkpoints:Resilience:MaxRetryAttempts", message);
    }

    [Fact]
    public async Task StartAsync_ValidConfiguration_Starts()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Konduktor:Checkpoints:Location"] = "memory://ok" });
        builder.Services.AddSingleton(Job);
        builder.Services.AddKonduktorCheckpoints(builder.Configuration);
        using var host = builder.Build();

        await host.StartAsync();
        await host.StopAsync();
    }

    [Fact]
    public void MemoryScheme_SameName_IsOneStore()
    {
        using var provider = Build(new() { ["Konduktor:Checkpoints:Location"] = "memory://shared" });

        Assert.Same(provider.GetRequiredService<ICheckpointStore>(), provider.GetRequiredService<ICheckpointStore>());
    }

    [Theory]
    [InlineData("file:///data/ckpt", "file", "")]
    [InlineData("/data/ckpt", "file", "")]
    [InlineData("s3://my-bucket/runs/a", "s3", "my-bucket")]
    [InlineData("gs://b/p", "gs", "b")]
    [InlineData("S3://Bucket/p", "s3", "Bucket")]
    public void CheckpointLocation_Parse_Valid(string text, string scheme, string bucket)
    {
        var location = CheckpointLocation.Parse(text);

        Assert.Equal((scheme, bucket), (location.Scheme, location.Bucket));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("file://host/dir")]
    [InlineData("s3:///no-bucket")]
    public void CheckpointLocation_Parse_Invalid_ThrowsNamingTheKey(string? text)
    {
        var error = Assert.Throws<CheckpointConfigurationException>(() => CheckpointLocation.Parse(text));

        Assert.Equal("Konduktor:Checkpoints:Location", error.Key);
    }

    [Fact]
    public void CheckpointLocation_Prefix_IsTheKeyPrefixInTheBucket()
    {
        Assert.Equal("runs/llama", CheckpointLocation.Parse("s3://b/runs/llama/").Prefix);
    }

    [Fact]
    public void Resolve_ValueTheBinderCannotConvert_ThrowsNamingKeyValueAndType()
    {
        using var provider = Build(new() { ["Konduktor:Checkpoints:Location"] = "memory://x", ["Konduktor:Checkpoints:BufferSize"] = "abc" });

        var error = Assert.Throws<CheckpointConfigurationException>(() => provider.GetRequiredService<CheckpointManager>());

        Assert.Equal(("Konduktor:Checkpoints:BufferSize", "abc"), (error.Key, error.Value));
        Assert.Contains("System.Int32", error.Message);
    }

    [Fact]
    public void Resolve_LocationThatIsAFile_ThrowsNamingTheLocation()
    {
        var file = Path.GetTempFileName();
        using var provider = Build(new() { ["Konduktor:Checkpoints:Location"] = file });

        var error = Assert.Throws<CheckpointConfigurationException>(() => provider.GetRequiredService<CheckpointManager>());

        Assert.Equal("Konduktor:Checkpoints:Location", error.Key);
        Assert.Contains("is a file", error.Message);
    }
}
