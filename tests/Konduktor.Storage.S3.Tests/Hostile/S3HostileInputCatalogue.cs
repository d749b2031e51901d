using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Konduktor.Storage.S3.Tests;

/// <summary>
/// The rows of the hostile-input catalogue (<c>HostileInputCatalogue</c> in Konduktor.Storage.Tests) that need the S3
/// package: bucket names and S3 options, resolved through dependency injection with <c>.AddS3()</c>. Each row ends in a clear
/// error (the exception's type and a message naming the culprit). docs/hostile-inputs.md lists these rows in the same table
/// as the core's. No server needed.
/// </summary>
public sealed class S3HostileInputCatalogue
{
    private const string Config = "Konduktor:Checkpoints";

    private static readonly HostileInput[] Rows =
    [
        new("config: bucket with uppercase letters", "Location=s3://MyBucket/x", "configuration error naming the bucket (not silently another, lowercased, bucket)",
            () => ConfigurationFails<CheckpointConfigurationException>(new() { [$"{Config}:Location"] = "s3://MyBucket/x", [$"{Config}:RunId"] = "r" }, "Location", "MyBucket")),
        new("config: bucket with an underscore", "Location=s3://bad_bucket/x", "configuration error naming the bucket",
            () => ConfigurationFails<CheckpointConfigurationException>(new() { [$"{Config}:Location"] = "s3://bad_bucket/x", [$"{Config}:RunId"] = "r" }, "Location", "bad_bucket")),
        new("config: bucket name too short", "Location=s3://ab/x", "configuration error naming the bucket",
            () => ConfigurationFails<CheckpointConfigurationException>(new() { [$"{Config}:Location"] = "s3://ab/x", [$"{Config}:RunId"] = "r" }, "Location", "'ab'")),
        new("config: zero part size", "S3:PartSizeMiB=0", "options validation error naming S3:PartSizeMiB and '0'",
            () => ConfigurationFails<OptionsValidationException>(new() { [$"{Config}:Location"] = "s3://bucket/x", [$"{Config}:RunId"] = "r", [$"{Config}:S3:PartSizeMiB"] = "0" }, "PartSizeMiB", "'0'")),
        new("config: huge part size", "S3:PartSizeMiB=1000000", "options validation error naming S3:PartSizeMiB and the value",
            () => ConfigurationFails<OptionsValidationException>(new() { [$"{Config}:Location"] = "s3://bucket/x", [$"{Config}:RunId"] = "r", [$"{Config}:S3:PartSizeMiB"] = "1000000" }, "PartSizeMiB", "1000000")),
    ];

    public static TheoryData<string> Names => new(Rows.Select(r => r.Name));

    /// <summary>
    /// One row: the clear error. These rows have no store root or restore target of their own; what a misread location
    /// could write is a folder named after the scheme under the working directory, so none may appear.
    /// </summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void Row_ClearErrorOrSafeSkip_NothingWrittenOutsideTheTarget(string name)
    {
        var row = Rows.Single(r => r.Name == name);
        var before = SchemeFolders();

        row.Check();

        Assert.Equal(before, SchemeFolders());
    }

    /// <summary>The Markdown table in docs/hostile-inputs.md holds these rows too; a failure lists the rows to paste.</summary>
    [Fact]
    public void Catalogue_MatchesTheDocumentedTable()
    {
        var doc = File.ReadAllText(Path.Join(RepositoryRoot(), "docs", "hostile-inputs.md"));

        var missing = Rows.Select(TableRow).Where(line => !doc.Contains(line, StringComparison.Ordinal)).ToList();

        Assert.True(missing.Count == 0, "docs/hostile-inputs.md lacks these rows:\n" + string.Join("\n", missing));
    }

    /// <summary>
    /// Resolving the manager from configuration <paramref name="settings"/> (S3 registered) fails with <typeparamref name="TException"/>
    /// naming each of <paramref name="named"/>: options validation (<c>OptionsValidationException</c>, also what a host's start
    /// reports) or the store's own checks (<see cref="CheckpointConfigurationException"/>).
    /// </summary>
    private static void ConfigurationFails<TException>(Dictionary<string, string?> settings, params string[] named)
        where TException : Exception
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton(JobContext.Create());
        services.AddKonduktorCheckpoints(configuration).AddS3(configuration);
        using var provider = services.BuildServiceProvider();

        var error = Assert.ThrowsAny<TException>(() => provider.GetRequiredService<CheckpointManager>());

        foreach (var culprit in named)
        {
            Assert.Contains(culprit, error.Message, StringComparison.Ordinal);
        }
    }

    private static string[] SchemeFolders() =>
        [.. Directory.EnumerateFileSystemEntries(Directory.GetCurrentDirectory(), "s3*").Order(StringComparer.Ordinal)];

    private static string TableRow(HostileInput row) =>
        $"| {row.Name} | {row.Input.Replace("|", "\\|", StringComparison.Ordinal)} | {row.Expected} | `{nameof(Row_ClearErrorOrSafeSkip_NothingWrittenOutsideTheTarget)}(\"{row.Name}\")` |";

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Join(dir.FullName, "Konduktor.Storage.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root was not found above " + AppContext.BaseDirectory);
    }

    /// <summary>One row of the catalogue.</summary>
    /// <param name="Name">A short unique name: its category, then what is wrong.</param>
    /// <param name="Input">The bad input.</param>
    /// <param name="Expected">The expected outcome.</param>
    /// <param name="Check">Feeds the input and asserts the outcome.</param>
    private sealed record HostileInput(string Name, string Input, string Expected, Action Check);
}
