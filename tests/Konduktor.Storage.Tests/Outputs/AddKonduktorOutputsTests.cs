using System.Collections.Concurrent;

using Konduktor.Storage.Testing;

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Konduktor.Storage.Tests.Outputs;

/// <summary>The hosted output sync: configuration, checkpoint commits, the interval and host stop.</summary>
public sealed class AddKonduktorOutputsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("konduktor-outputs-di-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private IHost BuildHost(Dictionary<string, string?> settings, Action<IServiceCollection>? extend = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Konduktor:Checkpoints:Location"] = Path.Combine(_root, "store"),
            ["Konduktor:Outputs:LocalDirectory"] = Path.Combine(_root, "out"),
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton(JobContext.Create(jobName: "job-1"));
        extend?.Invoke(builder.Services);
        builder.Services.AddKonduktorCheckpoints(builder.Configuration);
        builder.Services.AddKonduktorOutputs(builder.Configuration);
        return builder.Build();
    }

    [Fact]
    public async Task Start_InvalidValues_OneMessageNamesEveryKey()
    {
        using var host = BuildHost(new()
        {
            ["Konduktor:Outputs:Interval"] = "00:00:00",
            ["Konduktor:Outputs:MergeMiB"] = "0",
            ["Konduktor:Outputs:Scope"] = ".konduktor",
        });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Konduktor:Outputs:Interval = '00:00:00'", error.Message);
        Assert.Contains("Konduktor:Outputs:MergeMiB = '0'", error.Message);
        Assert.Contains("Konduktor:Outputs:Scope = '.konduktor'", error.Message);
    }

    [Fact]
    public async Task Start_NegativeInterval_Refused()
    {
        using var host = BuildHost(new() { ["Konduktor:Outputs:Interval"] = "-00:00:05" });
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("Konduktor:Outputs:Interval", error.Message);
    }

    [Fact]
    public async Task Start_MissingDirectoryNotToBeCreated_ErrorNamesKeyAndDirectory()
    {
        var missing = Path.Combine(_root, "missing");
        using var host = BuildHost(new() { ["Konduktor:Outputs:LocalDirectory"] = missing, ["Konduktor:Outputs:CreateLocalDirectory"] = "false" });

        var error = await Assert.ThrowsAsync<CheckpointConfigurationException>(() => host.StartAsync());

        Assert.Equal("Konduktor:Outputs:LocalDirectory", error.Key);
        Assert.Contains(missing, error.Message);
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public async Task Start_LocalDirectoryIsAFile_ErrorNamesKeyAndPath()
    {
        var file = Path.Combine(_root, "a-file");
        await File.WriteAllTextAsync(file, "not a directory");
        using var host = BuildHost(new() { ["Konduktor:Outputs:LocalDirectory"] = file });

        var error = await Assert.ThrowsAsync<CheckpointConfigurationException>(() => host.StartAsync());

        Assert.Equal("Konduktor:Outputs:LocalDirectory", error.Key);
        Assert.Contains(file, error.Message);
        Assert.Contains("a file has that path", error.Message);
        Assert.Equal("not a directory", await File.ReadAllTextAsync(file));
    }

    [Fact]
    public async Task Start_MissingDirectory_CreatedByDefault()
    {
        using var host = BuildHost([]);
        await host.StartAsync();
        Assert.True(Directory.Exists(Path.Combine(_root, "out")));
        await host.StopAsync();
    }

    [Fact]
    public async Task CheckpointCommit_SyncsOutputsBeforeTheManifest()
    {
        var written = new ConcurrentQueue<string>();
        using var host = BuildHost(
            new() { ["Konduktor:Outputs:Interval"] = "01:00:00" },
            services => services.AddSingleton<ICheckpointStore>(new RecordingStore(new FileSystemCheckpointStore(Path.Combine(_root, "store")), written)));
        await host.StartAsync();
        File.WriteAllText(Path.Combine(_root, "out", "metrics.jsonl"), "{\"step\":1}\n");

        await host.Services.GetRequiredService<CheckpointManager>().SaveAsync(1, new Dictionary<string, Stream> { ["w.bin"] = new MemoryStream([1, 2, 3]) });

        var keys = written.ToList();
        var record = keys.FindIndex(k => k == "job-1/outputs/.konduktor/rank-00000/metrics.jsonl.meta");
        var manifest = keys.FindIndex(k => k.EndsWith("/manifest.json", StringComparison.Ordinal));
        Assert.InRange(record, 0, manifest - 1);
        var outputs = host.Services.GetRequiredService<RunOutputs>();
        Assert.Equal("{\"step\":1}\n"u8.ToArray(), await outputs.ReadAllBytesAsync("rank-00000/metrics.jsonl"));
        await host.StopAsync();
    }

    [Fact]
    public async Task Interval_Elapses_SyncsWithoutAnyCall()
    {
        var time = new FakeTimeProvider();
        using var host = BuildHost(new() { ["Konduktor:Outputs:Interval"] = "00:00:30" }, services => services.AddSingleton<TimeProvider>(time));
        await host.StartAsync();
        File.WriteAllText(Path.Combine(_root, "out", "log.txt"), "tick");
        var outputs = host.Services.GetRequiredService<RunOutputs>();

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await outputs.StatAsync("rank-00000/log.txt") is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the interval's pass never synced log.txt");
            time.Advance(TimeSpan.FromSeconds(30));
            await Task.Delay(20);
        }

        await host.StopAsync();
    }

    [Fact]
    public async Task HostStop_FinalSync_LeavesPlainObjects()
    {
        using var host = BuildHost(new() { ["Konduktor:Outputs:Interval"] = "01:00:00" });
        await host.StartAsync();
        Directory.CreateDirectory(Path.Combine(_root, "out", "eval"));
        File.WriteAllText(Path.Combine(_root, "out", "eval", "summary.json"), "{\"loss\":0.5}");

        await host.StopAsync();

        Assert.Equal("{\"loss\":0.5}", File.ReadAllText(Path.Combine(_root, "store", "job-1", "outputs", "rank-00000", "eval", "summary.json")));
    }

    [Fact]
    public async Task Location_RunAndScopeSet_OutputsGoThereNotToTheCheckpointStore()
    {
        var elsewhere = Path.Combine(_root, "elsewhere");
        using var host = BuildHost(new()
        {
            ["Konduktor:Outputs:Location"] = new Uri(elsewhere).AbsoluteUri,
            ["Konduktor:Outputs:RunId"] = "stage-2",
            ["Konduktor:Outputs:Scope"] = "eval",
        });
        await host.StartAsync();
        File.WriteAllText(Path.Combine(_root, "out", "result.txt"), "done");

        await host.StopAsync();

        Assert.Equal("done", File.ReadAllText(Path.Combine(elsewhere, "stage-2", "outputs", "eval", "result.txt")));
        Assert.False(Directory.Exists(Path.Combine(_root, "store", "job-1", "outputs")));
    }

    [Fact]
    public async Task Location_UnknownScheme_ErrorNamesTheKey()
    {
        using var host = BuildHost(new() { ["Konduktor:Outputs:Location"] = "s3://bucket/prefix" });
        var error = await Assert.ThrowsAsync<CheckpointConfigurationException>(() => host.StartAsync());
        Assert.Equal("Konduktor:Outputs:Location", error.Key);
        Assert.Contains(".AddS3()", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Records the keys written, in order.</summary>
    private sealed class RecordingStore(ICheckpointStore inner, ConcurrentQueue<string> written) : DelegatingStore(inner)
    {
        public override Task<ObjectInfo> PutAsync(string key, Stream content, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
        {
            written.Enqueue(key);
            return base.PutAsync(key, content, options, cancellationToken);
        }

        public override Task<ObjectWriteStream> OpenWriteAsync(string key, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
        {
            written.Enqueue(key);
            return base.OpenWriteAsync(key, options, cancellationToken);
        }
    }
}
