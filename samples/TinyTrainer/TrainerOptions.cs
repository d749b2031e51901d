using System.Globalization;

using Konduktor.Storage;

using Microsoft.Extensions.Configuration;

namespace TinyTrainer;

/// <summary>The trainer's settings (configuration section <c>Trainer</c>), read and checked once at start-up.</summary>
internal sealed record TrainerOptions(int Steps, int CheckpointEvery, int CrashAtStep, int PayloadMiB, int MaxRestarts)
{
    /// <summary>Reads the section; a value that is not allowed names its key, its value and what is allowed.</summary>
    /// <exception cref="CheckpointConfigurationException">A value is not a whole number in its range.</exception>
    public static TrainerOptions Read(IConfiguration configuration) => new(
        Steps: Read(configuration, "Steps", 20, 1, 1_000_000),
        CheckpointEvery: Read(configuration, "CheckpointEvery", 5, 1, 1_000_000),
        CrashAtStep: Read(configuration, "CrashAtStep", 12, 0, 1_000_000),
        PayloadMiB: Read(configuration, "PayloadMiB", 0, 0, 65_536),
        MaxRestarts: Read(configuration, "MaxRestarts", 3, 0, 100)) { PayloadFiles = Read(configuration, "PayloadFiles", 1, 1, 100_000) };

    /// <summary>How many files the payload is split into (<c>Trainer:PayloadFiles</c>, default 1; e.g. 500 for a sharded state).</summary>
    public int PayloadFiles { get; init; } = 1;

    private static int Read(IConfiguration configuration, string name, int defaultValue, int min, int max)
    {
        var key = $"Trainer:{name}";
        var text = configuration[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return defaultValue;
        }

        return int.TryParse(text, NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite, CultureInfo.InvariantCulture, out var value)
            && value >= min && value <= max
            ? value
            : throw new CheckpointConfigurationException(key, text, $"a whole number from {min} to {max}");
    }
}
