using System.Globalization;

using Microsoft.Extensions.Options;

namespace Konduktor.Storage;

/// <summary>
/// Validates <see cref="CheckpointManagerOptions"/>, naming the configuration key, the value and what is allowed for every invalid
/// value at once (as Microsoft.Extensions validators do with <see cref="ValidateOptionsResultBuilder"/>).
/// </summary>
internal sealed class CheckpointManagerOptionsValidator : IValidateOptions<CheckpointManagerOptions>
{
    private const string Section = "Konduktor:Checkpoints";

    public ValidateOptionsResult Validate(string? name, CheckpointManagerOptions options) => Problems(options).ToResult();

    /// <exception cref="CheckpointConfigurationException">A value is invalid: it names the first key and value, its message every invalid value.</exception>
    public static void ThrowIfInvalid(CheckpointManagerOptions options) => Problems(options).ThrowIfAny();

    private static ConfigurationProblems Problems(CheckpointManagerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new ConfigurationProblems();
        if (options.RunId is not null && CheckpointLayout.CheckSegment(options.RunId) is { } runProblem)
        {
            problems.Add(new($"{Section}:RunId", options.RunId, $"{CheckpointLayout.NameRule} ({runProblem})"));
        }

        if (!CheckpointLayout.IsRankKeyword(options.Scope) && CheckpointLayout.CheckSegment(options.Scope) is { } scopeProblem)
        {
            problems.Add(new($"{Section}:Scope", options.Scope, $"'rank' (in any case) or a fixed scope name: {CheckpointLayout.NameRule} ({scopeProblem})"));
        }

        if (options.Retention is not { } retention)
        {
            problems.Add(new($"{Section}:Retention", null, "a retention section"));
        }
        else
        {
            RetentionProblems(retention, problems);
        }

        if (options.GarbageGracePeriod < TimeSpan.Zero)
        {
            problems.Add(new($"{Section}:GarbageGracePeriod", options.GarbageGracePeriod.ToString("c", CultureInfo.InvariantCulture), "a non-negative time span"));
        }

        if (options.BufferSize is < 4096 or > 256 * 1024 * 1024)
        {
            problems.Add(Invalid("BufferSize", options.BufferSize, "4096 to 268435456 bytes"));
        }

        if (!Enum.IsDefined(options.SymbolicLinks))
        {
            problems.Add(new($"{Section}:SymbolicLinks", options.SymbolicLinks.ToString(), "Follow or Refuse"));
        }

        if (options.Mode is { } mode && !Enum.IsDefined(mode))
        {
            problems.Add(new($"{Section}:Mode", mode.ToString(), "Collective or PerRank (or unset: Collective when NUM_NODES is more than 1)"));
        }
        else if (options.Mode == CheckpointMode.Collective && !CheckpointLayout.IsRankKeyword(options.Scope))
        {
            problems.Add(new($"{Section}:Scope", options.Scope, "'rank' with Mode Collective (each rank saves its own part of every step), or Mode PerRank for a fixed scope"));
        }

        if (options.Collective is not { } collective)
        {
            problems.Add(new($"{Section}:Collective", null, "a collective section"));
        }
        else if (collective.Timeout < TimeSpan.FromMilliseconds(1) || collective.Timeout > TimeSpan.FromDays(1))
        {
            problems.Add(new($"{Section}:Collective:Timeout", collective.Timeout.ToString("c", CultureInfo.InvariantCulture), "a time span from 00:00:00.001 to 1.00:00:00"));
        }

        if (options.Resilience is not { } resilience)
        {
            problems.Add(new($"{Section}:Resilience", null, "a resilience section"));
        }
        else
        {
            problems.AddRange(ResilienceOptionsValidation.RangeProblems(resilience).Concat(ResilienceOptionsValidation.CrossFieldProblems(resilience))
                .Select(p => new CheckpointConfigurationException(p.Key, p.Value, p.Expected)));
        }

        return problems;
    }

    private static void RetentionProblems(RetentionOptions retention, ConfigurationProblems problems)
    {
        if (retention.KeepLast < 0)
        {
            problems.Add(Invalid("Retention:KeepLast", retention.KeepLast, "0 or more"));
        }

        if (retention.KeepEvery is < 1)
        {
            problems.Add(Invalid("Retention:KeepEvery", retention.KeepEvery.Value, "1 or more (a step interval), or unset"));
        }

        if (retention.KeepBest is < 1)
        {
            problems.Add(Invalid("Retention:KeepBest", retention.KeepBest.Value, "1 or more, or unset"));
        }

        if (retention.KeepBest is not null && string.IsNullOrWhiteSpace(retention.BestMetric))
        {
            problems.Add(new($"{Section}:Retention:BestMetric", retention.BestMetric, "the metadata key to rank by, since Retention:KeepBest is set"));
        }

        if (!Enum.IsDefined(retention.BestMode))
        {
            problems.Add(new($"{Section}:Retention:BestMode", retention.BestMode.ToString(), "Min or Max"));
        }

        if (retention.Pinned.FirstOrDefault(s => s < 0) is var pinned and < 0)
        {
            problems.Add(Invalid("Retention:Pinned", pinned, "non-negative steps"));
        }
    }

    private static CheckpointConfigurationException Invalid(string key, long value, string expected) =>
        new($"{Section}:{key}", value.ToString(CultureInfo.InvariantCulture), expected);
}
