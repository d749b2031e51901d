using Amazon.S3;
using Amazon.S3.Model;

namespace Konduktor.Storage.Benchmarks;

/// <summary>
/// The S3 server the S3 cases talk to: its endpoint (RadosGW itself, or the emulated link's proxy in front of it), keys,
/// bucket and the server's processes (for their CPU time). On the link, SDK workers run as a user would on a remote bucket
/// (<see cref="RawSdkOnLink"/>).
/// </summary>
internal sealed class S3Context(string endpoint, string accessKey, string secretKey, string bucket, string serverPids, bool link = false)
{
    public string Bucket => bucket;

    public string Endpoint => endpoint;

    /// <summary>The same server reached through <paramref name="proxy"/> (the emulated link).</summary>
    public S3Context Through(Uri proxy) => new(proxy.ToString().TrimEnd('/'), accessKey, secretKey, bucket, serverPids, link: true);

    public AmazonS3Client Client() => TransferWorker.RawClient(endpoint, accessKey, secretKey);

    public string[] WorkerArgs(string prefix, params (string Key, string Value)[] extra) =>
        [$"endpoint={endpoint}", $"ak={accessKey}", $"sk={secretKey}", $"bucket={bucket}", $"prefix={prefix}", $"server={serverPids}", $"mode={(link ? "link" : "loopback")}", .. extra.Select(e => $"{e.Key}={e.Value}")];

    public async Task<TransfersRun.Sample> AwsCliAsync(string[] args)
    {
        var env = CliEnvironment();
        var server = ServerCpu.Seconds(serverPids);
        var (seconds, _) = await TransfersRun.RunProcessAsync("aws", ["--endpoint-url", endpoint, .. args], env);
        return new TransfersRun.Sample(seconds, null, null, ServerCpuSeconds: ServerCpu.Seconds(serverPids) - server);
    }

    /// <summary>The environment the AWS CLI runs with (keys only; no profile files).</summary>
    public Dictionary<string, string> CliEnvironment() => new(StringComparer.Ordinal)
    {
        ["AWS_ACCESS_KEY_ID"] = accessKey,
        ["AWS_SECRET_ACCESS_KEY"] = secretKey,
        ["AWS_DEFAULT_REGION"] = "us-east-1",
        ["AWS_REQUEST_CHECKSUM_CALCULATION"] = "when_required",
        ["AWS_RESPONSE_CHECKSUM_VALIDATION"] = "when_required",
        ["AWS_CONFIG_FILE"] = "/dev/null",
        ["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null",
    };

    public async Task DeletePrefixAsync(string prefix)
    {
        using var client = Client();
        string? token = null;
        do
        {
            var listed = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Prefix = prefix, ContinuationToken = token });
            var objects = (listed.S3Objects ?? []).Select(o => new KeyVersion { Key = o.Key }).ToList();
            if (objects.Count > 0)
            {
                await client.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = bucket, Objects = objects });
            }

            token = listed.IsTruncated == true ? listed.NextContinuationToken : null;
        }
        while (token is not null);
    }
}
