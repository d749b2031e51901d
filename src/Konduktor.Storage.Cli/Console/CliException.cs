namespace Konduktor.Storage.Cli;

/// <summary>A failure the tool reports as one line and an exit code (see <see cref="ExitCodes"/>).</summary>
internal sealed class CliException(int exitCode, string message) : Exception(message)
{
    /// <summary>The exit code.</summary>
    public int ExitCode { get; } = exitCode;

    /// <summary>Bad input: an option, a location, a run or a scope that does not fit.</summary>
    public static CliException Usage(string message) => new(ExitCodes.Usage, message);

    /// <summary>A finding: something is wrong with what is stored.</summary>
    public static CliException Problem(string message) => new(ExitCodes.Problems, message);
}

/// <summary>The tool's exit codes (documented in the README).</summary>
internal static class ExitCodes
{
    /// <summary>Everything asked for was done and nothing wrong was found.</summary>
    public const int Ok = 0;

    /// <summary>Problems were found in what is stored: a corrupt file, a torn step, nothing to pull.</summary>
    public const int Problems = 1;

    /// <summary>A usage or configuration error: a bad option or location, missing credentials, an unknown run, an unreachable store.</summary>
    public const int Usage = 2;
}
