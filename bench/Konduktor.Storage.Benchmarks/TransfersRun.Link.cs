using Konduktor.Storage.Gcs;
using Konduktor.Storage.Testing;

namespace Konduktor.Storage.Benchmarks;

/// <summary>
/// The emulated remote link (<c>--setting link</c>): the same RadosGW, and the test kit's GCS test server, behind the test
/// kit's fault proxy adding 20 ms of round trip (on connection set-up and on data) and capping each TCP connection at
/// 4 MiB/s per direction (<see cref="EmulatedLink.RemoteBucket"/>). Every contender, the AWS CLI included, talks through it.
/// </summary>
internal static partial class TransfersRun
{
    private static async Task<List<CaseResult>> LinkCasesAsync(Run run, int oneMiB)
    {
        var link = EmulatedLink.RemoteBucket;
        await using var proxy = new LoopbackFaultProxy(new Uri(run.S3.Endpoint), link);
        var remote = run.S3.Through(proxy.Endpoint);
        Console.Error.WriteLine($"transfers (link): {link}, through {proxy.Endpoint}");

        var (manyCount, manySize) = run.Quick ? (8, 8 * MiB) : (8, 32 * MiB);
        var (smallCount, smallSize) = run.Quick ? (100, 256 * 1024L) : (500, 256 * 1024L);
        var sets = new (string Label, string Dir, int Count, long Size)[]
        {
            (oneMiB % 1024 == 0 ? $"{oneMiB / 1024}GiB" : $"{oneMiB}MiB", Path.Combine(run.Work, "link-one"), 1, oneMiB * MiB),
            ($"{manyCount}x{manySize / MiB}MiB", Path.Combine(run.Work, "link-many"), manyCount, manySize),
            ($"{smallCount}x{smallSize / 1024}KiB", Path.Combine(run.Work, "link-small"), smallCount, smallSize),
        };
        foreach (var (_, dir, count, size) in sets)
        {
            if (count == 1)
            {
                WriteRandomFile(Path.Combine(dir, "model.bin"), size, 1);
            }
            else
            {
                WriteRandomFiles(dir, count, size, 100);
            }
        }

        var results = new List<CaseResult>();
        foreach (var (label, dir, count, size) in sets)
        {
            if (run.Wanted($"link-s3-save-{label}"))
            {
                results.Add(await S3SaveAsync(run, remote, $"link-s3-save-{label}", dir, count * size));
            }

            if (run.Wanted($"link-s3-restore-{label}"))
            {
                results.Add(await S3RestoreAsync(run, run.S3, remote, $"link-s3-restore-{label}", dir, count * size));
            }
        }

        // GCS: no contender that can reach the loopback test server without credentials of its own, so the library alone,
        // with its request count. The test server keeps objects in memory: the single file is at most 256 MiB here.
        await using var gcs = await GcsTestServer.StartAsync();
        gcs.CreateBucket(run.S3.Bucket);
        await using var gcsProxy = new LoopbackFaultProxy(gcs.Endpoint, link);
        foreach (var (label, dir, count, size) in sets.Where(s => s.Count * s.Size <= 256 * MiB))
        {
            if (run.Wanted($"link-gcs-save-{label}") || run.Wanted($"link-gcs-restore-{label}"))
            {
                results.AddRange(await GcsCasesAsync(run, gcs, gcsProxy.Endpoint, label, dir, count * size));
            }
        }

        return results;
    }

    /// <summary>The library alone saving, then restoring, the files of <paramref name="src"/> on the GCS test server through the link.</summary>
    private static async Task<List<CaseResult>> GcsCasesAsync(Run run, GcsTestServer gcs, Uri proxy, string label, string src, long bytes)
    {
        string[] Args(Uri endpoint, string prefix, string key, string value) =>
            [$"endpoint={endpoint}", $"bucket={run.S3.Bucket}", $"prefix={prefix}", $"{key}={value}"];

        var save = new Contender("library", r => WorkerAsync("lib-save-gcs", Args(proxy, $"gsave-{r}", "src", src)), () => DeleteGcsAsync(gcs, run.S3.Bucket, "gsave-"));
        var saved = await MeasureAsync($"link-gcs-save-{label}", bytes, run.Rounds, [save], () => Task.CompletedTask);

        var prefix = $"grestore-{Guid.NewGuid():N}";
        await WorkerAsync("lib-save-gcs", Args(gcs.Endpoint, prefix, "src", src));
        var dst = Path.Combine(run.Work, "restored-gcs");
        var restore = new Contender("library", _ => WorkerAsync("lib-restore-gcs", Args(proxy, prefix, "dst", dst)), () => Task.Run(() => TryDelete(dst)));
        var restored = await MeasureAsync($"link-gcs-restore-{label}", bytes, run.Rounds, [restore], () => Task.CompletedTask);
        await DeleteGcsAsync(gcs, run.S3.Bucket, prefix);
        return [saved, restored];
    }

    private static async Task DeleteGcsAsync(GcsTestServer gcs, string bucket, string prefix)
    {
        using var store = new GcsCheckpointStore(new Uri($"gs://{bucket}"), new GcsStoreOptions { Endpoint = gcs.Endpoint.ToString() });
        await foreach (var entry in store.ListAsync(prefix))
        {
            await store.DeleteAsync(entry.Key);
        }
    }
}
