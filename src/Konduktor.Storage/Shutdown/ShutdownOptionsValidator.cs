using Microsoft.Extensions.Options;

namespace Konduktor.Storage;

/// <summary>Validates <see cref="ShutdownOptions"/>, naming every invalid key and value at once.</summary>
internal sealed class ShutdownOptionsValidator : IValidateOptions<ShutdownOptions>
{
    public ValidateOptionsResult Validate(string? name, ShutdownOptions options) => Problems(options).ToResult();

    /// <exception cref="CheckpointConfigurationException">A value is invalid; the message names every invalid value.</exception>
    public static void ThrowIfInvalid(ShutdownOptions options) => Problems(options).ThrowIfAny();

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
}
