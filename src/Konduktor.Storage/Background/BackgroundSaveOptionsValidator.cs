using System.Globalization;

using Microsoft.Extensions.Options;

namespace Konduktor.Storage;

/// <summary>Validates <see cref="BackgroundSaveOptions"/>, naming every invalid key and value at once.</summary>
internal sealed class BackgroundSaveOptionsValidator : IValidateOptions<BackgroundSaveOptions>
{
    public ValidateOptionsResult Validate(string? name, BackgroundSaveOptions options) => Problems(options).ToResult();

    /// <exception cref="CheckpointConfigurationException">A value is invalid; the message names every invalid value.</exception>
    public static void ThrowIfInvalid(BackgroundSaveOptions options) => Problems(options).ThrowIfAny();

    private static ConfigurationProblems Problems(BackgroundSaveOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        const string Section = BackgroundSaveOptions.SectionName;
        var problems = new ConfigurationProblems();
        CheckRange(problems, $"{Section}:MaxInFlight", options.MaxInFlight, 1, 16);
        CheckRange(problems, $"{Section}:MemoryLimitMiB", options.MemoryLimitMiB, 0, 1024 * 1024);
        CheckRange(problems, $"{Section}:DiskLimitMiB", options.DiskLimitMiB, 0, 64 * 1024 * 1024);
        if (options.StagingDirectory is { } directory && (directory.Trim().Length == 0 || directory.Contains('\0', StringComparison.Ordinal)))
        {
            problems.Add($"{Section}:StagingDirectory", directory, "a local directory path (or no value for the temporary directory)");
        }

        if (options.MemoryLimitMiB == 0 && options.DiskLimitMiB == 0)
        {
            problems.Add($"{Section}:DiskLimitMiB", "0", "more than 0 when MemoryLimitMiB is 0 too: a background save needs somewhere to stage");
        }

        return problems;
    }

    private static void CheckRange(ConfigurationProblems problems, string key, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            problems.Add(key, value.ToString(CultureInfo.InvariantCulture), $"a whole number from {min} to {max}");
        }
    }
}
