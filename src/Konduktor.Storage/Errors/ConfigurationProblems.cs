using System.Globalization;

namespace Konduktor.Storage;

/// <summary>Collects configuration problems and reports them all in one exception that names the first key.</summary>
internal static class ConfigurationProblems
{
    /// <summary>Adds a problem when <paramref name="value"/> lies outside <paramref name="min"/>..<paramref name="max"/>.</summary>
    public static void CheckRange(List<CheckpointConfigurationException> problems, string key, long value, long min, long max)
    {
        if (value < min || value > max)
        {
            problems.Add(new(key, value.ToString(CultureInfo.InvariantCulture), $"a whole number from {min} to {max}"));
        }
    }

    /// <exception cref="CheckpointConfigurationException">There is a problem: it names the first key and value, its message every problem.</exception>
    public static void ThrowIfAny(List<CheckpointConfigurationException> problems)
    {
        if (problems.Count > 0)
        {
            var first = problems[0];
            throw problems.Count == 1
                ? first
                : new CheckpointConfigurationException(first.Key, first.Value, first.Expected + string.Concat(problems.Skip(1).Select(p => ". Also " + p.Message.TrimEnd('.'))));
        }
    }
}
