namespace Konduktor.Storage.Cli.Tests;

/// <summary>The tool on what the sample wrote on the file system (the same scenario runs on RadosGW in <see cref="RadosGwCliTests"/>).</summary>
public sealed class SampleCheckpointsTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public Task SampleRun_LsVerifyFlipPull()
    {
        var store = _temp.Combine("checkpoints");
        var environment = new Dictionary<string, string?>();
        return SampleCheckpointsScenario.RunAsync(
            _temp.Path,
            new Checkpoints(store, new ConnectionSettings(null, null, null), environment),
            _ => new Dictionary<string, string> { ["Konduktor__Checkpoints__Location"] = store },
            args => CliRunner.RunAsync(environment, args));
    }
}
