namespace Konduktor.Storage.Cli;

/// <summary>The command tree of <c>konduktor-storage</c>, and how one invocation runs and fails.</summary>
internal static class KonduktorStorageCli
{
    /// <summary>Runs the tool with <paramref name="args"/>; returns the exit code (see <see cref="ExitCodes"/>).</summary>
    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken = default)
    {
        var root = Build(console);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // One line, like every other error; the parser's own report would print the help after it and exit 1.
            console.Error.WriteLine($"konduktor-storage: error: {ErrorReport.OneLine(parse.Errors[0].Message)} (see konduktor-storage --help)");
            return ExitCodes.Usage;
        }

        try
        {
            return await parse.InvokeAsync(
                new InvocationConfiguration { Output = console.Out, Error = console.Error, EnableDefaultExceptionHandler = false },
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            return ErrorReport.Write(console, e);
        }
    }

    private static RootCommand Build(CliConsole console)
    {
        var global = new GlobalOptions();
        var root = new RootCommand(
            "konduktor-storage: list, verify, pull, prune and garbage-collect Konduktor.Storage checkpoints on the file system, S3 (s3://) and GCS (gs://). "
            + "Credentials and configuration as in the library: AWS_* variables and profiles, Application Default Credentials, Konduktor__… variables. "
            + "Exit codes: 0 ok, 1 problems found, 2 usage or configuration error.");
        global.AddTo(root);
        root.Subcommands.Add(LsCommand.Create(console, global));
        root.Subcommands.Add(ShowCommand.Create(console, global));
        root.Subcommands.Add(VerifyCommand.Create(console, global));
        root.Subcommands.Add(PullCommand.Create(console, global));
        root.Subcommands.Add(PruneCommand.Create(console, global));
        root.Subcommands.Add(GcCommand.Create(console, global));
        root.Subcommands.Add(OutputsCommand.Create(console, global));
        return root;
    }
}
