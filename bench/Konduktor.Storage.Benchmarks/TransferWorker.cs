using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;

using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

using Konduktor.Storage.Gcs;
using Konduktor.Storage.S3;
using Konduktor.Storage.Stores;

namespace Konduktor.Storage.Benchmarks;

/// <summary>
/// One measured transfer in a fresh process (<c>-- transfer-worker OP …</c>), so that its peak memory (VmHWM) is its own.
/// The operation runs twice: first untimed on a throw-away target (it compiles the code path), then timed. Prints one line
/// <c>WORKER seconds requests peakMiB growthMiB cpuSeconds coldSeconds serverCpuSeconds</c>, all of the timed run but coldSeconds:
/// requests are counted from System.Net.Http's <c>http.client.request.duration</c> metric (every HTTP request any
/// HttpClient in the process made); the peak is the resident set's high-water mark (VmHWM, reset before the timed run);
/// growth is that peak minus the resident set just before the timed run; cpuSeconds is the process's user + system CPU
/// time during it (client and server share the cores, so a client's CPU is the server's loss); coldSeconds is the first
/// run's time, JIT compilation included; serverCpuSeconds is the CPU time of the server processes named by
/// <c>server=pid,pid…</c> during the timed run (NaN without them).
/// </summary>
internal static class TransferWorker
{
    private const string RunId = "bench";

