using System.Globalization;

using Amazon.S3.Model;

using TinyTrainer.Tests;

using Xunit.Abstractions;

namespace Konduktor.Storage.S3.Tests;

/// <summary>
/// The sample's pod program against the real RadosGW, as Konduktor runs it: credentials only in a mounted
/// <c>~/.aws/credentials</c> (a temporary HOME, no AWS_* key variables), the endpoint from <c>AWS_ENDPOINT_URL_S3</c>.
/// </summary>
[Collection("RadosGW")]
public sealed class S3TinyTrainerTests : IDisposable
{
    private static readonly TimeSpan LargeRunTimeout = TimeSpan.FromMinutes(5);
    private readonly RadosGwServer _server;
    private readonly string _work;
    private readonly string _prefix = $"tt-{Guid.NewGuid():N}";

    private readonly ITestOutputHelper _output;

    public S3TinyTrainerTests(RadosGwServer server, ITestOutputHelper output)
    {
        _server = server;
        _output = output;
        _work = Path.Combine(Path.GetTempPath(), "konduktor-s3-trainer", Guid.NewGuid().ToString("N"));

        // What Konduktor mounts at ~/.aws; TrainerProcess makes {work}/.home the pod's HOME.
        var aws = Path.Combine(_work, ".home", ".aws");
        Directory.CreateDirectory(aws);
        File.WriteAllText(Path.Combine(aws, "credentials"), $"[default]\naws_access_key_id = {server.AccessKey}\naws_secret_access_key = {server.SecretKey}\n");
        File.WriteAllText(Path.Combine(aws, "config"), $"[default]\nregion = {RadosGwServer.Region}\n");
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private Dictionary<string, string> Pod(string job, int restartAttempt, params (string Key, string Value)[] settings)
    {
        var environment = new Dictionary<string, string>
        {
            ["KONDUKTOR_JOB_NAME"] = job,
            ["RESTART_ATTEMPT"] = restartAttempt.ToString(CultureInfo.InvariantCulture),
            ["JOB_COMPLETION_INDEX"] = "0",
            ["NUM_NODES"] = "1",
            ["Konduktor__Checkpoints__Location"] = $"s3://{S3TestStores.Bucket}/{_prefix}",
            ["AWS_ENDPOINT_URL_S3"] = _server.Endpoint.ToString(),
        };
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        return environment;
    }

    [Fact]
    public async Task Pod_CrashThenRestartOnS3WithMountedCredentials_ResumesExactly()
    {
        await S3TestStores.EnsureBucketAsync(_server);

        var uninterrupted = await TrainerProcess.RunAsync(_work, Pod("straight", 0, ("Trainer__CrashAtStep", "0")));
        var crashed = await TrainerProcess.RunAsync(_work, Pod("crashy", 0));
        var keysAfterCrash = await KeysAsync("crashy/");
        var resumed = await TrainerProcess.RunAsync(_work, Pod("crashy", 1));

        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.ToString());
        Assert.True(crashed.ExitCode == 3, crashed.ToString());
        Assert.Contains("crashy/rank-00000/step-000000000005/manifest.json", keysAfterCrash);
        Assert.Contains("crashy/rank-00000/step-000000000010/manifest.json", keysAfterCrash);
        Assert.DoesNotContain(keysAfterCrash, k => k.Contains("step-000000000015", StringComparison.Ordinal));
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(10, resumed.Result.GetProperty("resumedFromStep").GetInt64());
        Assert.Equal(20, resumed.Result.GetProperty("step").GetInt64());
        Assert.Equal(uninterrupted.Result.GetProperty("weightsSha256").GetString(), resumed.Result.GetProperty("weightsSha256").GetString());
    }

    [Fact]
    public async Task TwoRanks_Rank1CrashesAfterStep10_BothResumeFromStep5WithTheUninterruptedWeights()
    {
        await S3TestStores.EnsureBucketAsync(_server);

        await TrainerGang.CrashOfOneRankAsync(_work, Pod("two-nodes", 0), async under => await KeysAsync(under));
    }

