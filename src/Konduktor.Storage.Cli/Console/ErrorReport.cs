using System.Text.RegularExpressions;

using Microsoft.Extensions.Options;

namespace Konduktor.Storage.Cli;

/// <summary>Turns an exception into the tool's one error line and its exit code; no stack trace reaches the user.</summary>
internal static partial class ErrorReport
{
    /// <summary>The exit code and the single line for <paramref name="exception"/>.</summary>
    public static (int ExitCode, string Line) Describe(Exception exception) => exception switch
    {
        CliException e => (e.ExitCode, e.Message),
        CheckpointCorruptException e => (ExitCodes.Problems, e.Message),
        CheckpointNotFoundException e => (ExitCodes.Problems, e.Message),
        OutputCorruptException e => (ExitCodes.Problems, e.Message),
        OutputNotFoundException e => (ExitCodes.Problems, e.Message),
        CheckpointConfigurationException e => (ExitCodes.Usage, e.Message),
        OptionsValidationException e => (ExitCodes.Usage, string.Join("; ", e.Failures)),
        CredentialsException e => (ExitCodes.Usage, e.Message),
        StoreAccessDeniedException e => (ExitCodes.Usage, e.Message),
        OperationCanceledException => (ExitCodes.Usage, "cancelled"),
        // A store that cannot be reached or used (a missing bucket, retries exhausted) is configuration to fix, not a finding.
        CheckpointStorageException e => (ExitCodes.Usage, e.Message),
        UnauthorizedAccessException or IOException or ArgumentException => (ExitCodes.Usage, exception.Message),
        _ => (ExitCodes.Usage, $"{exception.GetType().Name}: {exception.Message}"),
    };

    /// <summary>Writes <paramref name="exception"/> as one line to stderr and returns its exit code.</summary>
    public static int Write(CliConsole console, Exception exception)
    {
        var (code, line) = Describe(exception);
        console.Error.WriteLine("konduktor-storage: error: " + OneLine(line));
        return code;
    }

    /// <summary>Collapses line breaks so that every error stays one line.</summary>
    public static string OneLine(string text) => LineBreaks().Replace(text.Trim(), " ");

    [GeneratedRegex(@"\s*[\r\n]+\s*", RegexOptions.CultureInvariant)]
    private static partial Regex LineBreaks();
}
