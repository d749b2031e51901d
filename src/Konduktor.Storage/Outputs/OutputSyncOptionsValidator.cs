using System.Globalization;

using Microsoft.Extensions.Options;

namespace Konduktor.Storage;

/// <summary>Validates <see cref="OutputSyncOptions"/>, naming every invalid key, its value and what is allowed, at once.</summary>
internal sealed class OutputSyncOptionsValidator : IValidateOptions<OutputSyncOptions>
{
    private const string Section = OutputSyncOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, OutputSyncOptions options) => Problems(options).ToResult();

    /// <exception cref="CheckpointConfigurationException">A value is invalid: it names the first key and value, its message every invalid value.</exception>
    public static void ThrowIfInvalid(OutputSyncOptions options) => Problems(options).ThrowIfAny();

    private static ConfigurationProblems Problems(OutputSyncOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new ConfigurationProblems();
        if (options.Interval <= TimeSpan.Zero || options.Interval > TimeSpan.FromDays(1))
        {
            problems.Add(new($"{Section}:Interval", options.Interval.ToString("c", CultureInfo.InvariantCulture), "a positive time span of at most one day, e.g. 00:00:30"));
        }

        if (options.LocalDirectory is { } directory && string.IsNullOrWhiteSpace(directory))
        {
            problems.Add(new($"{Section}:LocalDirectory", directory, "a directory path, or no value for KONDUKTOR_OUTPUT_DIR or ./outputs"));
        }

        if (options.Location is { } location)
        {
            try
            {
                CheckpointLocation.Parse(location, $"{Section}:Location");
            }
            catch (CheckpointConfigurationException e)
            {
                problems.Add(e);
            }
        }

        if (options.RunId is not null && CheckpointLayout.CheckSegment(options.RunId) is { } runProblem)
        {
            problems.Add(new($"{Section}:RunId", options.RunId, $"{CheckpointLayout.NameRule} ({runProblem})"));
        }

        if (options.Scope is not null && CheckpointLayout.CheckSegment(options.Scope) is { } scopeProblem)
        {
            problems.Add(new($"{Section}:Scope", options.Scope, $"a scope name: {CheckpointLayout.NameRule} ({scopeProblem})"));
        }

        if (options.MergeMiB is < 1 or > 1024)
        {
            problems.Add(new($"{Section}:MergeMiB", options.MergeMiB.ToString(CultureInfo.InvariantCulture), "1 to 1024"));
        }

        if (options.Concurrency is < 1 or > 64)
        {
            problems.Add(new($"{Section}:Concurrency", options.Concurrency.ToString(CultureInfo.InvariantCulture), "1 to 64"));
        }

        return problems;
    }
}
