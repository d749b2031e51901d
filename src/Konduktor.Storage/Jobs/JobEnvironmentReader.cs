using System.Globalization;

namespace Konduktor.Storage;

/// <summary>
/// Reads and validates the job's environment variables. The rules, which keep two pods from ever sharing a scope:
/// an empty variable is unset; any other value is trimmed and must then be valid (blank is not); numbers are ASCII digits
/// only (no sign, decimal point, exponent or hex); when several variables carry one value, every one that is set must agree.
/// </summary>
internal static class JobEnvironmentReader
{
    private static readonly char[] HostSeparators = [',', '\n', '\r'];

    /// <summary>A value and the variable it came from, for messages.</summary>
    public readonly record struct Setting<T>(string Variable, string Raw, T Value);

    public static string? ReadText(IJobEnvironment environment, string variable)
    {
        var raw = environment.GetVariable(variable);
        if (string.IsNullOrEmpty(raw))
        {
            return null;
        }

        var text = raw.Trim();
        return text.Length > 0
            ? text
            : throw new CheckpointConfigurationException(variable, raw, "a non-blank value (or the variable unset or empty)");
    }

    public static Setting<int>? ReadNumber(IJobEnvironment environment, ReadOnlySpan<string> variables, int minimum)
    {
        return ReadAgreeing(
            environment,
            variables,
            (variable, raw) => ParseNumber(variable, raw, minimum),
            static (a, b) => a == b);
    }

    public static Setting<IReadOnlyList<string>>? ReadHosts(IJobEnvironment environment, ReadOnlySpan<string> variables)
    {
        // Order matters (the first host is the master), so lists that differ only in order disagree.
        return ReadAgreeing(
            environment,
            variables,
            ParseHosts,
            static (a, b) => a.SequenceEqual(b, StringComparer.Ordinal));
    }

    internal static int ParseNumber(string variable, string raw, int minimum)
    {
        // NumberStyles.None: digits only, so "+3", "-3", "3.0", "1e3", "0x3" and "3 4" are all rejected.
        var text = raw.Trim();
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < minimum)
        {
            throw new CheckpointConfigurationException(
                variable,
                raw,
                $"a whole number from {minimum} to {int.MaxValue}, written in digits only (e.g. {minimum + 1})");
        }

        return value;
    }

    internal static IReadOnlyList<string> ParseHosts(string variable, string raw)
    {
        var hosts = raw.Split(HostSeparators, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        const string expected = "host names or IP addresses separated by commas or newlines (e.g. '10.0.0.1,10.0.0.2')";
        if (hosts.Length == 0)
        {
            throw new CheckpointConfigurationException(variable, raw, expected);
        }

        // A space inside an entry means a space-separated list, which would otherwise become one bogus host.
        foreach (var host in hosts)
        {
            if (host.Any(char.IsWhiteSpace))
            {
                throw new CheckpointConfigurationException(variable, raw, expected + $"; '{ObjectKey.Printable(host)}' contains whitespace");
            }
        }

        return hosts;
    }

    private static Setting<T>? ReadAgreeing<T>(
        IJobEnvironment environment,
        ReadOnlySpan<string> variables,
        Func<string, string, T> parse,
        Func<T, T, bool> agree)
    {
        Setting<T>? first = null;
        foreach (var variable in variables)
        {
            var raw = environment.GetVariable(variable);
            if (string.IsNullOrEmpty(raw))
            {
                continue;
            }

            var value = parse(variable, raw);
            if (first is not { } winner)
            {
                first = new Setting<T>(variable, raw, value);
            }
            else if (!agree(winner.Value, value))
            {
                throw new CheckpointConfigurationException(
                    variable,
                    raw,
                    $"the same value as {winner.Variable} = '{ObjectKey.Printable(winner.Raw)}', because both are set and must agree");
            }
        }

        return first;
    }
}
