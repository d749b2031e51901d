namespace Konduktor.Storage.Tests;

public sealed class JobContextTests
{
    private const string Home = FakeJobEnvironment.Home;
    private static readonly string AwsCredentials = Path.Combine(Home, ".aws", "credentials");
    private static readonly string AwsConfig = Path.Combine(Home, ".aws", "config");
    private static readonly string GcloudAdc = Path.Combine(Home, ".config", "gcloud", "application_default_credentials.json");
    private static readonly string LegacyDirectory = Path.Combine(Home, ".config", "gcloud", "legacy_credentials");

    // ---- defaults and plain variables

    [Fact]
    public void FromEnvironment_NothingSet_UsesDefaults()
    {
        var context = JobContext.FromEnvironment(new FakeJobEnvironment());

        Assert.False(context.IsUnderKonduktor);
        Assert.Null(context.JobName);
        Assert.Null(context.Namespace);
        Assert.Null(context.NodeName);
        Assert.Null(context.AcceleratorType);
        Assert.Equal(0, context.RestartAttempt);
        Assert.Equal(0, context.Rank);
        Assert.Equal(1, context.NodeCount);
        Assert.Equal(0, context.GpusPerNode);
        Assert.Empty(context.NodeHosts);
        Assert.Null(context.MasterAddress);
        Assert.Null(context.OutputDirectory);
        Assert.Null(context.AwsProfile);
        Assert.Empty(context.CredentialFiles);
        Assert.Empty(context.MissingCredentialFiles);
        Assert.Equal("rank-00000", context.DefaultScope);
    }

    [Fact]
    public void FromEnvironment_JobNameSet_IsUnderKonduktor()
    {
        var context = JobContext.FromEnvironment(new FakeJobEnvironment().Set("KONDUKTOR_JOB_NAME", "train-llm"));

        Assert.True(context.IsUnderKonduktor);
        Assert.Equal("train-llm", context.JobName);
    }

    [Fact]
    public void FromEnvironment_EmptyVariables_CountAsUnset()
    {
        var environment = new FakeJobEnvironment();
        foreach (var name in new[] { "KONDUKTOR_JOB_NAME", "RESTART_ATTEMPT", "JOB_COMPLETION_INDEX", "NUM_NODES", "NODE_HOST_IPS", "MASTER_ADDR", "AWS_SHARED_CREDENTIALS_FILE" })
        {
            environment.Set(name, string.Empty);
        }

        var context = JobContext.FromEnvironment(environment);

        Assert.False(context.IsUnderKonduktor);
        Assert.Equal(0, context.RestartAttempt);
        Assert.Equal(1, context.NodeCount);
        Assert.Empty(context.NodeHosts);
        Assert.Null(context.MasterAddress);
        Assert.Empty(context.MissingCredentialFiles);
    }

    [Fact]
    public void FromEnvironment_DescriptiveVariables_AreReadAndTrimmed()
    {
        var context = JobContext.FromEnvironment(new FakeJobEnvironment()
            .Set("KONDUKTOR_JOB_NAME", " train-llm\n")
            .Set("KONDUKTOR_NAMESPACE", "research")
            .Set("KONDUKTOR_NODENAME", "gke-gpu-pool-7")
            .Set("KONDUKTOR_ACCELERATOR_TYPE", "H100")
            .Set("KONDUKTOR_OUTPUT_DIR", "/outputs")
            .Set("AWS_PROFILE", " training "));

        Assert.Equal("train-llm", context.JobName);
        Assert.Equal("research", context.Namespace);
        Assert.Equal("gke-gpu-pool-7", context.NodeName);
        Assert.Equal("H100", context.AcceleratorType);
        Assert.Equal("/outputs", context.OutputDirectory);
        Assert.Equal("training", context.AwsProfile);
    }

