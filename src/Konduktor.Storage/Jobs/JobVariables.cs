namespace Konduktor.Storage;

/// <summary>The environment variables Konduktor (and SkyPilot, which it follows) sets in a job's pods.</summary>
internal static class JobVariables
{
    public const string JobName = "KONDUKTOR_JOB_NAME";
    public const string Namespace = "KONDUKTOR_NAMESPACE";
    public const string NodeName = "KONDUKTOR_NODENAME";
    public const string AcceleratorType = "KONDUKTOR_ACCELERATOR_TYPE";
    public const string OutputDirectory = "KONDUKTOR_OUTPUT_DIR";
    public const string RestartAttempt = "RESTART_ATTEMPT";
    public const string JobCompletionIndex = "JOB_COMPLETION_INDEX";
    public const string Rank = "RANK";
    public const string SkyPilotNodeRank = "SKYPILOT_NODE_RANK";
    public const string NumNodes = "NUM_NODES";
    public const string SkyPilotNumNodes = "SKYPILOT_NUM_NODES";
    public const string NumGpusPerNode = "NUM_GPUS_PER_NODE";
    public const string SkyPilotNumGpusPerNode = "SKYPILOT_NUM_GPUS_PER_NODE";
    public const string NodeHostIps = "NODE_HOST_IPS";
    public const string SkyPilotNodeIps = "SKYPILOT_NODE_IPS";
    public const string MasterAddress = "MASTER_ADDR";
    public const string MasterPort = "MASTER_PORT";
    public const string AwsSharedCredentialsFile = "AWS_SHARED_CREDENTIALS_FILE";
    public const string AwsConfigFile = "AWS_CONFIG_FILE";
    public const string AwsProfile = "AWS_PROFILE";
    public const string GoogleApplicationCredentials = "GOOGLE_APPLICATION_CREDENTIALS";

    // Precedence order: the first variable that is set wins, and any other that is set must agree with it.
    public static readonly string[] RankSources = [JobCompletionIndex, Rank, SkyPilotNodeRank];
    public static readonly string[] NodeCountSources = [NumNodes, SkyPilotNumNodes];
    public static readonly string[] GpusPerNodeSources = [NumGpusPerNode, SkyPilotNumGpusPerNode];
    public static readonly string[] NodeHostSources = [NodeHostIps, SkyPilotNodeIps];
}
