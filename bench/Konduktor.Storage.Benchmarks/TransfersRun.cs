using System.Diagnostics;
using System.Globalization;
using System.Text;

using Amazon.S3;
using Amazon.S3.Model;

namespace Konduktor.Storage.Benchmarks;

/// <summary>
/// The transfers mode (<c>-- transfers [--quick] --endpoint URL --access-key K --secret-key S</c>): the library's save and
/// restore next to <c>aws s3 cp</c> and the raw AWSSDK.S3 (S3), and next to <c>cp</c> + <c>sync</c> (file system).
/// Contenders alternate within each round (the starting one rotates); every .NET contender runs in a fresh child process
/// (<see cref="TransferWorker"/>) so its peak memory is its own. Reports medians.
/// </summary>
internal static class TransfersRun
{
    private const long MiB = 1024 * 1024;

    private sealed record Sample(double Seconds, long? Requests, double? PeakMiB, double? GrowthMiB = null, double? CpuSeconds = null, double? ColdSeconds = null, double? ServerCpuSeconds = null);

    private sealed record Contender(string Name, Func<int, Task<Sample>> Run, Func<Task>? After = null);

    private sealed record CaseResult(string Case, long Bytes, Dictionary<string, List<Sample>> Samples);

    public static async Task<int> RunAsync(string[] args)
    {
        var quick = args.Contains("--quick");
        string Arg(string name, string? fallback = null)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback ?? throw new ArgumentException($"missing {name}");
        }

        var endpoint = Arg("--endpoint");
        var accessKey = Arg("--access-key");
        var secretKey = Arg("--secret-key");
        var bucket = Arg("--bucket", "konduktor-bench");
        var gcCommand = Arg("--gc-command", "");
        var work = Path.GetFullPath(Arg("--work", Path.Combine(Path.GetTempPath(), $"konduktor-bench-{Guid.NewGuid():N}")));
        var rounds = int.Parse(Arg("--rounds", quick ? "2" : "5"), CultureInfo.InvariantCulture);
        var oneSize = (quick ? 128 : 1024) * MiB;
        var (manyCount, manySize) = quick ? (4, 16 * MiB) : (8, 128 * MiB);
        var only = Arg("--only", "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        bool Wanted(string name) => only.Length == 0 || only.Any(o => name.Contains(o, StringComparison.Ordinal));
        var oneLabel = quick ? "128MiB" : "1GiB";
        var manyLabel = $"{manyCount}x{manySize / MiB}MiB";

        var serverPids = Arg("--server-pids", "").Split([' ', ','], StringSplitOptions.RemoveEmptyEntries);
        var s3 = new S3Context(endpoint, accessKey, secretKey, bucket, string.Join(',', serverPids));
        Directory.CreateDirectory(work);
        var total = Stopwatch.StartNew();
        try
        {
            using (var client = s3.Client())
            {
                try
                {
                    await client.PutBucketAsync(new PutBucketRequest { BucketName = bucket });
                }
                catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
                {
                }
            }

            var oneDir = Path.Combine(work, "data-one");
            var manyDir = Path.Combine(work, "data-many");
            WriteRandomFile(Path.Combine(oneDir, "model.bin"), oneSize, 1);
            for (var i = 0; i < manyCount; i++)
            {
                WriteRandomFile(Path.Combine(manyDir, $"shard-{i:D2}.bin"), manySize, 100 + i);
            }

            Console.Error.WriteLine($"transfers: work directory {work}, {rounds} rounds, endpoint {endpoint}");

            // Bounded memory: one large file saved and restored by the library alone (full run only; it takes minutes).
            var memory = new List<(string Case, long Bytes, Sample Sample)>();
            if (!quick && (Wanted("s3-save-4GiB") || Wanted("s3-restore-4GiB")))
            {
                var bigDir = Path.Combine(work, "data-big");
                WriteRandomFile(Path.Combine(bigDir, "model.bin"), 4096 * MiB, 7);
                memory.AddRange(await LargeFileAsync(s3, "4GiB", bigDir, 4096 * MiB, work, gcCommand));
                TryDelete(bigDir);
            }

            var steps = quick ? 100 : 1000;
            var find = Wanted($"s3-find-latest-{steps}") ? await FindLatestAsync(s3, steps, gcCommand) : [];

            var cases = new (string Name, Func<string, Task<CaseResult>> Run)[]
            {
                ($"s3-save-{oneLabel}", name => S3SaveAsync(s3, name, oneDir, oneSize, recursive: false, rounds, gcCommand)),
                ($"s3-save-{manyLabel}", name => S3SaveAsync(s3, name, manyDir, manyCount * manySize, recursive: true, rounds, gcCommand)),
                ($"s3-restore-{oneLabel}", name => S3RestoreAsync(s3, name, oneDir, oneSize, recursive: false, rounds, work, gcCommand)),
                ($"s3-restore-{manyLabel}", name => S3RestoreAsync(s3, name, manyDir, manyCount * manySize, recursive: true, rounds, work, gcCommand)),
                ($"fs-save-{oneLabel}", name => FsSaveAsync(name, oneDir, oneSize, rounds, work)),
                ($"fs-restore-{oneLabel}", name => FsRestoreAsync(name, oneDir, oneSize, rounds, work)),
            };
            var results = new List<CaseResult>();
            foreach (var (name, run) in cases.Where(c => Wanted(c.Name)))
            {
                results.Add(await run(name));
            }

            Print(results, rounds, total.Elapsed);
            PrintExtras(memory, steps, find);
            return 0;
        }
        finally
        {
            TryDelete(work);
        }
    }

