using Amazon.S3;
using Amazon.S3.Model;
using Amazon.S3.Transfer;

namespace Konduktor.Storage.Benchmarks;

/// <summary>
/// The raw AWSSDK.S3 as a user would point it at a remote bucket: <see cref="TransferUtility"/> uploads (8 MiB parts, 10
/// requests at once per file) and downloads in parallel 8 MiB ranges, ten files at a time, at most ten requests at once per
/// file. On loopback the SDK contender is one PUT per file and four ranges per file (the fastest there); on a link that would
/// leave one or four connections to carry everything.
/// </summary>
internal static class RawSdkOnLink
{
    private const int Files = 10;
    private const int Requests = 10;
    private const long RangeBytes = 8L * 1024 * 1024;

    public static async Task SaveAsync(Dictionary<string, string> a)
    {
        using var client = TransferWorker.RawClient(a["endpoint"], a["ak"], a["sk"]);
        using var transfer = new TransferUtility(client, new TransferUtilityConfig { ConcurrentServiceRequests = Requests });
        var files = Directory.GetFiles(a["src"]).Order(StringComparer.Ordinal).ToList();
        await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = Files }, async (file, ct) =>
            await transfer.UploadAsync(
                new TransferUtilityUploadRequest { BucketName = a["bucket"], Key = $"{a["prefix"]}/{Path.GetFileName(file)}", FilePath = file, PartSize = RangeBytes },
                ct));
    }

    public static async Task RestoreAsync(Dictionary<string, string> a)
    {
        using var client = TransferWorker.RawClient(a["endpoint"], a["ak"], a["sk"]);
        Directory.CreateDirectory(a["dst"]);
        var entries = await ListAsync(client, a["bucket"], a["prefix"] + "/");
        await Parallel.ForEachAsync(entries, new ParallelOptions { MaxDegreeOfParallelism = Files }, async (entry, _) =>
            await RangedDownloadAsync(client, a["bucket"], entry.Key, entry.Size ?? 0, Path.Combine(a["dst"], Path.GetFileName(entry.Key)), Requests, RangeBytes));
    }

    /// <summary>Every object under <paramref name="prefix"/>, page by page.</summary>
    public static async Task<List<S3Object>> ListAsync(AmazonS3Client client, string bucket, string prefix)
    {
        var all = new List<S3Object>();
        string? token = null;
        do
        {
            var page = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Prefix = prefix, ContinuationToken = token });
            all.AddRange(page.S3Objects ?? []);
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
        return all;
    }

    /// <summary>Ranged GETs of at most <paramref name="maxRange"/> bytes (at least <paramref name="parts"/> of them), <paramref name="parts"/> at once, each written at its offset.</summary>
    public static async Task RangedDownloadAsync(AmazonS3Client client, string bucket, string key, long size, string path, int parts, long maxRange)
    {
        using (var create = File.Create(path))
        {
            create.SetLength(size);
        }

        var rangeSize = Math.Max(1, Math.Min(maxRange, (size + parts - 1) / parts));
        var ranges = Enumerable.Range(0, (int)((size + rangeSize - 1) / rangeSize)).Select(i => i * rangeSize);
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, FileOptions.Asynchronous);
        await Parallel.ForEachAsync(ranges, new ParallelOptions { MaxDegreeOfParallelism = parts }, async (start, ct) =>
        {
            var end = Math.Min(size, start + rangeSize) - 1;
            using var response = await client.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = key, ByteRange = new ByteRange(start, end) }, ct);
            var buffer = new byte[1024 * 1024];
            var offset = start;
            await using var body = response.ResponseStream;
            int read;
            while ((read = await body.ReadAsync(buffer, ct)) > 0)
            {
                await RandomAccess.WriteAsync(handle, buffer.AsMemory(0, read), offset, ct);
                offset += read;
            }
        });
    }
}
