using System.Globalization;

namespace Konduktor.Storage.Testing;

/// <summary>How long and how hard a fault campaign runs; read from <c>KONDUKTOR_FAULT_CAMPAIGN_*</c> variables.</summary>
public sealed class FaultCampaignOptions
{
    /// <summary>The short form's number of transfers: every profile once (4 transfers each), in about half a minute.</summary>
    public const int DefaultTransfers = 28;

    /// <summary>The seed when none is given.</summary>
    public const int DefaultSeed = 20261128;

    /// <summary>Saves and restores to attempt.</summary>
    public int Transfers { get; init; } = DefaultTransfers;

    /// <summary>The seed of every random choice: fault draws, file contents and sizes.</summary>
    public int Seed { get; init; } = DefaultSeed;

    /// <summary>Where to write the JSON report, if anywhere.</summary>
    public string? ReportPath { get; init; }

    /// <summary>
    /// The outer deadline of one transfer: a transfer still running then counts as hung. Far above what the
    /// <see cref="Resilience"/> settings allow a failing transfer (a few total timeouts), so only a real hang reaches it.
    /// </summary>
    public TimeSpan TransferDeadline { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Small retry budget and timeouts (seconds), so that faults are either ridden out or surface quickly.</summary>
    public ResilienceOptions Resilience { get; init; } = new()
    {
        MaxRetryAttempts = 4,
        BaseDelay = TimeSpan.FromMilliseconds(20),
        MaxDelay = TimeSpan.FromSeconds(1),
        AttemptTimeout = TimeSpan.FromSeconds(5),
        StallTimeout = TimeSpan.FromSeconds(0.5),
        TotalTimeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>
    /// Reads <c>KONDUKTOR_FAULT_CAMPAIGN_TRANSFERS</c> (default <see cref="DefaultTransfers"/>),
    /// <c>KONDUKTOR_FAULT_CAMPAIGN_SEED</c> (default <see cref="DefaultSeed"/>) and <c>KONDUKTOR_FAULT_CAMPAIGN_REPORT</c> (a file path).
    /// </summary>
    /// <param name="environment">Reads a variable; the process environment by default.</param>
    /// <returns>The options.</returns>
    /// <exception cref="CheckpointConfigurationException">A number is not a whole number in range.</exception>
    public static FaultCampaignOptions FromEnvironment(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        return new FaultCampaignOptions
        {
            Transfers = Number(environment, "KONDUKTOR_FAULT_CAMPAIGN_TRANSFERS", DefaultTransfers, minimum: 1),
            Seed = Number(environment, "KONDUKTOR_FAULT_CAMPAIGN_SEED", DefaultSeed, minimum: 0),
            ReportPath = environment("KONDUKTOR_FAULT_CAMPAIGN_REPORT") is { Length: > 0 } path ? path : null,
        };
    }

    private static int Number(Func<string, string?> environment, string name, int fallback, int minimum)
    {
        var text = environment(name);
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        return int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= minimum
            ? value
            : throw new CheckpointConfigurationException(name, text, $"a whole number ≥ {minimum}");
    }
}
