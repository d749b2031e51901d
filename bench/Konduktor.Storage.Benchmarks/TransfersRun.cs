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
internal static partial class TransfersRun
{
    private const long MiB = 1024 * 1024;

    internal sealed record Sample(double Seconds, long? Requests, double? PeakMiB, double? GrowthMiB = null, double? CpuSeconds = null, double? ColdSeconds = null, double? ServerCpuSeconds = null);

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

        var setting = Arg("--setting", "loopback");
        if (setting is not ("loopback" or "link"))
        {
            throw new ArgumentException($"--setting must be loopback or link, not '{setting}'");
        }

        var endpoint = Arg("--endpoint");
        var accessKey = Arg("--access-key");
        var secretKey = Arg("--secret-key");
        var bucket = Arg("--bucket", "konduktor-bench");
        var gcCommand = Arg("--gc-command", "");
        var work = Path.GetFullPath(Arg("--work", Path.Combine(Path.GetTempPath(), $"konduktor-bench-{Guid.NewGuid():N}")));
        var rounds = int.Parse(Arg("--rounds", quick ? "2" : "5"), CultureInfo.InvariantCulture);
        var only = Arg("--only", "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        bool Wanted(string name) => only.Length == 0 || only.Any(o => name.Contains(o, StringComparison.Ordinal));

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

            Console.Error.WriteLine($"transfers ({setting}): work directory {work}, {rounds} rounds, endpoint {endpoint}");
            var run = new Run(s3, work, rounds, gcCommand, quick, Wanted);
            if (setting == "link")
            {
                var oneMiB = int.Parse(Arg("--link-one-mib", quick ? "64" : "1024"), CultureInfo.InvariantCulture);
                Print(await LinkCasesAsync(run, oneMiB), rounds, total.Elapsed, setting);
                return 0;
            }

            var (results, memory, steps, find) = await LoopbackCasesAsync(run, Arg("--sample", ""));
            Print(results, rounds, total.Elapsed, setting);
            PrintExtras(memory, steps, find);
            return 0;
        }
        finally
        {
            TryDelete(work);
        }
    }

    /// <summary>The loopback rig as before: one large file, several large files, the file system, bounded memory, find-latest, and the sample as a whole process.</summary>
    private static async Task<(List<CaseResult> Results, List<(string Case, long Bytes, Sample Sample)> Memory, int Steps, List<Sample> Find)> LoopbackCasesAsync(Run run, string sample)
    {
        var (s3, work, rounds, gcCommand, quick) = (run.S3, run.Work, run.Rounds, run.GcCommand, run.Quick);
        var oneSize = (quick ? 128 : 1024) * MiB;
        var (manyCount, manySize) = quick ? (4, 16 * MiB) : (8, 128 * MiB);
        var oneLabel = quick ? "128MiB" : "1GiB";
        var manyLabel = $"{manyCount}x{manySize / MiB}MiB";
        var oneDir = Path.Combine(work, "data-one");
        var manyDir = Path.Combine(work, "data-many");
        WriteRandomFile(Path.Combine(oneDir, "model.bin"), oneSize, 1);
        WriteRandomFiles(manyDir, manyCount, manySize, 100);

        // Bounded memory: one large file saved and restored by the library alone (full run only; it takes minutes).
        var memory = new List<(string Case, long Bytes, Sample Sample)>();
        if (!quick && (run.Wanted("s3-save-4GiB") || run.Wanted("s3-restore-4GiB")))
        {
            var bigDir = Path.Combine(work, "data-big");
            WriteRandomFile(Path.Combine(bigDir, "model.bin"), 4096 * MiB, 7);
            memory.AddRange(await LargeFileAsync(s3, "4GiB", bigDir, 4096 * MiB, work, gcCommand));
            TryDelete(bigDir);
        }

        var steps = quick ? 100 : 1000;
        var find = run.Wanted($"s3-find-latest-{steps}") ? await FindLatestAsync(s3, steps, gcCommand) : [];

        var cases = new List<(string Name, Func<string, Task<CaseResult>> Run)>
        {
            ($"s3-save-{oneLabel}", name => S3SaveAsync(run, s3, name, oneDir, oneSize)),
            ($"s3-save-{manyLabel}", name => S3SaveAsync(run, s3, name, manyDir, manyCount * manySize)),
            ($"s3-restore-{oneLabel}", name => S3RestoreAsync(run, s3, s3, name, oneDir, oneSize)),
            ($"s3-restore-{manyLabel}", name => S3RestoreAsync(run, s3, s3, name, manyDir, manyCount * manySize)),
            ($"fs-save-{oneLabel}", name => FsSaveAsync(name, oneDir, oneSize, rounds, work)),
            ($"fs-restore-{oneLabel}", name => FsRestoreAsync(name, oneDir, oneSize, rounds, work)),
        };
        if (sample.Length > 0)
        {
            cases.AddRange(SampleCases(run, sample, oneSize, oneLabel));
        }

        var results = new List<CaseResult>();
        foreach (var (name, runCase) in cases.Where(c => run.Wanted(c.Name)))
        {
            results.Add(await runCase(name));
        }

        return (results, memory, steps, find);
    }

    /// <summary>What every case needs: the S3 server, the work directory, the rounds, the clean-up command and which cases to run.</summary>
    private sealed record Run(S3Context S3, string Work, int Rounds, string GcCommand, bool Quick, Func<string, bool> Wanted);

    /// <summary>Saving the files of <paramref name="src"/>: the library, <c>aws s3 cp</c> (<c>--recursive</c> for several files) and the raw SDK.</summary>
    private static async Task<CaseResult> S3SaveAsync(Run run, S3Context s3, string name, string src, long bytes)
    {
        var files = Directory.GetFiles(src);
        var fileName = Path.GetFileName(files[0]);
        var contenders = new[]
        {
            new Contender("library", r => WorkerAsync("lib-save-s3", s3.WorkerArgs($"save-lib-{r}", ("src", src))), () => s3.DeletePrefixAsync("save-lib-")),
            new Contender("awscli", r => s3.AwsCliAsync(files.Length > 1
                ? ["s3", "cp", "--recursive", "--quiet", src, $"s3://{s3.Bucket}/save-aws-{r}/"]
                : ["s3", "cp", "--quiet", Path.Combine(src, fileName), $"s3://{s3.Bucket}/save-aws-{r}/{fileName}"]), () => s3.DeletePrefixAsync("save-aws-")),
            new Contender("sdk", r => WorkerAsync("sdk-save-s3", s3.WorkerArgs($"save-sdk-{r}", ("src", src))), () => s3.DeletePrefixAsync("save-sdk-")),
        };
        return await MeasureAsync(name, bytes, run.Rounds, contenders, () => RunGcAsync(run.GcCommand));
    }

    /// <summary>
    /// Restoring a checkpoint of the files of <paramref name="src"/>, saved once by the library through <paramref name="seed"/>
    /// (RadosGW itself, so seeding does not pay the link); every contender downloads the same objects through <paramref name="s3"/>.
    /// </summary>
    private static async Task<CaseResult> S3RestoreAsync(Run run, S3Context seed, S3Context s3, string name, string src, long bytes)
    {
        var prefix = $"restore-src-{Guid.NewGuid():N}";
        await WorkerAsync("lib-save-s3", seed.WorkerArgs(prefix, ("src", src)));
        List<string> keys;
        using (var client = seed.Client())
        {
            keys = (await RawSdkOnLink.ListAsync(client, seed.Bucket, prefix + "/")).Select(o => o.Key).Where(k => !k.EndsWith("/manifest.json", StringComparison.Ordinal)).ToList();
        }

        var dataPrefix = keys[0][..keys[0].LastIndexOf('/')];
        var dst = Path.Combine(run.Work, "restored");
        Task Clean()
        {
            TryDelete(dst);
            return Task.CompletedTask;
        }

        var contenders = new[]
        {
            new Contender("library", _ => WorkerAsync("lib-restore-s3", s3.WorkerArgs(prefix, ("dst", dst))), Clean),
            new Contender("awscli", _ => s3.AwsCliAsync(keys.Count > 1
                ? ["s3", "cp", "--recursive", "--quiet", $"s3://{s3.Bucket}/{dataPrefix}/", dst + "/"]
                : ["s3", "cp", "--quiet", $"s3://{s3.Bucket}/{keys[0]}", Path.Combine(dst, Path.GetFileName(keys[0]))]), Clean),
            new Contender("sdk", _ => WorkerAsync("sdk-restore-s3", s3.WorkerArgs(dataPrefix, ("dst", dst))), Clean),
        };
        var result = await MeasureAsync(name, bytes, run.Rounds, contenders, () => Task.CompletedTask);
        await seed.DeletePrefixAsync(prefix);
        await RunGcAsync(run.GcCommand);
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

    /// <summary>
    /// Runs every contender <paramref name="rounds"/> times, alternating who goes first; <paramref name="afterEach"/> runs after
    /// each contender's own clean-up. Saves pass RadosGW's garbage collection there: deleted objects it has not collected yet
    /// slow the next writer down (measured: 5 to 10 % more server CPU for whoever writes second), so every save starts from
    /// the same server state.
    /// </summary>
    private static async Task<CaseResult> MeasureAsync(string name, long bytes, int rounds, Contender[] contenders, Func<Task> afterEach)
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

                await afterEach();
            }
        }

        return new CaseResult(name, bytes, samples);
    }

    internal static async Task<Sample> WorkerAsync(string op, IEnumerable<string> args)
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

    private static void WriteRandomFiles(string dir, int count, long size, int seed)
    {
        for (var i = 0; i < count; i++)
        {
            WriteRandomFile(Path.Combine(dir, count > 100 ? $"shard-{i:D4}.bin" : $"shard-{i:D2}.bin"), size, seed + i);
        }
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
}
