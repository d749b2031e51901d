using System.Globalization;

using Konduktor.Storage.Reliability;
using Konduktor.Storage.Reliability.CommitRace;
using Konduktor.Storage.Reliability.FaultCampaign;
using Konduktor.Storage.Reliability.KillCampaign;

// kill-campaign --store fs|s3 [--kills N] [--seed N] [--parallel N] [--work DIR] [--report FILE]
//   s3 reads RGW_ENDPOINT, RGW_ACCESS_KEY, RGW_SECRET_KEY (what eng/rgw/rgw.sh start prints).
//   Prints one line per kill, then the figures; exit code 0 when nothing was lost, torn, hung or failed.
// fault-report FILE
//   Prints the fault campaign's figures; exit code 0 when no unclear error, hang, torn checkpoint or wrong byte.
// commit-racer ROUNDS
//   The process side of a commit race (configured through the pod variables); see CommitRacer.
if (args is ["commit-racer", var rounds, ..])
{
    return await CommitRacer.RunAsync(args[2..], int.Parse(rounds, CultureInfo.InvariantCulture));
}

if (args is ["fault-report", var path])
{
    return FaultCampaignFigures.Check(path, Console.Out);
}

if (args is not ["kill-campaign", ..])
{
    Console.Error.WriteLine("usage: kill-campaign --store fs|s3 [--kills N] [--seed N] [--parallel N] [--work DIR] [--report FILE] | fault-report FILE | commit-racer ROUNDS");
    return 2;
}

string Option(string name, string fallback) =>
    args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;

var storeName = Option("--store", "fs");
var seed = int.Parse(Option("--seed", Random.Shared.Next(1, 1_000_000).ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
var work = Path.GetFullPath(Option("--work", Path.Combine(Path.GetTempPath(), $"konduktor-kill-{Guid.NewGuid():N}")));
var report = Option("--report", "");
using var store = storeName switch
{
    "fs" => CampaignStore.FileSystem(Path.Combine(work, "store")),
    "s3" => await CampaignStore.S3Async(
        new Uri(Required("RGW_ENDPOINT")), Required("RGW_ACCESS_KEY"), Required("RGW_SECRET_KEY"), "konduktor-kill-campaign"),
    _ => throw new ArgumentException($"--store must be fs or s3, not '{storeName}'."),
};
var options = new KillCampaignOptions
{
    Kills = int.Parse(Option("--kills", "200"), CultureInfo.InvariantCulture),
    Seed = seed,
    Parallelism = int.Parse(Option("--parallel", "2"), CultureInfo.InvariantCulture),
    WorkDirectory = work,
    Log = Console.WriteLine,
};
Console.WriteLine($"kill campaign on {storeName} ({store.Location}): {options.Kills} kills, seed {seed}, {options.Parallelism} jobs at a time");
var figures = await new KillCampaignRunner(store, options).RunAsync();
Console.WriteLine(figures.Summary());
Console.WriteLine("FIGURES " + figures.ToJson());
if (report.Length > 0)
{
    await File.WriteAllTextAsync(report, figures.ToJson());
}

if (figures.Passed)
{
    Directory.Delete(work, recursive: true);
}

return figures.Passed ? 0 : 1;

static string Required(string variable) =>
    Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value
    : throw new ArgumentException($"The environment variable {variable} is not set (the RadosGW endpoint and keys, as eng/rgw/rgw.sh start prints them).");
