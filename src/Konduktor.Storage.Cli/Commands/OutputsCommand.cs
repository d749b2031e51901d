namespace Konduktor.Storage.Cli;

/// <summary>
/// <c>outputs ls|pull LOCATION --run RUN [--prefix P] [DEST]</c>: a run's runtime outputs (logs, metrics, evaluation results,
/// artifacts) through the library's <see cref="RunOutputs"/> reader, every byte verified on pull.
/// </summary>
internal static class OutputsCommand
{
    public static Command Create(CliConsole console, GlobalOptions global)
    {
        var command = new Command("outputs", "A run's runtime outputs (logs, metrics, evaluation results, artifacts): ls, pull.");
        command.Subcommands.Add(List(console, global));
        command.Subcommands.Add(Pull(console, global));
        return command;
    }

    private static Command List(CliConsole console, GlobalOptions global)
    {
        var options = new RunOptions();
        var prefix = Prefix();
        var command = options.Command("ls", "List the run's outputs (all, or those at or under --prefix): path, bytes, checksum, synced.", step: false);
        command.Options.Add(prefix);
        SetOutputsAction(command, options, console, global, async (call, outputs) =>
        {
            var (context, parse, session, run, cancellationToken) = call;
            var files = new JsonArray();
            var table = new TextTable("PATH", "BYTES", "SYNCED", "CHECKSUM");
            await foreach (var output in outputs.ListAsync(parse.GetValue(prefix), cancellationToken))
            {
                files.Add(new JsonObject
                {
                    ["path"] = output.Path,
                    ["bytes"] = output.Length,
                    ["checksum"] = output.Checksum,
                    ["lastModifiedUtc"] = output.LastModified.UtcDateTime,
                    ["plainObject"] = output.IsPlainObject,
                });
                table.Add(output.Path, output.Length.ToString(CultureInfo.InvariantCulture), Sizes.Time(output.LastModified), output.Checksum ?? "-");
            }

            if (context.Json)
            {
                JsonOutput.Write(context.Console, new JsonObject { ["location"] = session.Location.Text, ["run"] = run, ["outputs"] = files });
            }
            else if (table.Count == 0)
            {
                context.Line($"run '{run}' has no outputs{(parse.GetValue(prefix) is { } p ? " under " + p : string.Empty)} at {session.Location.Text}");
            }
            else
            {
                context.Table(table);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Pull(CliConsole console, GlobalOptions global)
    {
        var options = new RunOptions();
        var prefix = Prefix();
        var destination = new Argument<string>("DEST") { Description = "The local directory to write to (created when missing; files of the same name are replaced)." };
        var command = options.Command("pull", "Download the run's outputs (all, or those at or under --prefix) into DEST, each verified.", step: false);
        command.Options.Add(prefix);
        command.Arguments.Add(destination);
        SetOutputsAction(command, options, console, global, async (call, outputs) =>
        {
            var (context, parse, session, run, cancellationToken) = call;
            var result = await TransferDisplay.RunAsync(context.Console, context.ShowProgress, progress =>
                outputs.PullAsync(parse.GetValue(destination)!, parse.GetValue(prefix), progress is null ? null : new OutputProgress(progress), cancellationToken));
            if (context.Json)
            {
                JsonOutput.Write(context.Console, new JsonObject
                {
                    ["location"] = session.Location.Text,
                    ["run"] = run,
                    ["directory"] = result.Destination,
                    ["bytes"] = result.Bytes,
                    ["files"] = new JsonArray([.. result.Files.Select(f => (JsonNode)new JsonObject
                    {
                        ["path"] = f.Output.Path, ["bytes"] = f.Output.Length, ["localPath"] = f.LocalPath,
                    })]),
                });
            }

            context.Line($"pulled {result.Files.Count} outputs of run '{run}', {Sizes.Bytes(result.Bytes)} verified, into {result.Destination}");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>An outputs command's action: the run must exist; its outputs are read through <see cref="RunOutputs"/>. Outputs have no --scope: their paths start with it.</summary>
    private static void SetOutputsAction(Command command, RunOptions options, CliConsole console, GlobalOptions global, Func<RunCall, RunOutputs, Task<int>> action)
    {
        command.Options.Remove(options.Scope);
        RunCall.SetAction(command, options, console, global, async call =>
        {
            await call.Session.RunFoldersAsync(call.Run, call.CancellationToken);
            return await action(call, new RunOutputs(call.Session.Store, call.Run));
        });
    }

    private static Option<string?> Prefix() =>
        new("--prefix", "-p") { Description = "A path or folder under the run's outputs, scope first (e.g. rank-00000/eval)." };

    /// <summary>Shows an outputs pull on the same bars as a checkpoint transfer.</summary>
    private sealed class OutputProgress(IProgress<TransferProgress> display) : IProgress<OutputTransferProgress>
    {
        public void Report(OutputTransferProgress value) =>
            display.Report(new TransferProgress(0, value.Path, value.FileBytes, value.FileLength, value.TotalBytes));
    }
}