    [Theory]
    [InlineData("KONDUKTOR_JOB_NAME")]
    [InlineData("KONDUKTOR_NAMESPACE")]
    [InlineData("KONDUKTOR_OUTPUT_DIR")]
    [InlineData("MASTER_ADDR")]
    [InlineData("AWS_PROFILE")]
    [InlineData("GOOGLE_APPLICATION_CREDENTIALS")]
    public void FromEnvironment_TextVariableBlank_ThrowsNamingVariable(string variable)
    {
        var error = Assert.Throws<CheckpointConfigurationException>(
            () => JobContext.FromEnvironment(new FakeJobEnvironment().Set(variable, " \t ")));

        Assert.Equal(variable, error.Key);
        Assert.Equal(" \t ", error.Value);
        Assert.Contains(variable, error.Message, StringComparison.Ordinal);
        Assert.Contains("non-blank", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromEnvironment_HostName_ComesFromEnvironment()
    {
        var context = JobContext.FromEnvironment(new FakeJobEnvironment { HostName = "train-llm-workers-0-3" });

        Assert.Equal("train-llm-workers-0-3", context.HostName);
    }

    [Fact]
    public void FromEnvironment_NullEnvironment_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => JobContext.FromEnvironment(null!));
    }

    // ---- numbers

    [Fact]
    public void FromEnvironment_RestartAttemptSet_IsRead()
    {
        var context = JobContext.FromEnvironment(new FakeJobEnvironment().Set("RESTART_ATTEMPT", "4"));

        Assert.Equal(4, context.RestartAttempt);
    }

    [Theory]
    [InlineData("JOB_COMPLETION_INDEX")]
    [InlineData("RANK")]
    [InlineData("SKYPILOT_NODE_RANK")]
    public void FromEnvironment_RankFromAnySource_IsRead(string variable)
    {
        var context = JobContext.FromEnvironment(new FakeJobEnvironment().Set(variable, "3").Set("NUM_NODES", "4"));

        Assert.Equal(3, context.Rank);
        Assert.Equal("rank-00003", context.DefaultScope);
    }

    [Theory]
    [InlineData("NUM_NODES")]
    [InlineData("SKYPILOT_NUM_NODES")]
    public void FromEnvironment_NodeCountFromAnySource_IsRead(string variable)
    {
        var context = JobContext.FromEnvironment(new FakeJobEnvironment().Set(variable, "8"));

        Assert.Equal(8, context.NodeCount);
    }

    [Theory]
    [InlineData("NUM_GPUS_PER_NODE")]
    [InlineData("SKYPILOT_NUM_GPUS_PER_NODE")]
    public void FromEnvironment_GpusPerNodeFromAnySource_IsRead(string variable)
    {
        var context = JobContext.FromEnvironment(new FakeJobEnvironment().Set(variable, "8"));

        Assert.Equal(8, context.GpusPerNode);
    }

    [Fact]
    public void FromEnvironment_AllSourcesSetAndAgreeing_UsesTheValue()
    {
        // Agreement is on the number, not the text: " 2" and "02" are 2.
        var context = JobContext.FromEnvironment(new FakeJobEnvironment()
            .Set("JOB_COMPLETION_INDEX", "2").Set("RANK", " 2").Set("SKYPILOT_NODE_RANK", "02")
            .Set("NUM_NODES", "4").Set("SKYPILOT_NUM_NODES", "4")
            .Set("NUM_GPUS_PER_NODE", "8").Set("SKYPILOT_NUM_GPUS_PER_NODE", "8"));

        Assert.Equal(2, context.Rank);
        Assert.Equal(4, context.NodeCount);
        Assert.Equal(8, context.GpusPerNode);
    }

    [Theory]
    [InlineData(" 3")]
    [InlineData("3 ")]
    [InlineData("\t3\r\n")]
    [InlineData("003")]
    public void FromEnvironment_NumberWithSurroundingWhitespaceOrLeadingZeros_IsAccepted(string value)
    {
        var context = JobContext.FromEnvironment(new FakeJobEnvironment().Set("RESTART_ATTEMPT", value));

        Assert.Equal(3, context.RestartAttempt);
    }

    [Fact]
    public void FromEnvironment_NodeCountAtIntMaxValue_IsAccepted()
    {
        var context = JobContext.FromEnvironment(new FakeJobEnvironment().Set("NUM_NODES", "2147483647"));

        Assert.Equal(int.MaxValue, context.NodeCount);
    }

