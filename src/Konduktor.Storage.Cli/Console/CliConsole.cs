using System.Collections;

using Spectre.Console;

namespace Konduktor.Storage.Cli;

/// <summary>
/// Where the tool writes and what it reads from its surroundings: stdout, stderr, whether stdout is a terminal, and the
/// environment variables (for <c>Konduktor__…</c> configuration). Tests run the tool in-process with one of their own.
/// </summary>
/// <param name="Out">Results (tables, JSON).</param>
/// <param name="Error">Warnings and the one error line.</param>
/// <param name="IsTerminal">Whether <paramref name="Out"/> is a terminal: only then are progress bars drawn.</param>
/// <param name="Environment">The environment variables.</param>
/// <param name="Terminal">Draws progress on a terminal; <see langword="null"/> off a terminal.</param>
internal sealed record CliConsole(TextWriter Out, TextWriter Error, bool IsTerminal, IReadOnlyDictionary<string, string?> Environment, IAnsiConsole? Terminal)
{
    /// <summary>The process's own console and environment.</summary>
    public static CliConsole FromProcess()
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
        {
            environment[(string)entry.Key] = entry.Value as string;
        }

        var terminal = !System.Console.IsOutputRedirected;
        return new CliConsole(System.Console.Out, System.Console.Error, terminal, environment, terminal ? AnsiConsole.Console : null);
    }
}
