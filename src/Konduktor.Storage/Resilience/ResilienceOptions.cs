using System.ComponentModel.DataAnnotations;

namespace Konduktor.Storage;

/// <summary>
/// How store operations are retried and bounded in time, bound from <c>Konduktor:Checkpoints:Resilience</c>.
/// Only transient failures are retried (5xx, 408, 429, reset connections, timeouts, stalled transfers); 400/401/403/404/412 never are.
/// </summary>
public sealed class ResilienceOptions : IValidatableObject
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Konduktor:Checkpoints:Resilience";

    /// <summary>How many times a failed attempt is retried (so at most this plus one attempts). 0 to 100; default 6.</summary>
    [Range(0, 100)]
    public int MaxRetryAttempts { get; set; } = 6;

    /// <summary>The delay before the first retry; later ones double it, with jitter, up to <see cref="MaxDelay"/>. Default: 0.5 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(0.5);

    /// <summary>The longest delay between two attempts, including one a server asked for with <c>Retry-After</c>. Default: 30 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one request may take before it is abandoned and retried. Default: 2 min.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long one operation may take including all its retries and delays. Default: 30 min.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// How long a transfer may make no progress before it is abandoned as a transient "stall" failure and resumed. Default: 60 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Reports every invalid value with its configuration key, the value and what is allowed (the generated range checks name
    /// only the property), and the relations single-property attributes cannot express.
    /// </summary>
    /// <param name="validationContext">The validation context.</param>
    /// <returns>One result per problem.</returns>
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext) =>
        ResilienceOptionsValidation.RangeProblems(this)
            .Concat(ResilienceOptionsValidation.CrossFieldProblems(this))
            .Select(p => new ValidationResult(p.Message, [p.Property]));
}
