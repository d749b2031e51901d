using System.Globalization;

using Konduktor.Storage;

using Microsoft.Extensions.Configuration;

namespace TinyTrainer;

/// <summary>The trainer's settings (configuration section <c>Trainer</c>), read and checked once at start-up.</summary>
/// <remarks><c>Nodes</c> (local mode: how many pods to run) and <c>MasterPort</c> (where rank 0 averages gradients when
/// <c>MASTER_PORT</c> is not set) serve multi-node training.</remarks>
internal sealed record TrainerOptions(int Steps, int CheckpointEvery, int CrashAtStep, int PayloadMiB, int MaxRestarts, int Nodes = 1, int MasterPort = 29500)
{
    /// <summary>Reads the section; a value that is not allowed names its key, its value and what is allowed.</summary>
    /// <exception cref="CheckpointConfigurationException">A value is not a whole number in its range.</exception>
    public static TrainerOptions Read(IConfiguration configuration) => new(
        Steps: Read(configuration, "Steps", 20, 1, 1_000_000),
        CheckpointEvery: Read(configuration, "CheckpointEvery", 5, 1, 1_000_000),
        CrashAtStep: Read(configuration, "CrashAtStep", 12, 0, 1_000_000),
        PayloadMiB: Read(configuration, "PayloadMiB", 0, 0, 65_536),
        MaxRestarts: Read(configuration, "MaxRestarts", 3, 0, 100),
        Nodes: Read(configuration, "Nodes", 1, 1, 64),
        MasterPort: Read(configuration, "MasterPort", 29500, 1, 65535));

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
