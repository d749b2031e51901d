using Microsoft.Extensions.Options;

namespace Konduktor.Storage;

/// <summary>Validates <see cref="ShutdownOptions"/>, naming every invalid key and value at once.</summary>
internal sealed class ShutdownOptionsValidator : IValidateOptions<ShutdownOptions>
{
    public ValidateOptionsResult Validate(string? name, ShutdownOptions options)
    {
        var builder = new ValidateOptionsResultBuilder();
        foreach (var problem in Problems(options))
        {
            builder.AddError(problem.Message);
        }

        return builder.Build();
    }

    /// <exception cref="CheckpointConfigurationException">A value is invalid; the message names every invalid value.</exception>
    public static void ThrowIfInvalid(ShutdownOptions options) => ConfigurationProblems.ThrowIfAny(Problems(options));

    private static List<CheckpointConfigurationException> Problems(ShutdownOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        const string Section = ShutdownOptions.SectionName;
        var problems = new List<CheckpointConfigurationException>();
        if (options.GracePeriod < TimeSpan.FromSeconds(1) || options.GracePeriod > TimeSpan.FromHours(1))
        {
            problems.Add(new($"{Section}:GracePeriod", options.GracePeriod.ToString("c"), "a time from 00:00:01 to 01:00:00"));
        }
        else if (options.Margin < TimeSpan.Zero || options.Margin >= options.GracePeriod)
        {
            problems.Add(new($"{Section}:Margin", options.Margin.ToString("c"), $"a time from 00:00:00 to less than the grace period ({options.GracePeriod:c})"));
        }

        return problems;
    }
}
