using System.Globalization;
using System.Text.Json;

namespace Konduktor.Storage.Benchmarks;

/// <summary>
/// The sample as users run it (<c>--sample DIR</c>, its published output): a whole process that saves one checkpoint with a
/// payload and exits, then one that restores it at start (verifying every byte) and exits, start-up and first-run
/// compilation included, alternated with <c>aws s3 cp</c> of a file of the same size; the save also as
/// <c>library_sync</c> (<c>Trainer:BackgroundSaves=false</c>). With <c>BENCH_SAMPLE_VARIANTS=1</c>
/// the sample also runs without its ReadyToRun code (<c>DOTNET_ReadyToRun=0</c>) and with the dynamic PGO its project turns
/// off (<c>DOTNET_TieredPGO=1</c>), to see which start-up settings pay.
/// </summary>
internal static partial class TransfersRun
{
    private static IEnumerable<(string Name, Func<string, Task<CaseResult>> Run)> SampleCases(Run run, string sampleDir, long bytes, string label)
    {
        var oneFile = Path.Combine(run.Work, "data-one", "model.bin");
        var variants = new List<(string Name, Dictionary<string, string> Env)> { ("library", []) };
        if (Environment.GetEnvironmentVariable("BENCH_SAMPLE_VARIANTS") == "1")
        {
            variants.Add(("library_jit", new() { ["DOTNET_ReadyToRun"] = "0" }));
            variants.Add(("library_pgo", new() { ["DOTNET_TieredPGO"] = "1" }));
        }

        yield return ($"sample-save-{label}", async name =>
        {
            // The sample's defaults save in the background: a capture beyond the 64 MiB memory staging goes through a staging
            // folder on local disk first. A pod that saves once and exits has nothing to overlap, so the synchronous save
            // (straight from the generator to the store, as aws s3 cp goes from its file) is measured beside it.
            var contenders = variants.Append(("library_sync", new() { ["Trainer__BackgroundSaves"] = "false" })).Select(v => new Contender(v.Name, r => SampleAsync(run.S3, sampleDir, $"save-{v.Name}-{r}", 0, bytes, v.Env), () => run.S3.DeletePrefixAsync("sample-")))
                .Append(new Contender("awscli", r => run.S3.AwsCliAsync(["s3", "cp", "--quiet", oneFile, $"s3://{run.S3.Bucket}/sample-aws-{r}/model.bin"]), () => run.S3.DeletePrefixAsync("sample-aws-")))
                .ToArray();
            return await MeasureAsync(name, bytes, run.Rounds, contenders, () => RunGcAsync(run.GcCommand));
        });

        yield return ($"sample-restore-{label}", async name =>
        {
            // One checkpoint saved by the sample; each sample run restores it, and the CLI downloads its payload object.
            await SampleAsync(run.S3, sampleDir, "restore", 0, bytes, []);
            using var client = run.S3.Client();
            var payload = (await RawSdkOnLink.ListAsync(client, run.S3.Bucket, "sample/restore/")).Single(o => o.Key.EndsWith("/payload.bin", StringComparison.Ordinal)).Key;
            var dst = Path.Combine(run.Work, "sample-restored.bin");
            var contenders = variants.Select(v => new Contender(v.Name, _ => SampleAsync(run.S3, sampleDir, "restore", 1, bytes, v.Env)))
                .Append(new Contender("awscli", _ => run.S3.AwsCliAsync(["s3", "cp", "--quiet", $"s3://{run.S3.Bucket}/{payload}", dst]), () => Task.Run(() => File.Delete(dst))))
                .ToArray();
            var result = await MeasureAsync(name, bytes, run.Rounds, contenders, () => Task.CompletedTask);
            await run.S3.DeletePrefixAsync("sample/");
            await RunGcAsync(run.GcCommand);
            return result;
        });
    }

    /// <summary>
    /// Runs the sample as a pod of job <paramref name="job"/>: a fresh one (<paramref name="restartAttempt"/> 0) trains five steps and
    /// saves the fifth with its payload; a restarted one resumes from it (checking every payload byte) and has nothing left to train.
    /// Timed from process start to exit.
    /// </summary>
    private static async Task<Sample> SampleAsync(S3Context s3, string sampleDir, string job, int restartAttempt, long bytes, Dictionary<string, string> extra)
    {
        var env = s3.CliEnvironment();
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["KONDUKTOR_JOB_NAME"] = job,
            ["RESTART_ATTEMPT"] = restartAttempt.ToString(CultureInfo.InvariantCulture),
            ["JOB_COMPLETION_INDEX"] = "0",
            ["AWS_REGION"] = "us-east-1",
            ["Konduktor__Checkpoints__Location"] = $"s3://{s3.Bucket}/sample",
            ["Konduktor__Checkpoints__S3__Endpoint"] = s3.Endpoint,
            ["Trainer__Steps"] = "5",
            ["Trainer__CheckpointEvery"] = "5",
            ["Trainer__CrashAtStep"] = "0",
            ["Trainer__PayloadMiB"] = (bytes / MiB).ToString(CultureInfo.InvariantCulture),
        }.Concat(extra))
        {
            env[key] = value;
        }

        var apphost = Path.Combine(sampleDir, "TinyTrainer");
        var (seconds, stdout) = File.Exists(apphost)
            ? await RunProcessAsync(apphost, [], env)
            : await RunProcessAsync("dotnet", [Path.Combine(sampleDir, "TinyTrainer.dll")], env);
        var result = stdout.Split('\n').Single(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
        using var json = JsonDocument.Parse(result["RESULT ".Length..]);
        var resumed = json.RootElement.GetProperty("resumedFromStep");
        if (restartAttempt > 0 && (resumed.ValueKind != JsonValueKind.Number || resumed.GetInt64() != 5))
        {
            throw new InvalidOperationException($"the sample did not restore step 5: {result}");
        }

        return new Sample(seconds, null, null);
    }
}
