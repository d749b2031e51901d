using System.Globalization;
using System.Text;

using static Konduktor.Storage.JobEnvironmentReader;

namespace Konduktor.Storage;

/// <summary>
/// Who this pod is: the Konduktor job, this pod's rank among the job's nodes, the restart attempt, the hosts, and which
/// credential files are present. Built once from the environment with <see cref="FromEnvironment()"/>, or directly with
/// <see cref="Create"/> in tests.
/// </summary>
/// <remarks>
/// <para>
/// Environment rules: a variable set to the empty string counts as unset. Any other value is trimmed of surrounding
/// whitespace and must then be valid — a blank value is an error, not a default. Numbers are ASCII digits only
/// (<c>" 3 "</c> and <c>"03"</c> are 3; <c>"+3"</c>, <c>"-3"</c>, <c>"3.0"</c>, <c>"0x3"</c> and values beyond
/// <see cref="int.MaxValue"/> are errors). When several variables carry one value (e.g. <c>JOB_COMPLETION_INDEX</c>
/// and <c>RANK</c>), the first set one wins and every other set one must agree with it.
/// </para>
/// <para>
/// Credential files are only checked for existence; their contents are never read. A file named by
/// <c>AWS_SHARED_CREDENTIALS_FILE</c>, <c>AWS_CONFIG_FILE</c> or <c>GOOGLE_APPLICATION_CREDENTIALS</c> that does not
/// exist is not an error here (a job may not use that cloud at all); it is listed in <see cref="ToString"/> so the cause
/// is visible when a store later fails.
/// </para>
/// </remarks>
public sealed class JobContext
{
    private const int MaxPort = 65535;

    private JobContext(
        string? jobName,
        string? kubernetesNamespace,
        string? nodeName,
        string? acceleratorType,
        int restartAttempt,
        int rank,
        int nodeCount,
        int gpusPerNode,
        IReadOnlyList<string> nodeHosts,
        string? masterAddress,
        string? outputDirectory,
        string? awsProfile,
        string hostName,
        IReadOnlyList<CredentialFile> credentialFiles,
        IReadOnlyList<CredentialFile> missingCredentialFiles,
        int? masterPort = null)
    {
        MasterPort = masterPort;
        JobName = jobName;
        Namespace = kubernetesNamespace;
        NodeName = nodeName;
        AcceleratorType = acceleratorType;
        RestartAttempt = restartAttempt;
        Rank = rank;
        NodeCount = nodeCount;
        GpusPerNode = gpusPerNode;
        NodeHosts = nodeHosts;
        MasterAddress = masterAddress ?? (nodeHosts.Count > 0 ? nodeHosts[0] : null);
        OutputDirectory = outputDirectory;
        AwsProfile = awsProfile;
        HostName = hostName;
        CredentialFiles = credentialFiles;
        MissingCredentialFiles = missingCredentialFiles;
    }

    /// <summary>Whether this process runs in a Konduktor job (<c>KONDUKTOR_JOB_NAME</c> is set).</summary>
    public bool IsUnderKonduktor => JobName is not null;

    /// <summary>The Konduktor job's name (<c>KONDUKTOR_JOB_NAME</c>), the default run id; <see langword="null"/> outside Konduktor.</summary>
    public string? JobName { get; }

    /// <summary>The job's Kubernetes namespace (<c>KONDUKTOR_NAMESPACE</c>), or <see langword="null"/>.</summary>
    public string? Namespace { get; }

    /// <summary>The Kubernetes node this pod runs on (<c>KONDUKTOR_NODENAME</c>), or <see langword="null"/>.</summary>
    public string? NodeName { get; }

    /// <summary>The accelerator type (<c>KONDUKTOR_ACCELERATOR_TYPE</c>, e.g. <c>H100</c>), or <see langword="null"/>.</summary>
    public string? AcceleratorType { get; }

    /// <summary>How many times the job has been restarted (<c>RESTART_ATTEMPT</c>); 0 on the first run.</summary>
    public int RestartAttempt { get; }

    /// <summary>
    /// This pod's index among the job's nodes (<c>JOB_COMPLETION_INDEX</c>, else <c>RANK</c>, else <c>SKYPILOT_NODE_RANK</c>);
    /// 0 when none is set. Always less than <see cref="NodeCount"/>.
    /// </summary>
    public int Rank { get; }

    /// <summary>How many nodes (pods) the job has (<c>NUM_NODES</c>, else <c>SKYPILOT_NUM_NODES</c>); 1 when neither is set.</summary>
    public int NodeCount { get; }

    /// <summary>GPUs per node (<c>NUM_GPUS_PER_NODE</c>, else <c>SKYPILOT_NUM_GPUS_PER_NODE</c>); 0 when neither is set.</summary>
    public int GpusPerNode { get; }

    /// <summary>
    /// The job's node hosts in order (<c>NODE_HOST_IPS</c>, else <c>SKYPILOT_NODE_IPS</c>, split on commas and newlines,
    /// trimmed, empty entries dropped); empty when neither is set.
    /// </summary>
    public IReadOnlyList<string> NodeHosts { get; }