    public static async Task<int> RunAsync(string[] args)
    {
        // args: transfer-worker OP key=value…
        var op = args[1];
        var a = args.Skip(2).Select(x => x.Split('=', 2)).ToDictionary(x => x[0], x => x[1], StringComparer.Ordinal);
        long requests = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "System.Net.Http" && instrument.Name == "http.client.request.duration")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref requests));
        listener.Start();

        // A training job saves and restores many times in one process. The first run (on a throw-away target) compiles the
        // code path, JIT tiering included; the second, timed, is the steady state. Both times are printed.
        var coldClock = Stopwatch.StartNew();
        if (WarmUpArgs(op, a) is { } warmUp)
        {
            await OperationAsync(op, warmUp);
            await CleanUpAsync(op, warmUp);
        }

        var coldSeconds = coldClock.Elapsed.TotalSeconds;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        ResetPeakResidentSet();
        Interlocked.Exchange(ref requests, 0);
        var baseline = ProcStatusMiB("VmRSS:");
        var server = a.GetValueOrDefault("server", "");
        var serverCpu = ServerCpu.Seconds(server);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await OperationAsync(op, a);
        var seconds = clock.Elapsed.TotalSeconds;
        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        var serverCpuSeconds = ServerCpu.Seconds(server) - serverCpu;
        listener.RecordObservableInstruments();
        var peak = ProcStatusMiB("VmHWM:");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"WORKER {seconds:F4} {Interlocked.Read(ref requests)} {peak:F1} {peak - baseline:F1} {cpuSeconds:F3} {coldSeconds:F4} {serverCpuSeconds:F3}"));
        return 0;
    }

    private static async Task OperationAsync(string op, Dictionary<string, string> a)
    {
        switch (op)
        {
            case "lib-save-s3" or "lib-save-gcs":
                {
                    using var store = (IDisposable)BucketStore(op, a);
                    var manager = new CheckpointManager((ICheckpointStore)store, JobContext.Create(), new CheckpointManagerOptions { RunId = RunId });
                    await manager.SaveDirectoryAsync(1, a["src"]);
                    break;
                }

            case "lib-restore-s3" or "lib-restore-gcs":
                {
                    using var store = (IDisposable)BucketStore(op, a);
                    var manager = new CheckpointManager((ICheckpointStore)store, JobContext.Create(), new CheckpointManagerOptions { RunId = RunId });
                    var result = await manager.RestoreLatestAsync(a["dst"]);
                    if (!result.Found)
                    {
                        throw new InvalidOperationException("no checkpoint to restore");
                    }

                    break;
                }

            case "lib-seed-steps":
                {
                    // Many small committed steps (retention off), for the find-latest case; not timed by the harness.
                    using var store = S3Store(a);
                    var manager = new CheckpointManager(store, JobContext.Create(), new CheckpointManagerOptions { RunId = RunId, Retention = { ApplyAfterSave = false } });
                    await Parallel.ForEachAsync(Enumerable.Range(0, int.Parse(a["steps"], CultureInfo.InvariantCulture)), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (step, ct) =>
                        await manager.SaveAsync(step, new Dictionary<string, Stream> { ["model.bin"] = new MemoryStream(new byte[1024]), ["optimizer.bin"] = new MemoryStream(new byte[512]) }, cancellationToken: ct));
                    break;
                }

            case "lib-find-latest":
                {
                    using var store = S3Store(a);
                    var manager = new CheckpointManager(store, JobContext.Create(), new CheckpointManagerOptions { RunId = RunId });
                    var reader = await manager.OpenLatestAsync();
                    if (reader.Step != long.Parse(a["expect"], CultureInfo.InvariantCulture))
                    {
                        throw new InvalidOperationException($"found step {reader.Step}, expected {a["expect"]}");
                    }

                    break;
                }

            case "lib-save-fs":
                {
                    var manager = new CheckpointManager(new FileSystemCheckpointStore(a["root"]), JobContext.Create(), new CheckpointManagerOptions { RunId = RunId });
                    await manager.SaveDirectoryAsync(1, a["src"]);
                    break;
                }

            case "lib-restore-fs":
                {
                    var manager = new CheckpointManager(new FileSystemCheckpointStore(a["root"]), JobContext.Create(), new CheckpointManagerOptions { RunId = RunId });
                    var result = await manager.RestoreLatestAsync(a["dst"]);
                    if (!result.Found)
                    {
                        throw new InvalidOperationException("no checkpoint to restore");
                    }

                    break;
                }

            case "sdk-save-s3" when a.GetValueOrDefault("mode") == "link":
                await RawSdkOnLink.SaveAsync(a);
                break;

            case "sdk-restore-s3" when a.GetValueOrDefault("mode") == "link":
                await RawSdkOnLink.RestoreAsync(a);
                break;

            case "sdk-save-s3":
                {
                    using var client = RawClient(a["endpoint"], a["ak"], a["sk"]);
                    var files = Directory.GetFiles(a["src"]).Order(StringComparer.Ordinal).ToList();

                    // One PutObject per file straight from the file; several files go up four at a time.
                    await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (file, ct) =>
                        await client.PutObjectAsync(
                            new PutObjectRequest { BucketName = a["bucket"], Key = $"{a["prefix"]}/{Path.GetFileName(file)}", FilePath = file, UseChunkEncoding = false },
                            ct));
                    break;
                }

            case "sdk-restore-s3":
                {
                    using var client = RawClient(a["endpoint"], a["ak"], a["sk"]);
                    Directory.CreateDirectory(a["dst"]);
                    foreach (var entry in await RawSdkOnLink.ListAsync(client, a["bucket"], a["prefix"] + "/"))
                    {
                        await RawSdkOnLink.RangedDownloadAsync(client, a["bucket"], entry.Key, entry.Size ?? 0, Path.Combine(a["dst"], Path.GetFileName(entry.Key)), parts: 4, maxRange: long.MaxValue);
                    }

                    break;
                }

            default:
                throw new ArgumentException($"unknown worker operation {op}");
        }

    }

    /// <summary>Where the untimed first run goes: a sibling target of the timed one (<see langword="null"/>: no first run).</summary>
    private static Dictionary<string, string>? WarmUpArgs(string op, Dictionary<string, string> a)
    {
        var (key, value) = op switch
        {
            "lib-save-s3" or "lib-save-gcs" or "sdk-save-s3" => ("prefix", a["prefix"] + "-warmup"),
            "lib-save-fs" => ("root", a["root"] + "-warmup"),
            "lib-restore-s3" or "lib-restore-gcs" or "lib-restore-fs" or "sdk-restore-s3" => ("dst", a["dst"] + "-warmup"),
            "lib-find-latest" => ("prefix", a["prefix"]),
            _ => (null, null),
        };
        return key is null ? null : new Dictionary<string, string>(a, StringComparer.Ordinal) { [key] = value! };
    }

    /// <summary>Removes what the untimed first run wrote.</summary>
    private static async Task CleanUpAsync(string op, Dictionary<string, string> a)
    {
        switch (op)
        {
            case "lib-save-s3" or "lib-save-gcs":
                {
                    using var disposable = (IDisposable)BucketStore(op, a);
                    var store = (ICheckpointStore)disposable;
                    await foreach (var entry in store.ListAsync(""))
                    {
                        await store.DeleteAsync(entry.Key);
                    }

                    break;
                }

            case "sdk-save-s3":
                {
                    using var client = RawClient(a["endpoint"], a["ak"], a["sk"]);
                    foreach (var entry in await RawSdkOnLink.ListAsync(client, a["bucket"], a["prefix"] + "/"))
                    {
                        await client.DeleteObjectAsync(a["bucket"], entry.Key);
                    }

                    break;
                }

            case "lib-save-fs":
                Directory.Delete(a["root"], recursive: true);
                break;
            case "lib-restore-s3" or "lib-restore-gcs" or "lib-restore-fs" or "sdk-restore-s3":
                Directory.Delete(a["dst"], recursive: true);
                break;
        }
    }

    /// <summary>Resets this process's peak resident set (VmHWM), so that the timed run's peak is its own.</summary>
    private static void ResetPeakResidentSet() => File.WriteAllText("/proc/self/clear_refs", "5");

    /// <summary>The library's S3 or GCS store for a worker operation (<c>…-s3</c> or <c>…-gcs</c>), with its default options unless tuned.</summary>
    private static object BucketStore(string op, Dictionary<string, string> a) => op.EndsWith("-gcs", StringComparison.Ordinal)
        ? new GcsCheckpointStore(
            new Uri($"gs://{a["bucket"]}/{a["prefix"]}"),
            new GcsStoreOptions
            {
                Endpoint = a["endpoint"],
                Concurrency = a.TryGetValue("concurrency", out var concurrency) ? int.Parse(concurrency, CultureInfo.InvariantCulture) : new GcsStoreOptions().Concurrency,
            })
        : S3Store(a);

    private static S3CheckpointStore S3Store(Dictionary<string, string> a) => new(
        new Uri($"s3://{a["bucket"]}/{a["prefix"]}"),
        new S3StoreOptions
        {
            Endpoint = a["endpoint"],
            ForcePathStyle = true,
            Region = "us-east-1",
            PartSizeMiB = a.TryGetValue("part", out var part) ? int.Parse(part, CultureInfo.InvariantCulture) : new S3StoreOptions().PartSizeMiB,
            Concurrency = a.TryGetValue("concurrency", out var concurrency) ? int.Parse(concurrency, CultureInfo.InvariantCulture) : new S3StoreOptions().Concurrency,
        },
        new BasicAWSCredentials(a["ak"], a["sk"]));

    /// <summary>The raw SDK as RadosGW needs it: path style, no aws-chunked, checksums only when required.</summary>
    public static AmazonS3Client RawClient(string endpoint, string accessKey, string secretKey) => new(new BasicAWSCredentials(accessKey, secretKey), new AmazonS3Config
    {
        ServiceURL = endpoint,
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        IgnoreConfiguredEndpointUrls = true,
    });

    /// <summary>A memory figure of this process from <c>/proc/self/status</c> (e.g. <c>VmHWM:</c>, the peak resident set), in MiB.</summary>
    private static double ProcStatusMiB(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
            }
        }

        return double.NaN;
    }
}
