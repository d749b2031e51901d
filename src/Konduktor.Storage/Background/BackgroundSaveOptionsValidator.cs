using Microsoft.Extensions.Options;

namespace Konduktor.Storage;

/// <summary>Validates <see cref="BackgroundSaveOptions"/>, naming every invalid key and value at once.</summary>
internal sealed class BackgroundSaveOptionsValidator : IValidateOptions<BackgroundSaveOptions>
{
    public ValidateOptionsResult Validate(string? name, BackgroundSaveOptions options)
    {
        var builder = new ValidateOptionsResultBuilder();
        foreach (var problem in Problems(options))
        {
            builder.AddError(problem.Message);
        }

        return builder.Build();
    }

    /// <exception cref="CheckpointConfigurationException">A value is invalid; the message names every invalid value.</exception>
    public static void ThrowIfInvalid(BackgroundSaveOptions options) => ConfigurationProblems.ThrowIfAny(Problems(options));

    private static List<CheckpointConfigurationException> Problems(BackgroundSaveOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        const string Section = BackgroundSaveOptions.SectionName;
        var problems = new List<CheckpointConfigurationException>();
        ConfigurationProblems.CheckRange(problems, $"{Section}:MaxInFlight", options.MaxInFlight, 1, 16);
        ConfigurationProblems.CheckRange(problems, $"{Section}:MemoryLimitMiB", options.MemoryLimitMiB, 0, 1024 * 1024);
        ConfigurationProblems.CheckRange(problems, $"{Section}:DiskLimitMiB", options.DiskLimitMiB, 0, 64 * 1024 * 1024);
        if (options.StagingDirectory is { } directory && (directory.Trim().Length == 0 || directory.Contains('\0', StringComparison.Ordinal)))
        {
            problems.Add(new($"{Section}:StagingDirectory", directory, "a local directory path (or no value for the temporary directory)"));
        }

        if (options.MemoryLimitMiB == 0 && options.DiskLimitMiB == 0)
        {
            problems.Add(new($"{Section}:DiskLimitMiB", "0", "more than 0 when MemoryLimitMiB is 0 too: a background save needs somewhere to stage"));
        }

        return problems;
    }
}
