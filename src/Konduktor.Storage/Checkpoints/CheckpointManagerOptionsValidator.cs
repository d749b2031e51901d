using System.Globalization;

using Microsoft.Extensions.Options;

namespace Konduktor.Storage;

/// <summary>Validates <see cref="CheckpointManagerOptions"/>, naming the configuration key, the value and what is allowed.</summary>
internal sealed class CheckpointManagerOptionsValidator : IValidateOptions<CheckpointManagerOptions>
{
    private const string Section = "Konduktor:Checkpoints";

    public ValidateOptionsResult Validate(string? name, CheckpointManagerOptions options)
    {
        try
        {
            ThrowIfInvalid(options);
            return ValidateOptionsResult.Success;
        }
        catch (CheckpointConfigurationException e)
        {
            return ValidateOptionsResult.Fail(e.Message);
        }
    }

    /// <exception cref="CheckpointConfigurationException">A value is invalid.</exception>
    public static void ThrowIfInvalid(CheckpointManagerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.RunId is not null && CheckpointLayout.CheckSegment(options.RunId) is { } runProblem)
        {
            throw new CheckpointConfigurationException($"{Section}:RunId", options.RunId, $"{CheckpointLayout.NameRule} ({runProblem})");
        }

        if (!CheckpointLayout.IsRankKeyword(options.Scope) && CheckpointLayout.CheckSegment(options.Scope) is { } scopeProblem)
        {
            throw new CheckpointConfigurationException(
                $"{Section}:Scope", options.Scope, $"'rank' (in any case) or a fixed scope name: {CheckpointLayout.NameRule} ({scopeProblem})");
        }

        var retention = options.Retention ?? throw new CheckpointConfigurationException($"{Section}:Retention", null, "a retention section");
        if (retention.KeepLast < 0)
        {
            throw Invalid("Retention:KeepLast", retention.KeepLast, "0 or more");
        }

        if (retention.KeepEvery is < 1)
        {
            throw Invalid("Retention:KeepEvery", retention.KeepEvery.Value, "1 or more (a step interval), or unset");
        }

        if (retention.KeepBest is < 1)
        {
            throw Invalid("Retention:KeepBest", retention.KeepBest.Value, "1 or more, or unset");
        }

        if (retention.KeepBest is not null && string.IsNullOrWhiteSpace(retention.BestMetric))
        {
            throw new CheckpointConfigurationException($"{Section}:Retention:BestMetric", retention.BestMetric, "the metadata key to rank by, since Retention:KeepBest is set");
        }

        if (!Enum.IsDefined(retention.BestMode))
        {
            throw new CheckpointConfigurationException($"{Section}:Retention:BestMode", retention.BestMode.ToString(), "Min or Max");
        }

        if (retention.Pinned.FirstOrDefault(s => s < 0) is var pinned and < 0)
        {
            throw Invalid("Retention:Pinned", pinned, "non-negative steps");
        }

        if (options.GarbageGracePeriod < TimeSpan.Zero)
        {
            throw new CheckpointConfigurationException($"{Section}:GarbageGracePeriod", options.GarbageGracePeriod.ToString("c", CultureInfo.InvariantCulture), "a non-negative time span");
        }

        if (options.BufferSize is < 4096 or > 256 * 1024 * 1024)
        {
            throw Invalid("BufferSize", options.BufferSize, "4096 to 268435456 bytes");
        }

        if (!Enum.IsDefined(options.SymbolicLinks))
        {
            throw new CheckpointConfigurationException($"{Section}:SymbolicLinks", options.SymbolicLinks.ToString(), "Follow or Refuse");
        }

        ResilienceOptionsValidation.ThrowIfInvalid(options.Resilience ?? throw new CheckpointConfigurationException($"{Section}:Resilience", null, "a resilience section"));
    }

    private static CheckpointConfigurationException Invalid(string key, long value, string expected) =>
        new($"{Section}:{key}", value.ToString(CultureInfo.InvariantCulture), expected);
}
