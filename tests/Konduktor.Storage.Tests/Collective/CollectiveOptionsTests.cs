using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Konduktor.Storage.Tests;

public sealed class CollectiveOptionsTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings, JobContext job)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton(job);
        services.AddKonduktorCheckpoints(configuration);
        return services.BuildServiceProvider(validateScopes: true);
    }

    [Theory]
    [InlineData("Collective", 1, CheckpointMode.Collective)]
    [InlineData("perrank", 1, CheckpointMode.PerRank)]
    [InlineData(null, 1, CheckpointMode.Collective)]
    [InlineData(null, 0, CheckpointMode.PerRank)]
    public void Mode_FromConfiguration_OrByNodeCount(string? mode, int rank, CheckpointMode expected)
    {
        using var provider = Build(
            new() { ["Konduktor:Checkpoints:Location"] = "memory://m", ["Konduktor:Checkpoints:RunId"] = "r", ["Konduktor:Checkpoints:Mode"] = mode },
            JobContext.Create(rank, rank + 1));

        Assert.Equal(expected, provider.GetRequiredService<CheckpointManager>().Mode);
    }

    [Fact]
    public void Mode_UnknownValue_ThrowsNamingKeyValueAndTheModes()
    {
        using var provider = Build(
            new() { ["Konduktor:Checkpoints:Location"] = "memory://m", ["Konduktor:Checkpoints:RunId"] = "r", ["Konduktor:Checkpoints:Mode"] = "Gang" },
            JobContext.Create(1, 2));

        var error = Assert.Throws<CheckpointConfigurationException>(() => provider.GetRequiredService<CheckpointManager>());

        Assert.Equal(("Konduktor:Checkpoints:Mode", "Gang"), (error.Key, error.Value));
        Assert.Contains("Collective, PerRank", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Timeout_FromConfiguration_IsBound()
    {
        using var provider = Build(
            new() { ["Konduktor:Checkpoints:Location"] = "memory://m", ["Konduktor:Checkpoints:Collective:Timeout"] = "00:00:03" },
            JobContext.Create(1, 2));

        Assert.Equal(TimeSpan.FromSeconds(3), provider.GetRequiredService<IOptions<CheckpointManagerOptions>>().Value.Collective.Timeout);
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("-00:00:01")]
    [InlineData("2.00:00:00")]
    public void Timeout_OutOfRange_IsAClearError(string timeout)
    {
        var options = new CheckpointManagerOptions { RunId = "r" };
        options.Collective.Timeout = TimeSpan.Parse(timeout, System.Globalization.CultureInfo.InvariantCulture);

        var error = Assert.Throws<CheckpointConfigurationException>(() => new CheckpointManager(new InMemoryCheckpointStore(), JobContext.Create(), options));

        Assert.Equal("Konduktor:Checkpoints:Collective:Timeout", error.Key);
        Assert.Contains("00:00:00.001 to 1.00:00:00", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mode_UndefinedValueInCode_IsAClearError()
    {
        var options = new CheckpointManagerOptions { RunId = "r", Mode = (CheckpointMode)7 };

        var error = Assert.Throws<CheckpointConfigurationException>(() => new CheckpointManager(new InMemoryCheckpointStore(), JobContext.Create(), options));

        Assert.Equal(("Konduktor:Checkpoints:Mode", "7"), (error.Key, error.Value));
    }

    [Fact]
    public void Mode_FixedScope_IsPerRankUnlessCollectiveIsAsked_ThenAClearError()
    {
        var store = new InMemoryCheckpointStore();
        var job = JobContext.Create(1, 2);

        Assert.Equal(CheckpointMode.PerRank, new CheckpointManager(store, job, new CheckpointManagerOptions { RunId = "r", Scope = "eval" }).Mode);
        var error = Assert.Throws<CheckpointConfigurationException>(
            () => new CheckpointManager(store, job, new CheckpointManagerOptions { RunId = "r", Scope = "eval", Mode = CheckpointMode.Collective }));
        Assert.Equal(("Konduktor:Checkpoints:Scope", "eval"), (error.Key, error.Value));
    }

    [Theory]
    [InlineData("29500", 29500)]
    [InlineData(" 1 ", 1)]
    [InlineData("65535", 65535)]
    public void MasterPort_FromEnvironment(string value, int expected) =>
        Assert.Equal(expected, JobContext.FromEnvironment(new FakeJobEnvironment().Set("MASTER_PORT", value)).MasterPort);

    [Theory]
    [InlineData("0")]
    [InlineData("65536")]
    [InlineData("http")]
    [InlineData("-1")]
    public void MasterPort_Invalid_ThrowsNamingTheVariableAndValue(string value)
    {
        var error = Assert.Throws<CheckpointConfigurationException>(() => JobContext.FromEnvironment(new FakeJobEnvironment().Set("MASTER_PORT", value)));

        Assert.Equal(("MASTER_PORT", value), (error.Key, error.Value));
    }

    [Fact]
    public void MasterPort_UnsetOrCreated()
    {
        Assert.Null(JobContext.FromEnvironment(new FakeJobEnvironment()).MasterPort);
        Assert.Equal(29501, JobContext.Create(masterPort: 29501).MasterPort);
        Assert.Contains("master-port=29501", JobContext.Create(masterPort: 29501).ToString(), StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => JobContext.Create(masterPort: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => JobContext.Create(masterPort: 70000));
    }
}
