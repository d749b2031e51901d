using System.Globalization;

using Microsoft.Extensions.Options;

namespace Konduktor.Storage;

/// <summary>
/// Validates <see cref="BackgroundSaveOptions"/> (<c>Konduktor:Checkpoints:Background</c>) and <see cref="ShutdownOptions"/>
/// (<c>Konduktor:Shutdown</c>), naming every invalid key and value at once.
/// </summary>
internal sealed class BackgroundSavesValidator : IValidateOptions<BackgroundSaveOptions>, IValidateOptions<ShutdownOptions>
{
    public ValidateOptionsResult Validate(string? name, BackgroundSaveOptions options) => Problems(options).ToResult();

    public ValidateOptionsResult Validate(string? name, ShutdownOptions options) => Problems(options).ToResult();

    /// <exception cref="CheckpointConfigurationException">A value is invalid; the message names every invalid value.</exception>
    public static void ThrowIfInvalid(BackgroundSaveOptions options) => Problems(options).ThrowIfAny();

    /// <exception cref="CheckpointConfigurationException">A value is invalid; the message names every invalid value.</exception>
    public static void ThrowIfInvalid(ShutdownOptions options) => Problems(options).ThrowIfAny();

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

    private static ConfigurationProblems Problems(ShutdownOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        const string Section = ShutdownOptions.SectionName;
        var problems = new ConfigurationProblems();
        if (options.GracePeriod < TimeSpan.FromSeconds(1) || options.GracePeriod > TimeSpan.FromHours(1))
        {
            problems.Add($"{Section}:GracePeriod", options.GracePeriod.ToString("c"), "a time from 00:00:01 to 01:00:00");
        }
        else if (options.Margin < TimeSpan.Zero || options.Margin >= options.GracePeriod)
        {
            problems.Add($"{Section}:Margin", options.Margin.ToString("c"), $"a time from 00:00:00 to less than the grace period ({options.GracePeriod:c})");
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
