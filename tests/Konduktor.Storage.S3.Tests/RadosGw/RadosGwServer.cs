using System.Diagnostics;
using System.Globalization;

namespace Konduktor.Storage.S3.Tests;

/// <summary>
/// A throw-away single-node Ceph RadosGW on 127.0.0.1 (started by <c>eng/rgw/rgw.sh</c>), shared by the
/// tests of the <c>"RadosGW"</c> collection. Needs the Debian packages <c>ceph-mon ceph-osd radosgw</c>
/// (<c>bash eng/rgw/rgw.sh install</c>); buckets are created with the AWS CLI (<c>aws</c> on PATH, or
/// the <c>RGW_AWS_CLI</c> environment variable).
/// </summary>
/// <remarks>
/// Each server lives in <c>$TMPDIR/konduktor-rgw/ID/</c>; <c>ID.owner</c> next to it records the test
/// process that started it and the daemons' PIDs, so a later run stops the leftovers of a test process that
/// was killed before its <see cref="DisposeAsync"/> or <see cref="AppDomain.ProcessExit"/> handler ran.
/// </remarks>
public sealed class RadosGwServer : Xunit.IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(240);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CliTimeout = TimeSpan.FromSeconds(60);
    private static readonly string[] DaemonNames = ["ceph-mon", "ceph-osd", "radosgw"];

    private readonly object _gate = new();
    private string? _script;
    private string? _ownerFile;
    private string? _awsCli;
    private bool _stopped;

    /// <summary>The S3 endpoint, <c>http://127.0.0.1:PORT</c>.</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>The access key of the S3 user.</summary>
    public string AccessKey { get; private set; } = "";

    /// <summary>The secret key of the S3 user.</summary>
    public string SecretKey { get; private set; } = "";

    /// <summary>The region to sign requests for (RadosGW accepts any; this is the default zone group's).</summary>
    public const string Region = "us-east-1";

    /// <summary>The PIDs of ceph-mon, ceph-osd and radosgw.</summary>
    public IReadOnlyList<int> Pids { get; private set; } = [];

    /// <summary>The folder holding the cluster (config, logs in <c>log/</c>, admin sockets, pid files).</summary>
    public string ClusterDirectory { get; private set; } = "";

    /// <summary>
    /// Environment for AWS tools pointed at this server: the keys, the region, and isolation from the
    /// machine's AWS configuration (profiles, endpoint overrides, session tokens).
    /// </summary>
    public IReadOnlyDictionary<string, string?> AwsEnvironment => new Dictionary<string, string?>
    {
        ["AWS_ACCESS_KEY_ID"] = AccessKey,
        ["AWS_SECRET_ACCESS_KEY"] = SecretKey,
        ["AWS_DEFAULT_REGION"] = Region,
        ["AWS_REGION"] = Region,
        ["AWS_SESSION_TOKEN"] = null,
        ["AWS_PROFILE"] = null,
        ["AWS_DEFAULT_PROFILE"] = null,
        ["AWS_ENDPOINT_URL"] = null,
        ["AWS_ENDPOINT_URL_S3"] = null,
        ["AWS_CONFIG_FILE"] = Path.Join(ClusterDirectory, "no-aws-config"),
        ["AWS_SHARED_CREDENTIALS_FILE"] = Path.Join(ClusterDirectory, "no-aws-credentials"),
        ["AWS_REQUEST_CHECKSUM_CALCULATION"] = "when_required",
        ["AWS_RESPONSE_CHECKSUM_VALIDATION"] = "when_required",
        ["AWS_PAGER"] = "",
    };

    public async Task InitializeAsync()
    {
        var root = FindRepositoryRoot();
        _script = Path.Join(root, "eng", "rgw", "rgw.sh");
        var stateRoot = Path.Join(Path.GetTempPath(), "konduktor-rgw");
        Directory.CreateDirectory(stateRoot);
        await StopLeftoversAsync(_script, stateRoot);

        var id = Guid.NewGuid().ToString("N")[..12];
        ClusterDirectory = Path.Join(stateRoot, id);
        _ownerFile = Path.Join(stateRoot, id + ".owner");
        WriteOwnerFile(pids: []);
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;

        var result = await RunAsync("bash", [_script, "start", ClusterDirectory], environment: null, StartTimeout);
        if (result.ExitCode != 0)
        {
            await StopAsync();
            throw new InvalidOperationException(
                $"rgw.sh start failed (exit {result.ExitCode}); is Ceph installed ('bash eng/rgw/rgw.sh install')?\n{result.StdErr}");
        }

        var values = result.StdOut
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('=', 2))
            .Where(parts => parts.Length == 2 && parts[0].StartsWith("RGW_", StringComparison.Ordinal))
            .ToDictionary(parts => parts[0], parts => parts[1], StringComparer.Ordinal);
        if (!values.TryGetValue("RGW_ENDPOINT", out var endpoint) || !values.TryGetValue("RGW_ACCESS_KEY", out var accessKey)
            || !values.TryGetValue("RGW_SECRET_KEY", out var secretKey) || !values.TryGetValue("RGW_PIDS", out var pids))
        {
            await StopAsync();
            throw new InvalidOperationException($"rgw.sh start printed an unexpected result:\n{result.StdOut}\n{result.StdErr}");
        }

        Endpoint = new Uri(endpoint);
        AccessKey = accessKey;
        SecretKey = secretKey;
        Pids = pids.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        WriteOwnerFile(Pids);
    }

    public Task DisposeAsync() => StopAsync();

    /// <summary>Creates a bucket with the AWS CLI (<c>s3api create-bucket</c>).</summary>
    public async Task CreateBucketAsync(string name)
    {
        var result = await RunAwsCliAsync("s3api", "create-bucket", "--bucket", name);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"aws s3api create-bucket --bucket {name} failed (exit {result.ExitCode}):\n{result.StdErr}");
        }
    }

    /// <summary>
    /// Runs the AWS CLI against this server (<c>--endpoint-url</c> and <see cref="AwsEnvironment"/> are added).
    /// Note: AWS CLI v1 prints "argument of type 'NoneType' is not iterable" instead of the error of a failed
    /// request when RadosGW answers with an empty &lt;Message&gt;; the exit code (255) is still right.
    /// </summary>
    public async Task<(int ExitCode, string StdOut, string StdErr)> RunAwsCliAsync(params string[] arguments)
    {
        _awsCli ??= await ResolveAwsCliAsync();
        return await RunAsync(_awsCli, ["--endpoint-url", Endpoint.ToString().TrimEnd('/'), .. arguments], AwsEnvironment, CliTimeout);
    }

    /// <summary><c>RGW_AWS_CLI</c>, else <c>aws</c> on PATH; a pyenv shim is resolved to the real script (saves ~1 s a call).</summary>
    private static async Task<string> ResolveAwsCliAsync()
    {
        if (Environment.GetEnvironmentVariable("RGW_AWS_CLI") is { Length: > 0 } configured)
        {
            return configured;
        }

        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Join(dir, "aws"))
            .FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("The AWS CLI ('aws') is not on PATH; set RGW_AWS_CLI to its path.");
        if (onPath.Contains("/shims/", StringComparison.Ordinal))
        {
            try
            {
                var which = await RunAsync("pyenv", ["which", "aws"], environment: null, CliTimeout);
                var real = which.StdOut.Trim();
                if (which.ExitCode == 0 && File.Exists(real))
                {
                    return real;
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or TimeoutException)
            {
                // use the shim
            }
        }

        return onPath;
    }

    private async Task StopAsync()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        lock (_gate)
        {
            if (_stopped || _script is null || ClusterDirectory.Length == 0)
            {
                return;
            }

            _stopped = true;
        }

        var result = await RunAsync("bash", [_script, "stop", ClusterDirectory], environment: null, StopTimeout);
        if (result.ExitCode != 0)
        {
            KillDaemons(Pids);
            throw new InvalidOperationException($"rgw.sh stop failed (exit {result.ExitCode}):\n{result.StdErr}");
        }

        DeleteOwnerFile();
    }

    /// <summary>
    /// The test host is exiting without <see cref="DisposeAsync"/> (aborted or crashed run). The test
    /// platform may kill the host and its child processes moments later, so the stop runs detached
    /// (<c>setsid --fork</c>: re-parented to init) and this handler only waits briefly for it.
    /// </summary>
    private void OnProcessExit(object? sender, EventArgs e)
    {
        lock (_gate)
        {
            if (_stopped || _script is null || ClusterDirectory.Length == 0)
            {
                return;
            }

            _stopped = true;
        }

        try
        {
            var startInfo = new ProcessStartInfo("setsid")
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var argument in (string[])["--fork", "bash", "-c", "exec </dev/null >/dev/null 2>&1; bash \"$1\" stop \"$2\" && rm -f -- \"$3\"", "rgw-stop",
                         _script, ClusterDirectory, _ownerFile ?? ""])
            {
                startInfo.ArgumentList.Add(argument);
            }

            using var process = Process.Start(startInfo);
            if (process is not null && process.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                // setsid returned at once; give the detached stop a moment while the host still lives
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
                while (Directory.Exists(ClusterDirectory) && DateTime.UtcNow < deadline)
                {
                    Thread.Sleep(100);
                }

                return;
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
        {
            // fall through to killing the daemons directly
        }

        KillDaemons(Pids);
    }

    private void WriteOwnerFile(IReadOnlyList<int> pids)
    {
        using var self = Process.GetCurrentProcess();
        File.WriteAllLines(_ownerFile!,
        [
            "owner=" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
            "owner_start=" + self.StartTime.ToUniversalTime().Ticks.ToString(CultureInfo.InvariantCulture),
            "dir=" + ClusterDirectory,
            "pids=" + string.Join(' ', pids),
        ]);
    }

    private void DeleteOwnerFile()
    {
        if (_ownerFile is not null)
        {
            File.Delete(_ownerFile);
        }
    }

    /// <summary>Stops the servers of test processes that no longer run.</summary>
    private static async Task StopLeftoversAsync(string script, string stateRoot)
    {
        foreach (var ownerFile in Directory.EnumerateFiles(stateRoot, "*.owner"))
        {
            Dictionary<string, string> values;
            try
            {
                values = File.ReadAllLines(ownerFile)
                    .Select(line => line.Split('=', 2))
                    .Where(parts => parts.Length == 2)
                    .ToDictionary(parts => parts[0], parts => parts[1], StringComparer.Ordinal);
            }
            catch (IOException)
            {
                continue;
            }

            if (!values.TryGetValue("owner", out var owner) || !values.TryGetValue("owner_start", out var ownerStart)
                || !values.TryGetValue("dir", out var dir) || IsAlive(owner, ownerStart))
            {
                continue;
            }

            var result = await RunAsync("bash", [script, "stop", dir], environment: null, StopTimeout);
            if (result.ExitCode == 0)
            {
                File.Delete(ownerFile);
            }
        }
    }

    private static bool IsAlive(string pid, string startTicks)
    {
        try
        {
            using var process = Process.GetProcessById(int.Parse(pid, CultureInfo.InvariantCulture));

            // StartTime is derived from the boot time as each caller computes it, so two readings of one process differ
            // by a few milliseconds: compare with a tolerance, or a live owner would pass for a dead one.
            var recorded = new DateTime(long.Parse(startTicks, CultureInfo.InvariantCulture), DateTimeKind.Utc);
            return (process.StartTime.ToUniversalTime() - recorded).Duration() < TimeSpan.FromSeconds(2);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or FormatException or OverflowException
                                       or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>Last resort when rgw.sh cannot run: SIGKILL the daemons (only if they still are ceph daemons).</summary>
    private static void KillDaemons(IEnumerable<int> pids)
    {
        foreach (var pid in pids)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                if (DaemonNames.Contains(process.ProcessName, StringComparer.Ordinal))
                {
                    process.Kill();
                }
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // already gone
            }
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Join(dir.FullName, "Konduktor.Storage.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Konduktor.Storage.sln not found above {AppContext.BaseDirectory}.");
    }

    private static async Task<(int ExitCode, string StdOut, string StdErr)> RunAsync(
        string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment, TimeSpan timeout)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                startInfo.Environment.Remove(name);
            }
            else
            {
                startInfo.Environment[name] = value;
            }
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"could not start {fileName}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', startInfo.ArgumentList)} did not finish within {timeout}:\n{await stderr}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>Tests in <c>[Collection("RadosGW")]</c> share one <see cref="RadosGwServer"/>.</summary>
[Xunit.CollectionDefinition("RadosGW")]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "xunit collection definition")]
public sealed class RadosGwCollection : Xunit.ICollectionFixture<RadosGwServer>;
