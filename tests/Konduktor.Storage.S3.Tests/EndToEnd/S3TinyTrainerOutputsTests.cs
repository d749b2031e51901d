using System.Globalization;

using Amazon.S3.Model;

using Konduktor.Storage.Testing;

using TinyTrainer.Tests;

namespace Konduktor.Storage.S3.Tests;

/// <summary>The sample's runtime outputs on the real RadosGW: crash at step 12, resume on a fresh disk, each step once.</summary>
[Collection("RadosGW")]
public sealed class S3TinyTrainerOutputsTests : IDisposable
{
    private readonly RadosGwServer _server;
    private readonly string _work;
    private readonly string _prefix = $"tto-{Guid.NewGuid():N}";

    public S3TinyTrainerOutputsTests(RadosGwServer server)
    {
        _server = server;
        _work = Path.Combine(Path.GetTempPath(), "konduktor-s3-outputs", Guid.NewGuid().ToString("N"));
        var aws = Path.Combine(_work, ".home", ".aws");
        Directory.CreateDirectory(aws);
        File.WriteAllText(Path.Combine(aws, "credentials"), $"[default]\naws_access_key_id = {server.AccessKey}\naws_secret_access_key = {server.SecretKey}\n");
        File.WriteAllText(Path.Combine(aws, "config"), $"[default]\nregion = {RadosGwServer.Region}\n");
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task Pod_CrashAtStep12ThenResume_StoreHoldsEachStepOnceAndTheSummary()
    {
        await S3TestStores.EnsureBucketAsync(_server);

        var crashed = await TrainerProcess.RunAsync(_work, Pod("o", 0, "pod-a"));
        Assert.True(crashed.ExitCode == 3, crashed.ToString());
        var resumed = await TrainerProcess.RunAsync(_work, Pod("o", 1, "pod-b"));

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(10, resumed.Result.GetProperty("resumedFromStep").GetInt64());
        var store = new S3CheckpointStore(new Uri($"s3://{S3TestStores.Bucket}/{_prefix}"), S3TestStores.Options(_server), S3TestStores.Credentials(_server));
        await SampleOutputs.AssertAfterJobAsync(store, "o", resumed.Result, steps: 20);

        // A plain object, as `aws s3 cp` reads it: the local file of the last pod, byte for byte.
        using var client = S3TestStores.RawClient(_server);
        using var plain = await client.GetObjectAsync(new GetObjectRequest { BucketName = S3TestStores.Bucket, Key = $"{_prefix}/o/outputs/rank-00000/metrics.jsonl" });
        using var reader = new StreamReader(plain.ResponseStream);
        Assert.Equal(File.ReadAllText(Path.Combine(_work, "pod-b", "metrics.jsonl")), await reader.ReadToEndAsync());
    }

    private Dictionary<string, string> Pod(string job, int restartAttempt, string disk) => new()
    {
        ["KONDUKTOR_JOB_NAME"] = job,
        ["RESTART_ATTEMPT"] = restartAttempt.ToString(CultureInfo.InvariantCulture),
        ["JOB_COMPLETION_INDEX"] = "0",
        ["NUM_NODES"] = "1",
        ["Konduktor__Checkpoints__Location"] = $"s3://{S3TestStores.Bucket}/{_prefix}",
        ["Konduktor__Outputs__LocalDirectory"] = Path.Combine(_work, disk),
        ["Konduktor__Outputs__Interval"] = "00:00:01",
        ["AWS_ENDPOINT_URL_S3"] = _server.Endpoint.ToString(),
    };
}
