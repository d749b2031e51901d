using System.Globalization;

using Konduktor.Storage.Testing;

using TinyTrainer.Tests;

namespace Konduktor.Storage.Gcs.Tests;

/// <summary>
/// The sample's pod program against the loopback GCS test server, as Konduktor runs it: the location and the endpoint from
/// environment variables, a 24 MiB payload in 4 MiB chunks, a crash on attempt 0 and an exact resume on attempt 1.
/// </summary>
public sealed class GcsTinyTrainerTests : IAsyncLifetime
{
    private readonly string _work = Path.Combine(Path.GetTempPath(), "konduktor-gcs-trainer", Guid.NewGuid().ToString("N"));
    private GcsTestServer _server = null!;
    private string _bucket = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_work);
        _server = await GcsTestServer.StartAsync();
        _bucket = GcsTestStores.NewBucket(_server);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    [Fact]
    public async Task Pod_CrashThenRestartOnGcs_ResumesExactly()
    {
        var uninterrupted = await TrainerProcess.RunAsync(_work, Pod("straight", 0, ("Trainer__CrashAtStep", "0")));
        var crashed = await TrainerProcess.RunAsync(_work, Pod("crashy", 0));
        var resumed = await TrainerProcess.RunAsync(_work, Pod("crashy", 1));

        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.ToString());
        Assert.True(crashed.ExitCode == 3, crashed.ToString());
        Assert.True(_server.TryGetObject(_bucket, "ckpt/crashy/rank-00000/step-000000000010/manifest.json", out _, out _));
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(10, resumed.Result.GetProperty("resumedFromStep").GetInt64());
        Assert.Equal(20, resumed.Result.GetProperty("step").GetInt64());
        Assert.Equal(uninterrupted.Result.GetProperty("weightsSha256").GetString(), resumed.Result.GetProperty("weightsSha256").GetString());

        // A 24 MiB payload in 4 MiB chunks: six chunk requests and a final one, so uploads average more than two requests each.
        using var store = GcsTestStores.Create(_server, _bucket, "ckpt");
        var payload = await store.ListAsync("crashy/rank-00000/step-000000000010/").SingleAsync(e => e.Key.EndsWith("/payload.bin", StringComparison.Ordinal));
        Assert.Equal(24 * 1024 * 1024, payload.Info!.Length);
        Assert.True(_server.Counters.Requests > 3 * _server.Counters.ResumableInitiations, $"{_server.Counters.Requests} requests for {_server.Counters.ResumableInitiations} uploads");
    }

    [Fact]
    public async Task TwoRanks_Rank1CrashesAfterStep10_BothResumeFromStep5WithTheUninterruptedWeights()
    {
        using var store = GcsTestStores.Create(_server, _bucket, "ckpt");

        await TrainerGang.CrashOfOneRankAsync(
            _work,
            Pod("two-nodes", 0, ("Trainer__PayloadMiB", "0")),
            async under => await store.ListAsync(under).Where(e => e.Info is not null).Select(e => e.Key).ToListAsync());
    }

    private Dictionary<string, string> Pod(string job, int restartAttempt, params (string Key, string Value)[] settings)
    {
        var environment = new Dictionary<string, string>
        {
            ["KONDUKTOR_JOB_NAME"] = job,
            ["RESTART_ATTEMPT"] = restartAttempt.ToString(CultureInfo.InvariantCulture),
            ["JOB_COMPLETION_INDEX"] = "0",
            ["NUM_NODES"] = "1",
            ["Konduktor__Checkpoints__Location"] = $"gs://{_bucket}/ckpt",
            ["Konduktor__Checkpoints__Gcs__Endpoint"] = _server.BaseUri.ToString(),
            ["Konduktor__Checkpoints__Gcs__ChunkSizeMiB"] = "4",
            ["Trainer__PayloadMiB"] = "24",
        };
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        return environment;
    }
}
