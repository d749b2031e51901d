using System.Globalization;
using System.Text;

namespace Konduktor.Storage.Benchmarks;

/// <summary>The transfers mode's report: a Markdown table and one <c>BENCH</c> line per case.</summary>
internal static partial class TransfersRun
{
    private static void Print(List<CaseResult> results, int rounds, TimeSpan elapsed, string setting)
    {
        static string F(double? v, string format = "F1") => v is { } x && !double.IsNaN(x) ? x.ToString(format, CultureInfo.InvariantCulture) : "n/a";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Transfers ({setting}): median of {rounds} rounds, contenders alternating ({Environment.ProcessorCount} CPUs, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}); total {elapsed.TotalSeconds:F0} s"));
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
            var gcs = result.Case.Contains("gcs-", StringComparison.Ordinal);
            var library = Mibps("library");
            var other = Mibps(fs ? "cp" : "awscli");
            var sdk = Mibps("sdk");
            var ratioOther = library / other;
            var ratioSdk = library / sdk;
            Console.WriteLine($"| {result.Case} | {F(library)} | {F(other)} | {F(sdk)} | {F(ratioOther, "F2")} | {F(ratioSdk, "F2")} | {F(Peak("library"), "F0")} | {F(Peak("sdk"), "F0")} | {Requests("library")} / {Requests("sdk")} | {Cpu("library")} / {Cpu("sdk")} | {Server("library")} / {Server("awscli")} / {Server("sdk")} |");

            var json = new StringBuilder();
            json.Append(CultureInfo.InvariantCulture, $"{{\"case\":\"{result.Case}\",\"setting\":\"{setting}\",\"library_mibps\":{J(library)}");
            json.Append(gcs ? "" : fs
                ? string.Create(CultureInfo.InvariantCulture, $",\"cp_mibps\":{J(other)},\"ratio_cp\":{J(ratioOther, "F3")}")
                : string.Create(CultureInfo.InvariantCulture, $",\"awscli_mibps\":{J(other)},\"sdk_mibps\":{J(sdk)},\"ratio_awscli\":{J(ratioOther, "F3")},\"ratio_sdk\":{J(ratioSdk, "F3")}"));
            json.Append(CultureInfo.InvariantCulture, $",\"peak_mib\":{J(Peak("library"))},\"peak_growth_mib\":{J(Growth("library"))},\"requests_library\":{Requests("library")},\"cpu_seconds_library\":{Cpu("library")},\"library_first_run_mibps\":{Cold("library")}");
            if (!fs && !gcs)
            {
                json.Append(CultureInfo.InvariantCulture, $",\"requests_sdk\":{Requests("sdk")},\"requests_awscli\":\"n/a\",\"cpu_seconds_sdk\":{Cpu("sdk")},\"sdk_first_run_mibps\":{Cold("sdk")},\"server_cpu_seconds_library\":{Server("library")},\"server_cpu_seconds_awscli\":{Server("awscli")},\"server_cpu_seconds_sdk\":{Server("sdk")}");
            }

            // Variants beyond the usual contenders (e.g. the sample without ReadyToRun): their speed and ratio to the CLI.
            foreach (var extra in result.Samples.Keys.Where(k => k is not ("library" or "awscli" or "sdk" or "cp")))
            {
                json.Append(CultureInfo.InvariantCulture, $",\"{extra}_mibps\":{J(Mibps(extra))},\"ratio_{extra}_awscli\":{J(Mibps(extra) / other, "F3")}");
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {result.Case} {extra}: {Mibps(extra):F1} MiB/s ({Mibps(extra) / other:F2}x aws)"));
            }

            json.Append('}');
            lines.Add("BENCH " + json.ToString().Replace(":n/a", ":null", StringComparison.Ordinal));
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
}