    /// <summary>The rendezvous address (<c>MASTER_ADDR</c>, else the first of <see cref="NodeHosts"/>), or <see langword="null"/>.</summary>
    public string? MasterAddress { get; }

    /// <summary>
    /// The rendezvous port (<c>MASTER_PORT</c>, from 1 to 65535) where rank 0 listens for the other ranks (e.g. to average
    /// gradients), or <see langword="null"/> when it is not set.
    /// </summary>
    public int? MasterPort { get; }

    /// <summary>The job's output directory (<c>KONDUKTOR_OUTPUT_DIR</c>), or <see langword="null"/>.</summary>
    public string? OutputDirectory { get; }

    /// <summary>The AWS profile to use (<c>AWS_PROFILE</c>), or <see langword="null"/>.</summary>
    public string? AwsProfile { get; }

    /// <summary>This pod's host name.</summary>
    public string HostName { get; }

    /// <summary>
    /// The credential and config files that exist, in the order the SDKs prefer them: AWS credentials
    /// (<c>AWS_SHARED_CREDENTIALS_FILE</c>, <c>~/.aws/credentials</c>), AWS config (<c>AWS_CONFIG_FILE</c>,
    /// <c>~/.aws/config</c>), <c>GOOGLE_APPLICATION_CREDENTIALS</c>, <c>~/.config/gcloud/application_default_credentials.json</c>,
    /// then <c>~/.config/gcloud/legacy_credentials/&lt;account&gt;/adc.json</c> by account name. A file is listed once even when
    /// a variable names its default location. Contents are never read.
    /// </summary>
    internal IReadOnlyList<CredentialFile> CredentialFiles { get; }

    /// <summary>
    /// Files named by <c>AWS_SHARED_CREDENTIALS_FILE</c>, <c>AWS_CONFIG_FILE</c> or <c>GOOGLE_APPLICATION_CREDENTIALS</c> that
    /// do not exist. Absent default locations are not listed: those are normal when a cloud is not used.
    /// </summary>
    internal IReadOnlyList<CredentialFile> MissingCredentialFiles { get; }

    /// <summary>This pod's default checkpoint scope: <c>rank-</c> and the <see cref="Rank"/> in at least five digits, e.g. <c>rank-00003</c>.</summary>
    public string DefaultScope => string.Create(CultureInfo.InvariantCulture, $"rank-{Rank:D5}");

    /// <summary>Reads the context from the process environment, the user's home directory and the file system.</summary>
    /// <returns>The context.</returns>
    /// <exception cref="CheckpointConfigurationException">
    /// A variable holds an invalid value, variables that carry the same value disagree, or the rank is not less than the
    /// node count. The message names the variable, its value and what was expected.
    /// </exception>
    public static JobContext FromEnvironment() => FromEnvironment(ProcessJobEnvironment.Instance);

    /// <summary>Reads the context from <paramref name="environment"/>.</summary>
    /// <param name="environment">The variables, home directory, host name and file-existence checks to use.</param>
    /// <returns>The context.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="environment"/> is <see langword="null"/>.</exception>
    /// <exception cref="CheckpointConfigurationException">
    /// A variable holds an invalid value, variables that carry the same value disagree, or the rank is not less than the
    /// node count. The message names the variable, its value and what was expected.
    /// </exception>
    internal static JobContext FromEnvironment(IJobEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);

        var jobName = ReadText(environment, JobVariables.JobName);
        var restart = ReadNumber(environment, [JobVariables.RestartAttempt], minimum: 0);
        var rank = ReadNumber(environment, JobVariables.RankSources, minimum: 0);
        var nodeCount = ReadNumber(environment, JobVariables.NodeCountSources, minimum: 1);
        var gpus = ReadNumber(environment, JobVariables.GpusPerNodeSources, minimum: 0);
        var hosts = ReadHosts(environment, JobVariables.NodeHostSources);

        var count = nodeCount?.Value ?? 1;
        if (rank is { } r && r.Value >= count)
        {
            // Two pods clamped or wrapped onto one rank would overwrite each other's checkpoints, so this is fatal.
            var countSource = nodeCount is { } n
                ? $"{n.Variable} = '{ObjectKey.Printable(n.Raw)}'"
                : $"{JobVariables.NumNodes} and {JobVariables.SkyPilotNumNodes} are not set, so the count is 1";
            throw new CheckpointConfigurationException(r.Variable, r.Raw, $"a rank less than the node count {count} ({countSource})");
        }

