namespace Konduktor.Storage.Cli.Tests;

/// <summary>The scenarios on the file system, with a plain path as the location.</summary>
public sealed class FileSystemCliTests : CliScenarioTests
{
    internal override ConnectionSettings Connection { get; } = new(null, null, null);

    protected override IReadOnlyDictionary<string, string?> Environment { get; } = new Dictionary<string, string?>();

    protected override string NewLocation() => Temp.Combine("store-" + Guid.NewGuid().ToString("N")[..8]);
}
