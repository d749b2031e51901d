namespace Konduktor.Storage;

/// <summary>The environment variables Konduktor (and SkyPilot, which it follows) sets in a job's pods.</summary>
internal static class JobVariables
{
    public const string
        JobName = "KONDUKTOR_JOB_NAME",
        Namespace = "KONDUKTOR_NAMESPACE",
        NodeName = "KONDUKTOR_NODENAME",
        AcceleratorType = "KONDUKTOR_ACCELERATOR_TYPE",
        OutputDirectory = "KONDUKTOR_OUTPUT_DIR",
        RestartAttempt = "RESTART_ATTEMPT",
        JobCompletionIndex = "JOB_COMPLETION_INDEX",
        Rank = "RANK",
        SkyPilotNodeRank = "SKYPILOT_NODE_RANK",
        NumNodes = "NUM_NODES",
        SkyPilotNumNodes = "SKYPILOT_NUM_NODES",
        NumGpusPerNode = "NUM_GPUS_PER_NODE",
        SkyPilotNumGpusPerNode = "SKYPILOT_NUM_GPUS_PER_NODE",
        NodeHostIps = "NODE_HOST_IPS",
        SkyPilotNodeIps = "SKYPILOT_NODE_IPS",
        MasterAddress = "MASTER_ADDR",
        MasterPort = "MASTER_PORT",
        AwsSharedCredentialsFile = "AWS_SHARED_CREDENTIALS_FILE",
        AwsConfigFile = "AWS_CONFIG_FILE",
        AwsProfile = "AWS_PROFILE",
        GoogleApplicationCredentials = "GOOGLE_APPLICATION_CREDENTIALS";

    // Precedence order: the first variable that is set wins, and any other that is set must agree with it.
    public static readonly string[] RankSources = [JobCompletionIndex, Rank, SkyPilotNodeRank];
    public static readonly string[] NodeCountSources = [NumNodes, SkyPilotNumNodes];
    public static readonly string[] GpusPerNodeSources = [NumGpusPerNode, SkyPilotNumGpusPerNode];
    public static readonly string[] NodeHostSources = [NodeHostIps, SkyPilotNodeIps];
}