    private static async Task<CaseResult> S3SaveAsync(S3Context s3, string name, string src, long bytes, bool recursive, int rounds, string gcCommand)
    {
        var fileName = Path.GetFileName(Directory.GetFiles(src)[0]);
        var contenders = new[]
        {
            new Contender("library", r => WorkerAsync("lib-save-s3", s3.WorkerArgs($"save-lib-{r}", ("src", src))), () => s3.DeletePrefixAsync("save-lib-")),
            new Contender("awscli", r => s3.AwsCliAsync(recursive
                ? ["s3", "cp", "--recursive", "--quiet", src, $"s3://{s3.Bucket}/save-aws-{r}/"]
                : ["s3", "cp", "--quiet", Path.Combine(src, fileName), $"s3://{s3.Bucket}/save-aws-{r}/{fileName}"]), () => s3.DeletePrefixAsync("save-aws-")),
            new Contender("sdk", r => WorkerAsync("sdk-save-s3", s3.WorkerArgs($"save-sdk-{r}", ("src", src))), () => s3.DeletePrefixAsync("save-sdk-")),
        };
        return await MeasureAsync(name, bytes, rounds, contenders, () => RunGcAsync(gcCommand));
    }

    private static async Task<CaseResult> S3RestoreAsync(S3Context s3, string name, string src, long bytes, bool recursive, int rounds, string work, string gcCommand)
    {
        // One checkpoint saved by the library; every contender downloads the same objects.
        var prefix = $"restore-src-{Guid.NewGuid():N}";
        await WorkerAsync("lib-save-s3", s3.WorkerArgs(prefix, ("src", src)));
        List<string> keys;
        using (var client = s3.Client())
        {
            var listed = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = s3.Bucket, Prefix = prefix + "/" });
            keys = (listed.S3Objects ?? []).Select(o => o.Key).Where(k => !k.EndsWith("/manifest.json", StringComparison.Ordinal)).ToList();
        }

        var dataPrefix = keys[0][..keys[0].LastIndexOf('/')];
        var dst = Path.Combine(work, "restored");
        Task Clean()
        {
            TryDelete(dst);
            return Task.CompletedTask;
        }

        var contenders = new[]
        {
            new Contender("library", _ => WorkerAsync("lib-restore-s3", s3.WorkerArgs(prefix, ("dst", dst))), Clean),
            new Contender("awscli", _ => s3.AwsCliAsync(recursive
                ? ["s3", "cp", "--recursive", "--quiet", $"s3://{s3.Bucket}/{dataPrefix}/", dst + "/"]
                : ["s3", "cp", "--quiet", $"s3://{s3.Bucket}/{keys[0]}", Path.Combine(dst, Path.GetFileName(keys[0]))]), Clean),
            new Contender("sdk", _ => WorkerAsync("sdk-restore-s3", s3.WorkerArgs(dataPrefix, ("dst", dst))), Clean),
        };
        var result = await MeasureAsync(name, bytes, rounds, contenders, () => Task.CompletedTask);
        await s3.DeletePrefixAsync(prefix);
        await RunGcAsync(gcCommand);
        return result;
    }

    /// <summary>The library saving, then restoring, one large file once each: throughput, peak memory and its growth.</summary>
    private static async Task<List<(string Case, long Bytes, Sample Sample)>> LargeFileAsync(S3Context s3, string label, string src, long bytes, string work, string gcCommand)
    {
        var prefix = $"large-{Guid.NewGuid():N}";
        var dst = Path.Combine(work, "restored-large");
        var save = await WorkerAsync("lib-save-s3", s3.WorkerArgs(prefix, ("src", src)));
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  s3-save-{label}: {bytes / MiB / save.Seconds:F1} MiB/s, peak growth {save.GrowthMiB:F0} MiB"));
        var restore = await WorkerAsync("lib-restore-s3", s3.WorkerArgs(prefix, ("dst", dst)));
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  s3-restore-{label}: {bytes / MiB / restore.Seconds:F1} MiB/s, peak growth {restore.GrowthMiB:F0} MiB"));
        TryDelete(dst);
        await s3.DeletePrefixAsync(prefix);
        await RunGcAsync(gcCommand);
        return [($"s3-save-{label}", bytes, save), ($"s3-restore-{label}", bytes, restore)];
    }

    /// <summary>Requests the library needs to find the newest of <paramref name="steps"/> committed checkpoints (median of 3).</summary>
    private static async Task<List<Sample>> FindLatestAsync(S3Context s3, int steps, string gcCommand)
    {
        var prefix = $"find-{Guid.NewGuid():N}";
        await WorkerAsync("lib-seed-steps", s3.WorkerArgs(prefix, ("steps", steps.ToString(CultureInfo.InvariantCulture))));
        var samples = new List<Sample>();
        for (var i = 0; i < 3; i++)
        {
            samples.Add(await WorkerAsync("lib-find-latest", s3.WorkerArgs(prefix, ("expect", (steps - 1).ToString(CultureInfo.InvariantCulture)))));
        }

        await s3.DeletePrefixAsync(prefix);
        await RunGcAsync(gcCommand);
        return samples;
    }

    private static async Task<CaseResult> FsSaveAsync(string name, string src, long bytes, int rounds, string work)
    {
        var root = Path.Combine(work, "fs-store");
        var copy = Path.Combine(work, "fs-copy");
        var contenders = new[]
        {
            new Contender("library", _ => WorkerAsync("lib-save-fs", [$"root={root}", $"src={src}"]), () => Task.Run(() => TryDelete(root))),
            new Contender("cp", _ => ShellAsync($"mkdir -p '{copy}' && cp -r '{src}/.' '{copy}/' && sync"), () => Task.Run(() => TryDelete(copy))),
        };
        return await MeasureAsync(name, bytes, rounds, contenders, () => Task.CompletedTask);
    }

    private static async Task<CaseResult> FsRestoreAsync(string name, string src, long bytes, int rounds, string work)
    {
        var root = Path.Combine(work, "fs-restore-store");
        await WorkerAsync("lib-save-fs", [$"root={root}", $"src={src}"]);
        var data = Directory.GetFiles(root, Path.GetFileName(Directory.GetFiles(src)[0]), SearchOption.AllDirectories).Single();
        var dst = Path.Combine(work, "fs-restored");
        var contenders = new[]
        {
            new Contender("library", _ => WorkerAsync("lib-restore-fs", [$"root={root}", $"dst={dst}"]), () => Task.Run(() => TryDelete(dst))),
            new Contender("cp", _ => ShellAsync($"mkdir -p '{dst}' && cp '{data}' '{dst}/' && sync"), () => Task.Run(() => TryDelete(dst))),
        };
        var result = await MeasureAsync(name, bytes, rounds, contenders, () => Task.CompletedTask);
        TryDelete(root);
        return result;
    }

    /// <summary>Each round runs every contender once, starting with a different one each round; cleans up after each.</summary>
    private static async Task<CaseResult> MeasureAsync(string name, long bytes, int rounds, Contender[] contenders, Func<Task> afterRound)
    {
        var samples = contenders.ToDictionary(c => c.Name, _ => new List<Sample>(), StringComparer.Ordinal);
        for (var round = 0; round < rounds; round++)
        {
            for (var k = 0; k < contenders.Length; k++)
            {
                var contender = contenders[(round + k) % contenders.Length];
                var sample = await contender.Run(round);
                samples[contender.Name].Add(sample);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name} round {round + 1} {contender.Name}: {bytes / MiB / sample.Seconds:F1} MiB/s ({sample.Seconds:F2} s)"));
                if (contender.After is not null)
                {
                    await contender.After();
                }
            }

            await afterRound();
        }

        return new CaseResult(name, bytes, samples);
    }

    private static async Task<Sample> WorkerAsync(string op, IEnumerable<string> args)
    {
        var path = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var (_, stdout) = await RunProcessAsync(path, ["transfer-worker", op, .. args], null);
        var line = stdout.Split('\n').Single(l => l.StartsWith("WORKER ", StringComparison.Ordinal)).Split(' ');
        return new Sample(
            double.Parse(line[1], CultureInfo.InvariantCulture),
            long.Parse(line[2], CultureInfo.InvariantCulture),
            double.Parse(line[3], CultureInfo.InvariantCulture),
            double.Parse(line[4], CultureInfo.InvariantCulture),
            double.Parse(line[5], CultureInfo.InvariantCulture),
            double.Parse(line[6], CultureInfo.InvariantCulture),
            double.Parse(line[7], CultureInfo.InvariantCulture));
    }

    private static async Task<Sample> ShellAsync(string script)
    {
        var (seconds, _) = await RunProcessAsync("bash", ["-c", script], null);
        return new Sample(seconds, null, null);
    }

    private static async Task RunGcAsync(string gcCommand)
    {
        if (gcCommand.Length > 0)
        {
            await RunProcessAsync("bash", ["-c", gcCommand], null);
        }
    }

    /// <summary>Runs a process to completion; its wall-clock time, from start to exit.</summary>
    internal static async Task<(double Seconds, string Stdout)> RunProcessAsync(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? env)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in env ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var seconds = clock.Elapsed.TotalSeconds;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', info.ArgumentList)} exited with {process.ExitCode}: {await stderr}");
        }

        return (seconds, await stdout);
    }

    private static void WriteRandomFile(string path, long size, int seed)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var random = new Random(seed);
        var buffer = new byte[4 * MiB];
        using var file = File.Create(path);
        for (long written = 0; written < size; written += buffer.Length)
        {
            random.NextBytes(buffer);
            file.Write(buffer, 0, (int)Math.Min(buffer.Length, size - written));
        }
    }

    private static void TryDelete(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static void Print(List<CaseResult> results, int rounds, TimeSpan elapsed)
    {
        static string F(double? v, string format = "F1") => v is { } x && !double.IsNaN(x) ? x.ToString(format, CultureInfo.InvariantCulture) : "n/a";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Transfers: median of {rounds} rounds, contenders alternating ({Environment.ProcessorCount} CPUs, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}); total {elapsed.TotalSeconds:F0} s"));
        Console.WriteLine();
        Console.WriteLine("| case | library MiB/s | aws s3 cp / cp+sync MiB/s | raw SDK MiB/s | library ÷ aws/cp | library ÷ SDK | library peak MiB | SDK peak MiB | requests library / SDK | client CPU s library / SDK | server CPU s library / aws / SDK |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var lines = new List<string>();
        foreach (var result in results)
        {
            double Mibps(string contender) => result.Samples.TryGetValue(contender, out var s) ? Median(s.Select(x => result.Bytes / (double)MiB / x.Seconds)) : double.NaN;
            double? Peak(string contender) => result.Samples.TryGetValue(contender, out var s) ? Median(s.Select(x => x.PeakMiB ?? double.NaN)) : null;
            double? Growth(string contender) => result.Samples.TryGetValue(contender, out var s) ? Median(s.Select(x => x.GrowthMiB ?? double.NaN)) : null;
            string Cold(string contender) => result.Samples.TryGetValue(contender, out var s) ? F(Median(s.Select(x => result.Bytes / (double)MiB / (x.ColdSeconds ?? double.NaN))), "F1") : "n/a";
            string Server(string contender) => result.Samples.TryGetValue(contender, out var s) ? F(Median(s.Select(x => x.ServerCpuSeconds ?? double.NaN)), "F2") : "n/a";
            string Cpu(string contender) => result.Samples.TryGetValue(contender, out var s) ? F(Median(s.Select(x => x.CpuSeconds ?? double.NaN)), "F2") : "n/a";
            string Requests(string contender) => result.Samples.TryGetValue(contender, out var s) ? F(Median(s.Select(x => (double)(x.Requests ?? 0))), "F0") : "n/a";
            var fs = result.Case.StartsWith("fs-", StringComparison.Ordinal);
            var library = Mibps("library");
            var other = Mibps(fs ? "cp" : "awscli");
            var sdk = Mibps("sdk");
            var ratioOther = library / other;
            var ratioSdk = library / sdk;
            Console.WriteLine($"| {result.Case} | {F(library)} | {F(other)} | {F(sdk)} | {F(ratioOther, "F2")} | {F(ratioSdk, "F2")} | {F(Peak("library"), "F0")} | {F(Peak("sdk"), "F0")} | {Requests("library")} / {Requests("sdk")} | {Cpu("library")} / {Cpu("sdk")} | {Server("library")} / {Server("awscli")} / {Server("sdk")} |");

            var json = new StringBuilder();
            json.Append(CultureInfo.InvariantCulture, $"{{\"case\":\"{result.Case}\",\"library_mibps\":{J(library)}");
            json.Append(fs
                ? string.Create(CultureInfo.InvariantCulture, $",\"cp_mibps\":{J(other)},\"ratio_cp\":{J(ratioOther, "F3")}")
                : string.Create(CultureInfo.InvariantCulture, $",\"awscli_mibps\":{J(other)},\"sdk_mibps\":{J(sdk)},\"ratio_awscli\":{J(ratioOther, "F3")},\"ratio_sdk\":{J(ratioSdk, "F3")}"));
            json.Append(CultureInfo.InvariantCulture, $",\"peak_mib\":{J(Peak("library"))},\"peak_growth_mib\":{J(Growth("library"))},\"requests_library\":{Requests("library")},\"cpu_seconds_library\":{Cpu("library")},\"library_first_run_mibps\":{Cold("library")}");
            if (!fs)
            {
                json.Append(CultureInfo.InvariantCulture, $",\"requests_sdk\":{Requests("sdk")},\"requests_awscli\":\"n/a\",\"cpu_seconds_sdk\":{Cpu("sdk")},\"sdk_first_run_mibps\":{Cold("sdk")},\"server_cpu_seconds_library\":{Server("library")},\"server_cpu_seconds_awscli\":{Server("awscli")},\"server_cpu_seconds_sdk\":{Server("sdk")}");
            }

            json.Append('}');
            lines.Add("BENCH " + json);
        }

        Console.WriteLine();
        Console.WriteLine("Library and SDK times are measured inside their worker process: the operation only, run a second time (the first run, which compiles the code, is in the BENCH lines as *_first_run_mibps); aws s3 cp and cp+sync are wall-clock process times.");
        Console.WriteLine("Requests: every HTTP request of the worker process (System.Net.Http metrics); n/a for the AWS CLI (a Python process).");
        Console.WriteLine("Client CPU: user + system CPU seconds of the worker process during the operation (client and server share the cores).");
        Console.WriteLine("Server CPU: user + system CPU seconds of the RadosGW processes (--server-pids) during the operation; n/a without them.");
        Console.WriteLine();
        foreach (var line in lines)
        {
            Console.WriteLine(line);
        }
    }

    private static void PrintExtras(List<(string Case, long Bytes, Sample Sample)> memory, int steps, List<Sample> find)
    {
        var lines = new List<string>();
        if (memory.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine("Bounded memory (library alone, one run each; growth = peak resident set minus the resident set before the operation):");
            Console.WriteLine();
            Console.WriteLine("| case | library MiB/s | peak MiB | peak growth MiB | requests |");
            Console.WriteLine("|---|---:|---:|---:|---:|");
            foreach (var (name, bytes, sample) in memory)
            {
                var mibps = bytes / (double)MiB / sample.Seconds;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {mibps:F1} | {sample.PeakMiB:F0} | {sample.GrowthMiB:F0} | {sample.Requests} |"));
                lines.Add(string.Create(CultureInfo.InvariantCulture, $"BENCH {{\"case\":\"{name}\",\"library_mibps\":{J(mibps)},\"peak_mib\":{J(sample.PeakMiB)},\"peak_growth_mib\":{J(sample.GrowthMiB)},\"requests_library\":{sample.Requests}}}"));
            }
        }

        if (find.Count > 0)
        {
            var requests = Median(find.Select(x => (double)(x.Requests ?? 0)));
            var seconds = Median(find.Select(x => x.Seconds));
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Finding the newest of {steps} committed checkpoints (OpenLatestAsync, median of {find.Count}): {requests:F0} HTTP requests, {seconds * 1000:F0} ms."));
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"BENCH {{\"case\":\"s3-find-latest-{steps}\",\"requests_library\":{requests:F0},\"seconds\":{J(seconds, "F3")}}}"));
        }

        Console.WriteLine();
        foreach (var line in lines)
        {
            Console.WriteLine(line);
        }
    }

    private static string J(double? v, string format = "F1") => v is { } x && !double.IsNaN(x) && !double.IsInfinity(x) ? x.ToString(format, CultureInfo.InvariantCulture) : "null";

    private sealed class S3Context(string endpoint, string accessKey, string secretKey, string bucket, string serverPids)
    {
        public string Bucket => bucket;

        public AmazonS3Client Client() => TransferWorker.RawClient(endpoint, accessKey, secretKey);

        public string[] WorkerArgs(string prefix, params (string Key, string Value)[] extra) =>
            [$"endpoint={endpoint}", $"ak={accessKey}", $"sk={secretKey}", $"bucket={bucket}", $"prefix={prefix}", $"server={serverPids}", .. extra.Select(e => $"{e.Key}={e.Value}")];

        public async Task<Sample> AwsCliAsync(string[] args)
        {
            var env = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["AWS_ACCESS_KEY_ID"] = accessKey,
                ["AWS_SECRET_ACCESS_KEY"] = secretKey,
                ["AWS_DEFAULT_REGION"] = "us-east-1",
                ["AWS_REQUEST_CHECKSUM_CALCULATION"] = "when_required",
                ["AWS_RESPONSE_CHECKSUM_VALIDATION"] = "when_required",
                ["AWS_CONFIG_FILE"] = "/dev/null",
                ["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null",
            };
            var server = ServerCpu.Seconds(serverPids);
            var (seconds, _) = await RunProcessAsync("aws", ["--endpoint-url", endpoint, .. args], env);
            return new Sample(seconds, null, null, ServerCpuSeconds: ServerCpu.Seconds(serverPids) - server);
        }

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
}
