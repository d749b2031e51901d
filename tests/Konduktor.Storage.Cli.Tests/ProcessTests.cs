using System.Diagnostics;

namespace Konduktor.Storage.Cli.Tests;

/// <summary>The tool as a process: help, exit codes, errors without stack traces, progress on a terminal and none in a pipe.</summary>
public sealed class ProcessTests : IDisposable
{
    private const string Escape = "\u001b";
    private readonly TempDirectory _temp = new();
    private readonly Dictionary<string, string> _environment = new() { ["TERM"] = "xterm-256color" };

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Help_ListsTheCommandsAndExitsZero()
    {
        var result = await CliRunner.RunProcessAsync(_temp.Path, _environment, "--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var command in new[] { "ls", "show", "verify", "pull", "prune", "gc" })
        {
            Assert.Contains($"  {command} <LOCATION>", result.Out, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("unknown scheme", "ls", "ftp://host/dir", "the scheme 'ftp://'")]
    [InlineData("step not a number", "show", "store", "--run", "job", "--step", "ten", "--step 'ten' is not a step")]
    [InlineData("missing run option", "verify", "store", "Option '--run' is required")]
    [InlineData("unknown run", "verify", "store", "--run", "nope", "there is no run 'nope'")]
    [InlineData("grace period", "gc", "store", "--run", "job", "--grace-period", "soon", "--grace-period 'soon' is not a duration")]
    [InlineData("endpoint on a path", "ls", "store", "--endpoint", "http://127.0.0.1:1", "--endpoint applies to s3:// and gs://")]
    [InlineData("missing local location", "ls", "no-such-store", "--run", "job", "does not exist (no directory")]
    public async Task BadInput_OneClearLineExit2NoStackTrace(string what, params string[] argsAndExpected)
    {
        var args = argsAndExpected[..^1];
        var expected = argsAndExpected[^1];
        Directory.CreateDirectory(_temp.Combine("store", "job", "rank-00000"));

        var result = await CliRunner.RunProcessAsync(_temp.Path, _environment, args);

        Assert.True(result.ExitCode == 2, $"{what}: {result}");
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("konduktor-storage: error: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Out + result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pull64MiB_UnderPseudoTerminalShowsProgress_PipedPrintsNoEscapeCodes()
    {
        var location = Directory.CreateDirectory(_temp.Combine("store")).FullName;
        var checkpoints = new Checkpoints(location, new ConnectionSettings(null, null, null), new Dictionary<string, string?>());
        await checkpoints.SaveAsync(64 * 1024 * 1024, 5);

        var piped = await CliRunner.RunProcessAsync(_temp.Path, _environment, "pull", location, "--run", Checkpoints.Run, _temp.Combine("piped"));
        var terminal = await CliRunner.RunAsync(UnderPseudoTerminal(CliRunner.Start(
            _temp.Path, _environment, ["pull", location, "--run", Checkpoints.Run, _temp.Combine("terminal")])));

        Assert.True(piped.ExitCode == 0, piped.ToString());
        Assert.DoesNotContain(Escape, piped.Out + piped.Error, StringComparison.Ordinal);
        Assert.Contains("pulled step 5", piped.Out, StringComparison.Ordinal);
        Assert.True(terminal.ExitCode == 0, terminal.ToString());
        Assert.Contains(Escape, terminal.Out, StringComparison.Ordinal);
        Assert.Contains("model.bin", terminal.Out, StringComparison.Ordinal);
        Assert.Contains("100%", terminal.Out, StringComparison.Ordinal);
        Assert.Equal(checkpoints.Saved[5]["model.bin"], await File.ReadAllBytesAsync(_temp.Combine("terminal", "model.bin")));
    }

    /// <summary>The same process under util-linux <c>script</c>, which gives it a pseudo-terminal as stdout.</summary>
    private static ProcessStartInfo UnderPseudoTerminal(ProcessStartInfo start)
    {
        var command = string.Join(' ', new[] { start.FileName }.Concat(start.ArgumentList).Select(a => "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'"));
        var script = new ProcessStartInfo("script")
        {
            WorkingDirectory = start.WorkingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--quiet", "--return", "--command", $"stty cols 160; {command}", "/dev/null" })
        {
            script.ArgumentList.Add(arg);
        }

        script.Environment.Clear();
        foreach (var (name, value) in start.Environment)
        {
            script.Environment[name] = value;
        }

        return script;
    }
}