    [Fact]
    public void FromEnvironment_ZeroGpus_IsAccepted()
    {
        var context = JobContext.FromEnvironment(new FakeJobEnvironment().Set("NUM_GPUS_PER_NODE", "0").Set("RESTART_ATTEMPT", "0"));

        Assert.Equal(0, context.GpusPerNode);
        Assert.Equal(0, context.RestartAttempt);
    }

    [Theory]
    [InlineData("RESTART_ATTEMPT", "-1")]
    [InlineData("RESTART_ATTEMPT", "   ")]
    [InlineData("JOB_COMPLETION_INDEX", "+3")]
    [InlineData("JOB_COMPLETION_INDEX", "abc")]
    [InlineData("RANK", "3.0")]
    [InlineData("RANK", "99999999999999999999")]
    [InlineData("SKYPILOT_NODE_RANK", "3 4")]
    [InlineData("NUM_NODES", "0x3")]
    [InlineData("NUM_NODES", "0")]
    [InlineData("SKYPILOT_NUM_NODES", "2147483648")]
    [InlineData("NUM_GPUS_PER_NODE", "1e3")]
    [InlineData("NUM_GPUS_PER_NODE", "-0")]
    [InlineData("SKYPILOT_NUM_GPUS_PER_NODE", "\u0663")]
    [InlineData("SKYPILOT_NUM_GPUS_PER_NODE", "8 GPUs")]
    public void FromEnvironment_InvalidNumber_ThrowsNamingVariableValueAndExpectation(string variable, string value)
    {
        var error = Assert.Throws<CheckpointConfigurationException>(
            () => JobContext.FromEnvironment(new FakeJobEnvironment().Set(variable, value)));

        Assert.Equal(variable, error.Key);
        Assert.Equal(value, error.Value);
        Assert.Contains(variable, error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{value}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("digits only", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromEnvironment_NodeCountZero_ExpectationSaysAtLeastOne()
    {
        var error = Assert.Throws<CheckpointConfigurationException>(
            () => JobContext.FromEnvironment(new FakeJobEnvironment().Set("NUM_NODES", "0")));

        Assert.Contains("from 1 to", error.Expected, StringComparison.Ordinal);
    }

    // ---- disagreement

    [Theory]
    [InlineData("JOB_COMPLETION_INDEX", "1", "RANK", "2")]
    [InlineData("JOB_COMPLETION_INDEX", "1", "SKYPILOT_NODE_RANK", "0")]
    [InlineData("RANK", "1", "SKYPILOT_NODE_RANK", "2")]
    [InlineData("NUM_NODES", "2", "SKYPILOT_NUM_NODES", "3")]
    [InlineData("NUM_GPUS_PER_NODE", "8", "SKYPILOT_NUM_GPUS_PER_NODE", "4")]
    public void FromEnvironment_SourcesDisagree_ThrowsNamingBothVariablesAndValues(string first, string firstValue, string second, string secondValue)
    {
        var environment = new FakeJobEnvironment().Set(first, firstValue).Set(second, secondValue).Set("NUM_NODES", first == "NUM_NODES" ? firstValue : "4");

        var error = Assert.Throws<CheckpointConfigurationException>(() => JobContext.FromEnvironment(environment));

        Assert.Equal(second, error.Key);
        Assert.Equal(secondValue, error.Value);
        Assert.Contains($"{first} = '{firstValue}'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{second} = '{secondValue}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("must agree", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromEnvironment_FirstSourceInvalidEvenIfLaterValid_Throws()
    {
        // A broken preferred variable must not be skipped in favour of a later one.
        var error = Assert.Throws<CheckpointConfigurationException>(
            () => JobContext.FromEnvironment(new FakeJobEnvironment().Set("JOB_COMPLETION_INDEX", "x").Set("RANK", "0")));

        Assert.Equal("JOB_COMPLETION_INDEX", error.Key);
    }

    // ---- rank and node count

    [Theory]
    [InlineData("2", "2")]
    [InlineData("5", "3")]
    public void FromEnvironment_RankNotLessThanNodeCount_Throws(string rank, string nodes)
    {
        var error = Assert.Throws<CheckpointConfigurationException>(
            () => JobContext.FromEnvironment(new FakeJobEnvironment().Set("JOB_COMPLETION_INDEX", rank).Set("NUM_NODES", nodes)));

        Assert.Equal("JOB_COMPLETION_INDEX", error.Key);
        Assert.Equal(rank, error.Value);
        Assert.Contains($"less than the node count {nodes}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"NUM_NODES = '{nodes}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromEnvironment_RankWithoutNodeCount_ThrowsExplainingDefaultCount()
    {
        // Rank 1 of an unknown count must not quietly become a single-node job.
        var error = Assert.Throws<CheckpointConfigurationException>(
            () => JobContext.FromEnvironment(new FakeJobEnvironment().Set("RANK", "1")));

        Assert.Equal("RANK", error.Key);
        Assert.Contains("NUM_NODES and SKYPILOT_NUM_NODES are not set", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromEnvironment_LastRank_IsAccepted()
    {
        var context = JobContext.FromEnvironment(new FakeJobEnvironment().Set("RANK", "1").Set("SKYPILOT_NUM_NODES", "2"));

        Assert.Equal(1, context.Rank);
        Assert.Equal(2, context.NodeCount);
    }

    [Theory]
    [InlineData("0", "rank-00000")]
    [InlineData("42", "rank-00042")]
    [InlineData("123456", "rank-123456")]
    public void DefaultScope_Rank_IsZeroPaddedToFiveDigits(string rank, string scope)
    {
        var context = JobContext.FromEnvironment(new FakeJobEnvironment().Set("JOB_COMPLETION_INDEX", rank).Set("NUM_NODES", "200000"));

        Assert.Equal(scope, context.DefaultScope);
    }

    // ---- hosts and master address

    [Theory]
    [InlineData("10.0.0.1,10.0.0.2")]
    [InlineData("10.0.0.1\n10.0.0.2")]
    [InlineData("10.0.0.1\r\n10.0.0.2\r\n")]
    [InlineData(" 10.0.0.1 , 10.0.0.2 ,")]
    [InlineData(",10.0.0.1,,\n10.0.0.2\n\n")]
    public void FromEnvironment_NodeHostIps_SplitTrimmedWithoutEmpties(string value)
    {
        var context = JobContext.FromEnvironment(new FakeJobEnvironment().Set("NODE_HOST_IPS", value));

        Assert.Equal(["10.0.0.1", "10.0.0.2"], context.NodeHosts);
    }

    [Fact]
    public void FromEnvironment_OnlySkyPilotNodeIps_IsUsed()
    {
        var context = JobContext.FromEnvironment(new FakeJobEnvironment().Set("SKYPILOT_NODE_IPS", "10.0.0.7\n10.0.0.8"));

        Assert.Equal(["10.0.0.7", "10.0.0.8"], context.NodeHosts);
    }

    [Fact]
    public void FromEnvironment_HostListsAgreeInDifferentFormats_IsAccepted()
    {
        var context = JobContext.FromEnvironment(new FakeJobEnvironment()
            .Set("NODE_HOST_IPS", "10.0.0.1,10.0.0.2")
            .Set("SKYPILOT_NODE_IPS", "10.0.0.1\n10.0.0.2\n"));

        Assert.Equal(["10.0.0.1", "10.0.0.2"], context.NodeHosts);
    }

    [Theory]
    [InlineData("10.0.0.1,10.0.0.3")]
    [InlineData("10.0.0.2,10.0.0.1")]
    [InlineData("10.0.0.1")]
    public void FromEnvironment_HostListsDisagree_ThrowsNamingBoth(string skyPilotValue)
    {
        var error = Assert.Throws<CheckpointConfigurationException>(() => JobContext.FromEnvironment(new FakeJobEnvironment()
            .Set("NODE_HOST_IPS", "10.0.0.1,10.0.0.2")
            .Set("SKYPILOT_NODE_IPS", skyPilotValue)));

        Assert.Equal("SKYPILOT_NODE_IPS", error.Key);
        Assert.Equal(skyPilotValue, error.Value);
        Assert.Contains("NODE_HOST_IPS = '10.0.0.1,10.0.0.2'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(",")]
    [InlineData(" \n\r\n ")]
    [InlineData("10.0.0.1 10.0.0.2")]
    public void FromEnvironment_HostListWithoutUsableHosts_Throws(string value)
    {
        var error = Assert.Throws<CheckpointConfigurationException>(
            () => JobContext.FromEnvironment(new FakeJobEnvironment().Set("NODE_HOST_IPS", value)));

        Assert.Equal("NODE_HOST_IPS", error.Key);
        Assert.Contains("separated by commas or newlines", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromEnvironment_NoMasterAddr_UsesFirstHost()
    {
        var context = JobContext.FromEnvironment(new FakeJobEnvironment().Set("NODE_HOST_IPS", "10.0.0.5,10.0.0.6"));

        Assert.Equal("10.0.0.5", context.MasterAddress);
    }

    [Fact]
    public void FromEnvironment_MasterAddrSet_TakesPrecedenceOverFirstHost()
    {
        var context = JobContext.FromEnvironment(new FakeJobEnvironment()
            .Set("NODE_HOST_IPS", "10.0.0.5,10.0.0.6")
            .Set("MASTER_ADDR", "train-llm-workers-0-0.train-llm"));

        Assert.Equal("train-llm-workers-0-0.train-llm", context.MasterAddress);
    }

    // ---- credential files

    [Fact]
    public void FromEnvironment_DefaultCredentialFilesPresent_AreReportedInOrder()
    {
        var environment = new FakeJobEnvironment().WithFile(GcloudAdc).WithFile(AwsConfig).WithFile(AwsCredentials);

        var context = JobContext.FromEnvironment(environment);

        Assert.Equal(
            [
                new CredentialFile(CredentialFileKinds.AwsCredentials, AwsCredentials, null),
                new CredentialFile(CredentialFileKinds.AwsConfig, AwsConfig, null),
                new CredentialFile(CredentialFileKinds.GcloudAdc, GcloudAdc, null),
            ],
            context.CredentialFiles);
        Assert.Empty(context.MissingCredentialFiles);
    }

    [Fact]
    public void FromEnvironment_CredentialFilesAbsent_ReportsNothing()
    {
        // Files elsewhere in the home directory are not credentials.
        var context = JobContext.FromEnvironment(new FakeJobEnvironment().WithFile(Path.Combine(Home, ".aws", "cli", "cache.json")));

        Assert.Empty(context.CredentialFiles);
        Assert.Empty(context.MissingCredentialFiles);
    }

    [Theory]
    [InlineData("AWS_SHARED_CREDENTIALS_FILE", CredentialFileKinds.AwsCredentials)]
    [InlineData("AWS_CONFIG_FILE", CredentialFileKinds.AwsConfig)]
    [InlineData("GOOGLE_APPLICATION_CREDENTIALS", CredentialFileKinds.GoogleApplicationCredentials)]
    public void FromEnvironment_VariableNamesExistingFile_IsReportedWithVariable(string variable, string kind)
    {
        var context = JobContext.FromEnvironment(new FakeJobEnvironment().Set(variable, "/secrets/file").WithFile("/secrets/file"));

        Assert.Equal([new CredentialFile(kind, "/secrets/file", variable)], context.CredentialFiles);
        Assert.Empty(context.MissingCredentialFiles);
    }

    [Theory]
    [InlineData("AWS_SHARED_CREDENTIALS_FILE", CredentialFileKinds.AwsCredentials)]
    [InlineData("AWS_CONFIG_FILE", CredentialFileKinds.AwsConfig)]
    [InlineData("GOOGLE_APPLICATION_CREDENTIALS", CredentialFileKinds.GoogleApplicationCredentials)]
    public void FromEnvironment_VariableNamesMissingFile_IsReportedAsMissing(string variable, string kind)
    {
        var context = JobContext.FromEnvironment(new FakeJobEnvironment().Set(variable, "/secrets/gone"));

        Assert.Empty(context.CredentialFiles);
        Assert.Equal([new CredentialFile(kind, "/secrets/gone", variable)], context.MissingCredentialFiles);
        Assert.Contains($"missing-credentials={variable}=/secrets/gone", context.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void FromEnvironment_VariableAndDefaultFileBothPresent_VariableFileComesFirst()
    {
        var context = JobContext.FromEnvironment(new FakeJobEnvironment()
            .Set("AWS_SHARED_CREDENTIALS_FILE", "/secrets/aws")
            .WithFile("/secrets/aws")
            .WithFile(AwsCredentials));

        Assert.Equal(
            [
                new CredentialFile(CredentialFileKinds.AwsCredentials, "/secrets/aws", "AWS_SHARED_CREDENTIALS_FILE"),
                new CredentialFile(CredentialFileKinds.AwsCredentials, AwsCredentials, null),
            ],
            context.CredentialFiles);
    }

    [Fact]
    public void FromEnvironment_VariableNamesDefaultLocation_FileIsReportedOnce()
    {
        var context = JobContext.FromEnvironment(new FakeJobEnvironment().Set("AWS_CONFIG_FILE", AwsConfig).WithFile(AwsConfig));

        Assert.Equal([new CredentialFile(CredentialFileKinds.AwsConfig, AwsConfig, "AWS_CONFIG_FILE")], context.CredentialFiles);
    }

    [Fact]
    public void FromEnvironment_LegacyGcloudCredentials_FoundPerAccountSorted()
    {
        var environment = new FakeJobEnvironment()
            .WithFile(Path.Combine(LegacyDirectory, "zed@example.com", "adc.json"))
            .WithFile(Path.Combine(LegacyDirectory, "ann@example.com", "adc.json"))
            .WithFile(Path.Combine(LegacyDirectory, "key-only@example.com", "singlestore_key.json"));
        environment.Directories.Add(Path.Combine(LegacyDirectory, "empty@example.com"));

        var context = JobContext.FromEnvironment(environment);

        Assert.Equal(
            [
                new CredentialFile(CredentialFileKinds.GcloudLegacyAdc, Path.Combine(LegacyDirectory, "ann@example.com", "adc.json"), null),
                new CredentialFile(CredentialFileKinds.GcloudLegacyAdc, Path.Combine(LegacyDirectory, "zed@example.com", "adc.json"), null),
            ],
            context.CredentialFiles);
    }

    [Fact]
    public void FromEnvironment_NoHomeDirectory_OnlyVariableNamedFilesAreReported()
    {
        var environment = new FakeJobEnvironment { HomeDirectory = null }
            .Set("GOOGLE_APPLICATION_CREDENTIALS", "/secrets/sa.json")
            .WithFile("/secrets/sa.json")
            .WithFile(AwsCredentials);

        var context = JobContext.FromEnvironment(environment);

        Assert.Equal([new CredentialFile(CredentialFileKinds.GoogleApplicationCredentials, "/secrets/sa.json", "GOOGLE_APPLICATION_CREDENTIALS")], context.CredentialFiles);
    }

    // ---- ToString

    [Fact]
    public void ToString_FullContext_IsOneLineSummaryWithoutCredentialPaths()
    {
        var context = JobContext.FromEnvironment(new FakeJobEnvironment { HostName = "pod-1" }
            .Set("KONDUKTOR_JOB_NAME", "train-llm")
            .Set("KONDUKTOR_NAMESPACE", "research")
            .Set("JOB_COMPLETION_INDEX", "1")
            .Set("NUM_NODES", "2")
            .Set("RESTART_ATTEMPT", "3")
            .Set("NODE_HOST_IPS", "10.0.0.1,10.0.0.2")
            .Set("AWS_SHARED_CREDENTIALS_FILE", "/secrets/aws")
            .WithFile("/secrets/aws")
            .WithFile(GcloudAdc));

        var text = context.ToString();

        Assert.Equal(
            "JobContext(job=train-llm namespace=research rank=1/2 restart=3 gpus-per-node=0 host=pod-1 master=10.0.0.1 "
            + "credentials=aws-credentials(AWS_SHARED_CREDENTIALS_FILE),gcloud-adc)",
            text);
    }

    [Fact]
    public void ToString_ValueWithNewline_StaysOnOneLine()
    {
        var context = JobContext.FromEnvironment(new FakeJobEnvironment().Set("KONDUKTOR_NODENAME", "node\nINJECTED"));

        var text = context.ToString();

        Assert.DoesNotContain('\n', text);
        Assert.Contains("node=node\\u000aINJECTED", text, StringComparison.Ordinal);
        Assert.Contains("job=(not under Konduktor)", text, StringComparison.Ordinal);
    }

    // ---- Create

    [Fact]
    public void Create_ValidArguments_BuildsContext()
    {
        var context = JobContext.Create(rank: 1, nodeCount: 2, jobName: "train-llm", restartAttempt: 2, gpusPerNode: 8, nodeHosts: ["10.0.0.1", "10.0.0.2"], hostName: "pod-1");

        Assert.True(context.IsUnderKonduktor);
        Assert.Equal(1, context.Rank);
        Assert.Equal(2, context.NodeCount);
        Assert.Equal(2, context.RestartAttempt);
        Assert.Equal(8, context.GpusPerNode);
        Assert.Equal("10.0.0.1", context.MasterAddress);
        Assert.Equal("pod-1", context.HostName);
        Assert.Equal("rank-00001", context.DefaultScope);
        Assert.Empty(context.CredentialFiles);
    }

    [Fact]
    public void Create_Defaults_IsSingleNodeOutsideKonduktor()
    {
        var context = JobContext.Create();

        Assert.False(context.IsUnderKonduktor);
        Assert.Equal(0, context.Rank);
        Assert.Equal(1, context.NodeCount);
        Assert.Null(context.MasterAddress);
    }

    [Theory]
    [InlineData(-1, 1, 0, 0)]
    [InlineData(0, 0, 0, 0)]
    [InlineData(2, 2, 0, 0)]
    [InlineData(0, 1, -1, 0)]
    [InlineData(0, 1, 0, -1)]
    public void Create_OutOfRangeNumbers_Throws(int rank, int nodeCount, int restartAttempt, int gpusPerNode)
    {
        Assert.Throws<ArgumentOutOfRangeException>(
            () => JobContext.Create(rank: rank, nodeCount: nodeCount, restartAttempt: restartAttempt, gpusPerNode: gpusPerNode));
    }

    [Fact]
    public void Create_BlankJobNameOrHost_Throws()
    {
        Assert.Throws<ArgumentException>(() => JobContext.Create(jobName: " "));
        Assert.Throws<ArgumentException>(() => JobContext.Create(nodeHosts: ["10.0.0.1", ""]));
    }

    // ---- the real environment

    [Fact]
    public void ProcessEnvironment_MissingDirectoryOrFile_ReportsNothing()
    {
        var missing = Path.Combine(Path.GetTempPath(), "konduktor-jobcontext-" + Guid.NewGuid().ToString("N"));

        Assert.Empty(ProcessJobEnvironment.Instance.GetDirectories(missing));
        Assert.False(ProcessJobEnvironment.Instance.FileExists(Path.Combine(missing, "adc.json")));
    }

    [Fact]
    public void ProcessEnvironment_ExistingDirectory_ListsSubdirectoriesAndFiles()
    {
        var root = Directory.CreateTempSubdirectory("konduktor-jobcontext-");
        try
        {
            var account = root.CreateSubdirectory("ann@example.com");
            File.WriteAllText(Path.Combine(account.FullName, "adc.json"), "{}");

            Assert.Equal([account.FullName], ProcessJobEnvironment.Instance.GetDirectories(root.FullName));
            Assert.True(ProcessJobEnvironment.Instance.FileExists(Path.Combine(account.FullName, "adc.json")));
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }
}
