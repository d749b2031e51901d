namespace TinyTrainer.Tests;

/// <summary>The sample's task file and image for a real Konduktor cluster (samples/TinyTrainer/konduktor, Dockerfile).</summary>
public sealed class KonduktorTaskTests
{
    private static readonly string Root = FindRoot();
    private static readonly string TaskFile = File.ReadAllText(Path.Combine(Root, "samples", "TinyTrainer", "konduktor", "task.yaml"));
    private static readonly string Dockerfile = File.ReadAllText(Path.Combine(Root, "samples", "TinyTrainer", "Dockerfile"));

    [Fact]
    public void TaskFile_FollowsKonduktorsTaskSchema()
    {
        Assert.Empty(KonduktorTaskFile.Problems(TaskFile));
        Assert.StartsWith("s3://", KonduktorTaskFile.Env(TaskFile, "Konduktor__Checkpoints__Location"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("run: |\n  exec dotnet /app/TinyTrainer.dll", "run: |\n  dotnet /app/TinyTrainer.dll", "run: must exec the program")]
    [InlineData("  memory: 4\n", "  memory: 4Gi\n", "resources.memory: GiB as a number")]
    [InlineData("    kueue.x-k8s.io/queue-name: user-queue\n", "", "resources.labels.kueue.x-k8s.io/queue-name: required")]
    [InlineData("  image_id: ghcr.io/my-org/tinytrainer:latest\n", "", "resources.image_id: required")]
    [InlineData("name: tinytrainer\n", "", "name: required")]
    [InlineData("    max_restarts: 3\n", "    max_restarts: three\n", "resources.job_config.max_restarts: a whole number")]
    [InlineData("num_nodes: 1\n", "num_nodes: 1\nreplicas: 2\n", "replicas: not a key of the task schema")]
    public void TaskFile_BrokenVariant_IsRefusedNamingTheKey(string original, string replacement, string expected)
    {
        Assert.Contains(original, TaskFile, StringComparison.Ordinal);

        var problems = KonduktorTaskFile.Problems(TaskFile.Replace(original, replacement, StringComparison.Ordinal));

        Assert.Contains(problems, p => p.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Image_EntryPointAndRunBlock_NameTheSamplesPublishedAssembly()
    {
        var publish = Dockerfile.Split('\n').Single(l => l.StartsWith("RUN dotnet publish ", StringComparison.Ordinal));
        var entryPoint = Dockerfile.Split('\n').Single(l => l.StartsWith("ENTRYPOINT ", StringComparison.Ordinal));

        Assert.Contains("samples/TinyTrainer/TinyTrainer.csproj", publish, StringComparison.Ordinal);
        Assert.Contains("-o /app", publish, StringComparison.Ordinal);
        Assert.Equal("ENTRYPOINT [\"dotnet\", \"/app/TinyTrainer.dll\"]", entryPoint.Trim());
        Assert.Equal("dotnet /app/TinyTrainer.dll", KonduktorTaskFile.ExecCommand(TaskFile));
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "TinyTrainer.dll")), "the sample builds as TinyTrainer.dll");
    }

    private static string FindRoot()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Konduktor.Storage.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("The repository root was not found.");
        }

        return root;
    }
}
