using System.Globalization;

namespace Konduktor.Storage.Benchmarks;

/// <summary>CPU time used so far by the server's processes (RadosGW, the OSD, the monitor), from <c>/proc/PID/stat</c>.</summary>
internal static class ServerCpu
{
    // USER_HZ: the unit of utime and stime, 100 on every Linux ABI this runs on.
    private const double TicksPerSecond = 100;

    /// <summary>User + system CPU seconds of the comma-separated <paramref name="pids"/>; NaN when none are given or one is gone.</summary>
    public static double Seconds(string pids)
    {
        var total = 0.0;
        var any = false;
        foreach (var pid in pids.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            string stat;
            try
            {
                stat = File.ReadAllText($"/proc/{pid}/stat");
            }
            catch (IOException)
            {
                return double.NaN;
            }

            // Fields after the command name (which may hold spaces, inside parentheses): state is field 3, utime 14, stime 15.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            total += (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
            any = true;
        }

        return any ? total : double.NaN;
    }
}