    [Fact]
    public async Task AwsCli_CheckpointSavedByTheLibrary_IsListedAndDownloadedWithMatchingBytes()
    {
        await S3TestStores.EnsureBucketAsync(_server);
        var run = await TrainerProcess.RunAsync(_work, Pod("cli", 0, ("Trainer__CrashAtStep", "0"), ("Trainer__Steps", "5"), ("Trainer__PayloadMiB", "20")));
        Assert.True(run.ExitCode == 0, run.ToString());
        var step = $"s3://{S3TestStores.Bucket}/{_prefix}/cli/rank-00000/step-000000000005/";

        var listing = await _server.RunAwsCliAsync("s3", "ls", "--recursive", step);
        var manifestCopy = await _server.RunAwsCliAsync("s3", "cp", step + "manifest.json", Path.Combine(_work, "manifest.json"));
        var manifest = System.Text.Json.JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(_work, "manifest.json"))).RootElement;

        Assert.True(listing.ExitCode == 0, listing.StdErr);
        Assert.True(manifestCopy.ExitCode == 0, manifestCopy.StdErr);
        foreach (var file in manifest.GetProperty("files").EnumerateArray())
        {
            var key = file.GetProperty("key").GetString()!;
            Assert.Contains(key, listing.StdOut);
            var local = Path.Combine(_work, "download", key);
            var copy = await _server.RunAwsCliAsync("s3", "cp", step + key, local);
            Assert.True(copy.ExitCode == 0, copy.StdErr);
            var bytes = await File.ReadAllBytesAsync(local);
            Assert.Equal(file.GetProperty("length").GetInt64(), bytes.Length);
            Assert.Equal(file.GetProperty("checksum").GetString(), ContentHash.Of(bytes));
        }
    }

    [Fact]
    public async Task Pod_OneGiBCheckpoint_SavesAndRestoresWithBoundedMemory()
    {
        await S3TestStores.EnsureBucketAsync(_server);
        string[] oneStep = ["--Trainer:Steps=5", "--Trainer:CheckpointEvery=5", "--Trainer:CrashAtStep=0"];

        var baseline = await TrainerProcess.Start(_work, Pod("mem-small", 0), oneStep).WaitAsync(LargeRunTimeout);
        var save = await TrainerProcess.Start(_work, Pod("mem-large", 0), [.. oneStep, "--Trainer:PayloadMiB=1024"]).WaitAsync(LargeRunTimeout);
        var restore = await TrainerProcess.Start(_work, Pod("mem-large", 1), [.. oneStep, "--Trainer:PayloadMiB=1024"]).WaitAsync(LargeRunTimeout);

        _output.WriteLine($"peak memory: baseline {baseline.PeakMemoryBytes >> 20} MiB, 1 GiB save {save.PeakMemoryBytes >> 20} MiB, 1 GiB restore {restore.PeakMemoryBytes >> 20} MiB");
        Assert.True(save.ExitCode == 0, save.ToString());
        Assert.True(restore.ExitCode == 0, restore.ToString());
        Assert.Equal(5, restore.Result.GetProperty("resumedFromStep").GetInt64());
        const long Limit = 300L * 1024 * 1024;
        Assert.True(save.PeakMemoryBytes - baseline.PeakMemoryBytes < Limit, $"save: peak {save.PeakMemoryBytes >> 20} MiB vs baseline {baseline.PeakMemoryBytes >> 20} MiB");
        Assert.True(restore.PeakMemoryBytes - baseline.PeakMemoryBytes < Limit, $"restore: peak {restore.PeakMemoryBytes >> 20} MiB vs baseline {baseline.PeakMemoryBytes >> 20} MiB");
        await DeletePrefixAsync("mem-large/");
    }

    [Fact]
    public async Task Pod_KilledMidMultipart_NextGarbageCollectionAbortsTheUpload()
    {
        await S3TestStores.EnsureBucketAsync(_server);
        using var pod = TrainerProcess.Start(_work, Pod("killed", 0), "--Trainer:Steps=5", "--Trainer:CheckpointEvery=5", "--Trainer:PayloadMiB=2048");
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while ((await PendingAsync("killed/")).Count == 0)
        {
            Assert.False(pod.Process.HasExited, "the pod ended before a multipart upload was seen");
            Assert.True(DateTime.UtcNow < deadline, "no multipart upload appeared");
            await Task.Delay(100);
        }

        pod.Process.Kill(entireProcessTree: true);
        await pod.Process.WaitForExitAsync();
        var stale = await PendingAsync("killed/");
        using var store = new S3CheckpointStore(
            new Uri($"s3://{S3TestStores.Bucket}/{_prefix}"), S3TestStores.Options(_server), S3TestStores.Credentials(_server));
        var manager = new CheckpointManager(store, JobContext.Create(jobName: "killed"));

        var dry = await manager.CollectGarbageAsync(dryRun: true, gracePeriod: TimeSpan.Zero);
        var collected = await manager.CollectGarbageAsync(gracePeriod: TimeSpan.Zero);

        Assert.NotEmpty(stale);
        Assert.Equal(stale.Select(u => u.UploadId).Order(), dry.PendingUploads.Select(u => u.UploadId).Order());
        Assert.Equal(stale.Select(u => u.UploadId).Order(), collected.PendingUploads.Select(u => u.UploadId).Order());
        Assert.Empty(await PendingAsync("killed/"));
    }

    private async Task<List<string>> KeysAsync(string under)
    {
        using var client = S3TestStores.RawClient(_server);
        var keys = new List<string>();
        var request = new ListObjectsV2Request { BucketName = S3TestStores.Bucket, Prefix = $"{_prefix}/{under}" };
        ListObjectsV2Response page;
        do
        {
            page = await client.ListObjectsV2Async(request);
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key[(_prefix.Length + 1)..]));
            request.ContinuationToken = page.NextContinuationToken;
        }
        while (page.IsTruncated == true);
        return keys;
    }

    private async Task<List<MultipartUpload>> PendingAsync(string under)
    {
        using var client = S3TestStores.RawClient(_server);
        var response = await client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = S3TestStores.Bucket, Prefix = $"{_prefix}/{under}" });
        return response.MultipartUploads ?? [];
    }

    private async Task DeletePrefixAsync(string under)
    {
        using var client = S3TestStores.RawClient(_server);
        foreach (var key in await KeysAsync(under))
        {
            await client.DeleteObjectAsync(S3TestStores.Bucket, $"{_prefix}/{key}");
        }
    }
}
