using System.Globalization;

using Microsoft.Extensions.Options;

namespace Konduktor.Storage;

/// <summary>Validates <see cref="ResilienceOptions"/> at start-up (<c>ValidateOnStart</c>); generated from the DataAnnotations attributes.</summary>
[OptionsValidator]
internal sealed partial class ResilienceOptionsValidator : IValidateOptions<ResilienceOptions>;

/// <summary>The checks of <see cref="ResilienceOptions"/> shared by the DI validator and code that builds a policy without DI.</summary>
internal static class ResilienceOptionsValidation
{
    /// <summary>Throws for the first invalid value, naming its key, the value and what is allowed.</summary>
    /// <exception cref="CheckpointConfigurationException">A value is out of range or two values contradict each other.</exception>
    public static void ThrowIfInvalid(ResilienceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var problem in RangeProblems(options).Concat(CrossFieldProblems(options)))
        {
            throw new CheckpointConfigurationException(problem.Key, problem.Value, problem.Expected);
        }
    }

    /// <summary>Single-value checks with the same bounds as the <c>[Range]</c> attributes, but naming the key and the value.</summary>
    internal static IEnumerable<Problem> RangeProblems(ResilienceOptions o)
    {
        if (o.MaxRetryAttempts is < 0 or > 100)
        {
            yield return Problem.Of(nameof(o.MaxRetryAttempts), o.MaxRetryAttempts.ToString(CultureInfo.InvariantCulture), "an integer from 0 to 100");
        }

        foreach (var (name, value, min) in new[]
        {
            (nameof(o.BaseDelay), o.BaseDelay, TimeSpan.FromMilliseconds(1)),
            (nameof(o.MaxDelay), o.MaxDelay, TimeSpan.FromMilliseconds(1)),
            (nameof(o.AttemptTimeout), o.AttemptTimeout, TimeSpan.FromMilliseconds(10)),
            (nameof(o.TotalTimeout), o.TotalTimeout, TimeSpan.FromMilliseconds(10)),
            (nameof(o.StallTimeout), o.StallTimeout, TimeSpan.FromMilliseconds(10)),
        })
        {
            // Delays are capped at an hour, timeouts at a day: the limits Polly accepts.
            var max = name is nameof(o.BaseDelay) or nameof(o.MaxDelay) ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1);
            if (value < min || value > max)
            {
                yield return Problem.Of(name, Format(value), $"a time span from {Format(min)} to {Format(max)}");
            }
        }
    }

    /// <summary>Relations between values.</summary>
    internal static IEnumerable<Problem> CrossFieldProblems(ResilienceOptions o)
    {
        if (o.BaseDelay > o.MaxDelay)
        {
            yield return Problem.Of(nameof(o.BaseDelay), Format(o.BaseDelay), $"at most {ResilienceOptions.SectionName}:{nameof(o.MaxDelay)} ({Format(o.MaxDelay)})");
        }

        if (o.AttemptTimeout > o.TotalTimeout)
        {
            yield return Problem.Of(nameof(o.AttemptTimeout), Format(o.AttemptTimeout), $"at most {ResilienceOptions.SectionName}:{nameof(o.TotalTimeout)} ({Format(o.TotalTimeout)})");
        }
    }

    private static string Format(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);

    /// <summary>One invalid value.</summary>
    internal sealed record Problem(string Property, string Key, string Value, string Expected)
    {
        public string Message => $"{Key} = '{Value}' is not valid; expected {Expected}.";

        public static Problem Of(string property, string value, string expected) =>
            new(property, $"{ResilienceOptions.SectionName}:{property}", value, expected);
    }
}
