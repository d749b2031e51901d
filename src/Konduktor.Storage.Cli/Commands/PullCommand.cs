namespace Konduktor.Storage.Cli;

/// <summary>
/// <c>pull LOCATION --run RUN [--step N] DEST</c>: downloads a checkpoint (the newest intact one by default), verifying
/// every byte, into DEST; DEST receives only a fully verified checkpoint. Corrupt or torn newer steps are passed over and named.
/// </summary>
internal static class PullCommand
{
    public static Command Create(CliConsole console, GlobalOptions global)
    {
        var options = new RunOptions();
        var destination = new Argument<string>("DEST") { Description = "The local directory to fill (created when missing; must be empty unless --force)." };
        var force = new Option<bool>("--force") { Description = "Replace what DEST holds." };
        var command = options.Command("pull", "Download a checkpoint (the newest intact one by default), verified, into DEST.", step: true);
        command.Arguments.Add(destination);
        command.Options.Add(force);
        RunCall.SetAction(command, options, console, global, async call =>
        {
            var (context, parse, session, run, cancellationToken) = call;
            var target = Path.GetFullPath(parse.GetValue(destination)!);
            if (File.Exists(target))
            {
                throw CliException.Usage($"DEST '{target}' is a file; pull fills a directory");
            }

            if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any() && !parse.GetValue(force))
            {
                throw CliException.Usage($"DEST '{target}' is not empty; pull replaces its content only with --force");
            }

            var scope = await session.SingleScopeAsync(run, parse.GetValue(options.Scope), cancellationToken);
            var manager = session.Manager(run, scope);
            var step = parse.GetValue(options.Step);
            var result = await TransferDisplay.RunAsync(context.Console, context.ShowProgress, progress => step is { } one
                ? manager.RestoreAsync(one, target, progress, cancellationToken)
                : manager.RestoreLatestAsync(target, progress, cancellationToken));
            foreach (var skipped in result.Skipped)
            {
                context.Warn($"skipped step {skipped.Step} of run '{run}', scope '{scope}' ({skipped.Reason}): {skipped.Detail}");
            }

            if (context.Json)
            {
                JsonOutput.Write(context.Console, new JsonObject
                {
                    ["location"] = session.Location.Text,
                    ["run"] = run,
                    ["scope"] = scope,
                    ["step"] = result.Step,
                    ["directory"] = result.Directory,
                    ["files"] = result.Manifest?.Files.Count,
                    ["bytes"] = result.Manifest?.TotalLength,
                    ["skipped"] = new JsonArray([.. result.Skipped.Select(s => (JsonNode)new JsonObject
                    {
                        ["step"] = s.Step, ["reason"] = s.Reason.ToString(), ["detail"] = s.Detail,
                    })]),
                });
            }

            if (!result.Found)
            {
                throw CliException.Problem($"run '{run}', scope '{scope}' has no intact checkpoint to pull at {session.Location.Text}");
            }

            context.Line($"pulled step {result.Step} of run '{run}', scope '{scope}': {result.Manifest.Files.Count} files, {Sizes.Bytes(result.Manifest.TotalLength)} verified, into {result.Directory}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
