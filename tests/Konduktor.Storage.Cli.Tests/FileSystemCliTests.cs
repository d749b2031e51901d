namespace Konduktor.Storage.Cli.Tests;

/// <summary>The scenarios on the file system, with a plain path as the location.</summary>
public sealed class FileSystemCliTests : CliScenarioTests
{
    internal override ConnectionSettings Connection { get; } = new(null, null, null);

    protected override IReadOnlyDictionary<string, string?> Environment { get; } = new Dictionary<string, string?>();

    // The tool reads an existing directory (a missing one is an error): the store's folder exists, as a job's would.
    protected override string NewLocation() => Directory.CreateDirectory(Temp.Combine("store-" + Guid.NewGuid().ToString("N")[..8])).FullName;
}