        var (found, missing) = CredentialFileFinder.Find(environment);
        return new JobContext(
            jobName,
            ReadText(environment, JobVariables.Namespace),
            ReadText(environment, JobVariables.NodeName),
            ReadText(environment, JobVariables.AcceleratorType),
            restart?.Value ?? 0,
            rank?.Value ?? 0,
            count,
            gpus?.Value ?? 0,
            hosts?.Value ?? [],
            ReadText(environment, JobVariables.MasterAddress),
            ReadText(environment, JobVariables.OutputDirectory),
            ReadText(environment, JobVariables.AwsProfile),
            environment.HostName,
            found,
            missing,
            ReadPort(environment));
    }

    private static int? ReadPort(IJobEnvironment environment)
    {
        var port = ReadNumber(environment, [JobVariables.MasterPort], minimum: 1);
        return port is { } p && p.Value > MaxPort
            ? throw new CheckpointConfigurationException(p.Variable, p.Raw, $"a TCP port from 1 to {MaxPort}")
            : port?.Value;
    }


    /// <summary>Creates a context directly, for tests and for programs that know their place in the job another way.</summary>
    /// <param name="rank">This pod's index; from 0 to <paramref name="nodeCount"/> - 1.</param>
    /// <param name="nodeCount">How many nodes the job has; at least 1.</param>
    /// <param name="jobName">The job's name; <see langword="null"/> for a process outside Konduktor.</param>
    /// <param name="restartAttempt">The restart attempt; at least 0.</param>
    /// <param name="gpusPerNode">GPUs per node; at least 0.</param>
    /// <param name="nodeHosts">The node hosts in order; none when <see langword="null"/>.</param>
    /// <param name="masterAddress">The rendezvous address; the first host when <see langword="null"/>.</param>
    /// <param name="kubernetesNamespace">The Kubernetes namespace.</param>
    /// <param name="nodeName">The Kubernetes node name.</param>
    /// <param name="acceleratorType">The accelerator type.</param>
    /// <param name="outputDirectory">The output directory.</param>
    /// <param name="hostName">The host name; <see cref="Environment.MachineName"/> when <see langword="null"/>.</param>
    /// <param name="masterPort">The rendezvous port, from 1 to 65535; none when <see langword="null"/>.</param>
    /// <returns>The context, with no credential files.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A number is out of range, or <paramref name="rank"/> is not less than <paramref name="nodeCount"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="jobName"/> or a host is empty or blank.</exception>
    public static JobContext Create(
        int rank = 0,
        int nodeCount = 1,
        string? jobName = null,
        int restartAttempt = 0,
        int gpusPerNode = 0,
        IEnumerable<string>? nodeHosts = null,
        string? masterAddress = null,
        string? kubernetesNamespace = null,
        string? nodeName = null,
        string? acceleratorType = null,
        string? outputDirectory = null,
        string? hostName = null,
        int? masterPort = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        if (masterPort is { } port)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(port, 1, nameof(masterPort));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(port, MaxPort, nameof(masterPort));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(nodeCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, nodeCount);
        ArgumentOutOfRangeException.ThrowIfNegative(restartAttempt);
        ArgumentOutOfRangeException.ThrowIfNegative(gpusPerNode);
        if (jobName is not null)
        {
            // An empty name would make IsUnderKonduktor true with no usable run id.
            ArgumentException.ThrowIfNullOrWhiteSpace(jobName);
        }

        var hosts = nodeHosts?.ToArray() ?? [];
        foreach (var host in hosts)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(host, nameof(nodeHosts));
        }

        return new JobContext(
            jobName,
            kubernetesNamespace,
            nodeName,
            acceleratorType,
            restartAttempt,
            rank,
            nodeCount,
            gpusPerNode,
            hosts,
            masterAddress,
            outputDirectory,
            awsProfile: null,
            hostName ?? Environment.MachineName,
            [],
            [],
            masterPort);
    }

    /// <summary>
    /// A one-line summary for a log: identity, placement, the kinds of credential files found and the paths of those named
    /// but missing. It holds no secrets: credential files are never read.
    /// </summary>
    /// <returns>The summary.</returns>
    public override string ToString()
    {
        var builder = new StringBuilder("JobContext(");
        Append("job", JobName ?? "(not under Konduktor)");
        Append("namespace", Namespace);
        Append("rank", string.Create(CultureInfo.InvariantCulture, $"{Rank}/{NodeCount}"));
        Append("restart", RestartAttempt.ToString(CultureInfo.InvariantCulture));
        Append("gpus-per-node", GpusPerNode.ToString(CultureInfo.InvariantCulture));
        Append("accelerator", AcceleratorType);
        Append("host", HostName);
        Append("node", NodeName);
        Append("master", MasterAddress);
        Append("master-port", MasterPort?.ToString(CultureInfo.InvariantCulture));
        Append("output", OutputDirectory);
        Append("aws-profile", AwsProfile);
        Append("credentials", CredentialFiles.Count == 0 ? "none" : string.Join(",", CredentialFiles.Select(Describe)));
        if (MissingCredentialFiles.Count > 0)
        {
            Append("missing-credentials", string.Join(",", MissingCredentialFiles.Select(static f => $"{f.Variable}={f.Path}")));
        }

        return builder.Append(')').ToString();

        void Append(string name, string? value)
        {
            if (value is null)
            {
                return;
            }

            if (builder[^1] != '(')
            {
                builder.Append(' ');
            }

            // Printable escapes control characters, so a stray newline in a variable cannot split the log line.
            builder.Append(name).Append('=').Append(ObjectKey.Printable(value));
        }

        static string Describe(CredentialFile file) => file.Variable is null ? file.Kind : $"{file.Kind}({file.Variable})";
    }
}
