namespace Konduktor.Storage;

/// <summary>The time a stopping pod has to save and drain (configuration section <c>Konduktor:Shutdown</c>).</summary>
public sealed class ShutdownOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Konduktor:Shutdown";

    /// <summary>
    /// The time between SIGTERM and SIGKILL (1 s to 1 hour). Kubernetes' default, which Konduktor's task schema cannot
    /// change, is 30 s. Default: 30 s.
    /// </summary>
    public TimeSpan GracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The part of <see cref="GracePeriod"/> kept back for the program to print its report and exit (0 up to less than the
    /// grace period). Drains and emergency saves end by <c>GracePeriod - Margin</c> after the stop began. Default: 5 s.
    /// </summary>
    public TimeSpan Margin { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The time drains and emergency saves may take after a stop begins.</summary>
    internal TimeSpan Budget => GracePeriod - Margin;
}
