using Amazon.S3;
using Amazon.S3.Model;
using Amazon.S3.Transfer;
using Konduktor.Storage.S3;

namespace Konduktor.Storage.Benchmarks;

/// <summary>
/// The raw AWSSDK.S3 as a user would point it at a remote bucket, with the library's default concurrency (32 requests at
/// once) so that the two are compared at the same number of connections: <see cref="TransferUtility"/> uploads in 8 MiB parts
/// (as many files at once as keep 32 parts going, small files 32 at once), and downloads in ranges of 1 to 8 MiB, 32 at once
/// over all files. On loopback the SDK contender is one PUT per file and four ranges per file (the fastest there); on a link
/// that would leave one or four connections to carry everything.
/// </summary>
internal static class RawSdkOnLink
{
    private static readonly int Requests = new S3StoreOptions().Concurrency;
    private const long PartBytes = 8L * 1024 * 1024;

    public static async Task SaveAsync(Dictionary<string, string> a)
    {
        using var client = TransferWorker.RawClient(a["endpoint"], a["ak"], a["sk"]);
        using var transfer = new TransferUtility(client, new TransferUtilityConfig { ConcurrentServiceRequests = Requests, MinSizeBeforePartUpload = PartBytes });
        var files = Directory.GetFiles(a["src"]).Order(StringComparer.Ordinal).ToList();
        var partsPerFile = Math.Max(1, (int)((files.Max(f => new FileInfo(f).Length) + PartBytes - 1) / PartBytes));
        await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Requests / partsPerFile) }, async (file, ct) =>
            await transfer.UploadAsync(
                new TransferUtilityUploadRequest { BucketName = a["bucket"], Key = $"{a["prefix"]}/{Path.GetFileName(file)}", FilePath = file, PartSize = PartBytes },
                ct));
    }

    public static async Task RestoreAsync(Dictionary<string, string> a)
    {
        using var client = TransferWorker.RawClient(a["endpoint"], a["ak"], a["sk"]);
        Directory.CreateDirectory(a["dst"]);
        var entries = await ListAsync(client, a["bucket"], a["prefix"] + "/");
        using var requests = new SemaphoreSlim(Requests);
        await Parallel.ForEachAsync(entries, new ParallelOptions { MaxDegreeOfParallelism = Requests }, async (entry, _) =>
        {
            var size = entry.Size ?? 0;
            var range = Math.Clamp((size + Requests - 1) / Requests, 1024 * 1024, PartBytes);
            await RangedDownloadAsync(client, a["bucket"], entry.Key, size, Path.Combine(a["dst"], Path.GetFileName(entry.Key)), Requests, range, requests);
        });
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

    /// <summary>
    /// Ranged GETs of at most <paramref name="maxRange"/> bytes (at least <paramref name="parts"/> of them, unless that makes
    /// them smaller than the range), <paramref name="parts"/> at once (and within <paramref name="shared"/>, if given), each
    /// written at its offset.
    /// </summary>
    public static async Task RangedDownloadAsync(AmazonS3Client client, string bucket, string key, long size, string path, int parts, long maxRange, SemaphoreSlim? shared = null)
    {
        using (var create = File.Create(path))
        {
            create.SetLength(size);
        }

        var rangeSize = shared is null ? Math.Max(1, Math.Min(maxRange, (size + parts - 1) / parts)) : maxRange;
        var ranges = Enumerable.Range(0, (int)((size + rangeSize - 1) / rangeSize)).Select(i => i * rangeSize);
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, FileOptions.Asynchronous);
        await Parallel.ForEachAsync(ranges, new ParallelOptions { MaxDegreeOfParallelism = parts }, async (start, ct) =>
        {
            var end = Math.Min(size, start + rangeSize) - 1;
            if (shared is not null)
            {
                await shared.WaitAsync(ct);
            }

            try
            {
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
            }
            finally
            {
                shared?.Release();
            }
        });
    }
}
