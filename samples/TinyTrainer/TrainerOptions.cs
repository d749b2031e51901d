using System.Globalization;

using Konduktor.Storage;

using Microsoft.Extensions.Configuration;

namespace TinyTrainer;

/// <summary>The trainer's settings (configuration section <c>Trainer</c>), read and checked once at start-up.</summary>
/// <remarks><c>Nodes</c> (local mode: how many pods to run) and <c>MasterPort</c> (where rank 0 averages gradients when
/// <c>MASTER_PORT</c> is not set) serve multi-node training.</remarks>
internal sealed record TrainerOptions(int Steps, int CheckpointEvery, int CrashAtStep, int PayloadMiB, int MaxRestarts, int Nodes = 1, int MasterPort = 29500)
{
    /// <summary>Simulated compute per step, in milliseconds (<c>Trainer:StepDelayMs</c>, default 0).</summary>
    public int StepDelayMs { get; init; }

    /// <summary>Whether periodic saves run in the background (<c>Trainer:BackgroundSaves</c>, default true).</summary>
    public bool BackgroundSaves { get; init; } = true;

    /// <summary>Reads the section; a value that is not allowed names its key, its value and what is allowed.</summary>
    /// <exception cref="CheckpointConfigurationException">A value is not a whole number in its range.</exception>
    public static TrainerOptions Read(IConfiguration configuration) => new(
        Steps: Read(configuration, "Steps", 20, 1, 1_000_000),
        CheckpointEvery: Read(configuration, "CheckpointEvery", 5, 1, 1_000_000),
        CrashAtStep: Read(configuration, "CrashAtStep", 12, 0, 1_000_000),
        PayloadMiB: Read(configuration, "PayloadMiB", 0, 0, 65_536),
        MaxRestarts: Read(configuration, "MaxRestarts", 3, 0, 100),
        Nodes: Read(configuration, "Nodes", 1, 1, 64),
        MasterPort: Read(configuration, "MasterPort", 29500, 1, 65535))
    {
        StepDelayMs = Read(configuration, "StepDelayMs", 0, 0, 600_000),
        BackgroundSaves = ReadBool(configuration, "BackgroundSaves", true),
        PayloadFiles = Read(configuration, "PayloadFiles", 1, 1, 100_000),
    };

    /// <summary>How many files the payload is split into (<c>Trainer:PayloadFiles</c>, default 1; e.g. 500 for a sharded state).</summary>
    public int PayloadFiles { get; init; } = 1;

    private static bool ReadBool(IConfiguration configuration, string name, bool defaultValue)
    {
        var key = $"Trainer:{name}";
        var text = configuration[key];
        return string.IsNullOrWhiteSpace(text) ? defaultValue
            : bool.TryParse(text.Trim(), out var value) ? value
            : throw new CheckpointConfigurationException(key, text, "true or false");
    }

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
