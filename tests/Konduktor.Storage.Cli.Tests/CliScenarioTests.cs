using System.Text.Json;

namespace Konduktor.Storage.Cli.Tests;

/// <summary>
/// The acceptance scenarios of the tool, run against every store: list, verify, a flipped byte, pull with fallback, prune
/// and gc with their dry runs. Each test works on a location of its own.
/// </summary>
public abstract class CliScenarioTests : IDisposable
{
    private const string Run = Checkpoints.Run;

    private protected TempDirectory Temp { get; } = new();

    /// <summary>A fresh, empty location.</summary>
    protected abstract string NewLocation();

    /// <summary>The connection options the tool is given (also used to write the checkpoints).</summary>
    internal abstract ConnectionSettings Connection { get; }

    /// <summary>The tool's environment variables.</summary>
    protected abstract IReadOnlyDictionary<string, string?> Environment { get; }

    public void Dispose()
    {
        Temp.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Ls_Json_ListsStepsWithStateFilesBytesCreatedAndMetadata()
    {
        var checkpoints = await SeedAsync(10, 20);
        await checkpoints.AbandonWriterAsync(30, 123);

        var result = await CliAsync("ls", checkpoints.Location, "--run", Run, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var steps = result.Json.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal([30L, 20L, 10L], steps.Select(s => s.GetProperty("step").GetInt64()));
        Assert.Equal(["uncommitted", "committed", "committed"], steps.Select(s => s.GetProperty("state").GetString()));
        var newest = steps[1];
        Assert.Equal(Checkpoints.Scope, newest.GetProperty("scope").GetString());
        Assert.Equal(2, newest.GetProperty("files").GetInt32());
        Assert.Equal(checkpoints.Saved[20].Values.Sum(b => (long)b.Length), newest.GetProperty("bytes").GetInt64());
        Assert.Equal("20", newest.GetProperty("metadata").GetProperty("epoch").GetString());
        Assert.True(newest.GetProperty("createdUtc").GetDateTime() > DateTime.UtcNow.AddHours(-1));
        Assert.Equal(JsonValueKind.Null, steps[0].GetProperty("createdUtc").ValueKind);
        Assert.Equal(123, steps[0].GetProperty("bytes").GetInt64());
    }

    [Fact]
    public async Task Ls_WithoutRun_ListsRunsAndScopes()
    {
        var checkpoints = await SeedAsync(1);

        var result = await CliAsync("ls", checkpoints.Location);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(Run, result.Out, StringComparison.Ordinal);
        Assert.Contains(Checkpoints.Scope, result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_IntactThenByteFlipped_Exits0Then1NamingFileAndStep()
    {
        var checkpoints = await SeedAsync(10, 20);

        var intact = await CliAsync("verify", checkpoints.Location, "--run", Run, "--all");
        Assert.True(intact.ExitCode == 0, intact.ToString());
        Assert.Contains("step 20: 2 files", intact.Out, StringComparison.Ordinal);
        Assert.Contains("step 10: 2 files", intact.Out, StringComparison.Ordinal);

        await checkpoints.FlipByteAsync(20, "model.bin");
        var corrupt = await CliAsync("verify", checkpoints.Location, "--run", Run);

        Assert.True(corrupt.ExitCode == 1, corrupt.ToString());
        var line = Assert.Single(corrupt.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("step 20", line, StringComparison.Ordinal);
        Assert.Contains("'model.bin'", line, StringComparison.Ordinal);
        var older = await CliAsync("verify", checkpoints.Location, "--run", Run, "--step", "10", "--json");
        Assert.True(older.ExitCode == 0, older.ToString());
        Assert.True(older.Json.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Pull_NewestCorrupt_PullsPreviousByteIdenticalAndSaysSo()
    {
        var checkpoints = await SeedAsync(10, 20);
        await checkpoints.FlipByteAsync(20, "optim/state.bin");
        var destination = Temp.Combine("pulled");

        var result = await CliAsync("pull", checkpoints.Location, "--run", Run, destination);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("skipped step 20", result.Error, StringComparison.Ordinal);
        Assert.Contains("pulled step 10", result.Out, StringComparison.Ordinal);
        foreach (var (name, bytes) in checkpoints.Saved[10])
        {
            Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(destination, name)));
        }

        Assert.Equal(2, Directory.GetFiles(destination, "*", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public async Task Pull_Step_PullsThatStepAndRefusesANonEmptyDestination()
    {
        var checkpoints = await SeedAsync(10, 20);
        var destination = Temp.Combine("pulled");

        var result = await CliAsync("pull", checkpoints.Location, "--run", Run, "--step", "10", destination, "--json");
        var again = await CliAsync("pull", checkpoints.Location, "--run", Run, destination);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(10, result.Json.GetProperty("step").GetInt64());
        Assert.Equal(checkpoints.Saved[10]["model.bin"], await File.ReadAllBytesAsync(Path.Combine(destination, "model.bin")));
        Assert.True(again.ExitCode == 2, again.ToString());
        Assert.Contains("not empty", again.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prune_DryRunDeletesNothingAndListsWhatPruneThenDeletes()
    {
        var checkpoints = await SeedAsync(10, 20, 30);

        var dry = await CliAsync("prune", checkpoints.Location, "--run", Run, "--keep-last", "1", "--dry-run", "--json");
        Assert.True(dry.ExitCode == 0, dry.ToString());
        Assert.Equal(new long[] { 30, 20, 10 }, await checkpoints.CommittedStepsAsync());

        var pruned = await CliAsync("prune", checkpoints.Location, "--run", Run, "--keep-last", "1", "--json");
        Assert.True(pruned.ExitCode == 0, pruned.ToString());

        Assert.Equal([20L, 10L], Steps(dry));
        Assert.Equal(Steps(dry), Steps(pruned));
        Assert.Equal(new long[] { 30 }, await checkpoints.CommittedStepsAsync());

        static long[] Steps(CliResult result) =>
            [.. result.Json.GetProperty("scopes")[0].GetProperty("steps").EnumerateArray().Select(s => s.GetInt64())];
    }

    [Fact]
    public async Task Gc_DryRunListsAbandonedWriterThatGcThenRemoves()
    {
        var checkpoints = await SeedAsync(10, 20);
        var abandoned = await checkpoints.AbandonWriterAsync(20, 4096);

        var kept = await CliAsync("gc", checkpoints.Location, "--run", Run, "--dry-run");
        var dry = await CliAsync("gc", checkpoints.Location, "--run", Run, "--grace-period", "0", "--dry-run");
        Assert.True(await checkpoints.ExistsAsync(abandoned));
        var collected = await CliAsync("gc", checkpoints.Location, "--run", Run, "--grace-period", "0", "--json");

        Assert.True(kept.ExitCode == 0, kept.ToString());
        Assert.DoesNotContain(abandoned, kept.Out, StringComparison.Ordinal);
        Assert.True(dry.ExitCode == 0, dry.ToString());
        Assert.Contains($"would delete {abandoned}", dry.Out, StringComparison.Ordinal);
        Assert.True(collected.ExitCode == 0, collected.ToString());
        Assert.Equal(abandoned, collected.Json.GetProperty("scopes")[0].GetProperty("objects")[0].GetProperty("key").GetString());
        Assert.False(await checkpoints.ExistsAsync(abandoned));
        Assert.Equal(new long[] { 20, 10 }, await checkpoints.CommittedStepsAsync());
    }

    [Fact]
    public async Task Show_Json_IsTheNewestManifest()
    {
        var checkpoints = await SeedAsync(10, 20);

        var result = await CliAsync("show", checkpoints.Location, "--run", Run, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(20, result.Json.GetProperty("step").GetInt64());
        Assert.Equal("konduktor-checkpoint/1", result.Json.GetProperty("format").GetString());
        Assert.Equal(["model.bin", "optim/state.bin"], result.Json.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task Outputs_LsListsPublishedOutputsAndPullCopiesThemVerified()
    {
        var checkpoints = await SeedAsync(10);
        var metrics = Checkpoints.Bytes(20_000, 1);
        var summary = Checkpoints.Bytes(300, 2);
        await checkpoints.PublishOutputAsync("rank-00000/metrics.jsonl", metrics);
        await checkpoints.PublishOutputAsync("rank-00000/eval/summary.json", summary);
        var destination = Temp.Combine("outputs");

        var listed = await CliAsync("outputs", "ls", checkpoints.Location, "--run", Run, "--json");
        var pulled = await CliAsync("outputs", "pull", checkpoints.Location, "--run", Run, "--prefix", "rank-00000", destination);

        Assert.True(listed.ExitCode == 0, listed.ToString());
        var outputs = listed.Json.GetProperty("outputs").EnumerateArray().ToList();
        Assert.Equal(["rank-00000/eval/summary.json", "rank-00000/metrics.jsonl"], outputs.Select(o => o.GetProperty("path").GetString()));
        Assert.Equal(20_000, outputs[1].GetProperty("bytes").GetInt64());
        Assert.StartsWith("xxh128:", outputs[1].GetProperty("checksum").GetString(), StringComparison.Ordinal);
        Assert.True(pulled.ExitCode == 0, pulled.ToString());
        Assert.Equal(metrics, await File.ReadAllBytesAsync(Path.Combine(destination, "metrics.jsonl")));
        Assert.Equal(summary, await File.ReadAllBytesAsync(Path.Combine(destination, "eval", "summary.json")));
    }

    [Fact]
    public async Task Outputs_PullOfACorruptOutput_Exits1NamingIt()
    {
        var checkpoints = await SeedAsync(10);
        await checkpoints.PublishOutputAsync("rank-00000/metrics.jsonl", Checkpoints.Bytes(5_000, 3));
        await checkpoints.FlipOutputByteAsync("rank-00000/metrics.jsonl");

        var result = await CliAsync("outputs", "pull", checkpoints.Location, "--run", Run, Temp.Combine("outputs"));

        Assert.True(result.ExitCode == 1, result.ToString());
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("rank-00000/metrics.jsonl", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingRun_OneLineExit2()
    {
        var checkpoints = await SeedAsync(10);

        var result = await CliAsync("verify", checkpoints.Location, "--run", "no-such-run");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal($"konduktor-storage: error: there is no run 'no-such-run' at {checkpoints.Location} (runs there: {Run})", result.Error.Trim());
    }

    /// <summary>Runs the tool with this store's connection options.</summary>
    private protected Task<CliResult> CliAsync(params string[] args) => CliRunner.RunAsync(Environment, [.. args, .. ConnectionArgs()]);

    private protected async Task<Checkpoints> SeedAsync(params long[] steps)
    {
        var checkpoints = new Checkpoints(NewLocation(), Connection, Environment);
        await checkpoints.SaveAsync(300_000, steps);
        return checkpoints;
    }

    private string[] ConnectionArgs() =>
    [
        .. Connection.Endpoint is { } endpoint ? new[] { "--endpoint", endpoint } : [],
        .. Connection.Region is { } region ? new[] { "--region", region } : [],
        .. Connection.Profile is { } profile ? new[] { "--profile", profile } : [],
    ];
}
