namespace Konduktor.Storage;

/// <summary>A configuration value or environment variable is missing or invalid.</summary>
public sealed class CheckpointConfigurationException : CheckpointStorageException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="key">The configuration key or environment variable.</param>
    /// <param name="value">The value found, or <see langword="null"/> when it was missing.</param>
    /// <param name="expected">What is allowed.</param>
    public CheckpointConfigurationException(string key, string? value, string expected)
        : base(value is null ? $"{key} is not set; expected {expected}." : $"{key} = '{ObjectKey.Printable(value)}' is not valid; expected {expected}.")
    {
        Key = key;
        Value = value;
        Expected = expected;
    }

    /// <summary>The configuration key or environment variable.</summary>
    public string Key { get; }

    /// <summary>The value found, or <see langword="null"/> when it was missing.</summary>
    public string? Value { get; }

    /// <summary>What is allowed.</summary>
    public string Expected { get; }
}
