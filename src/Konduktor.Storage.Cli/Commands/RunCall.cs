namespace Konduktor.Storage.Cli;

/// <summary>One invocation of a command on a run: the parsed line, the opened location and the run.</summary>
internal sealed record RunCall(CommandContext Context, ParseResult Parse, StoreSession Session, string Run, CancellationToken CancellationToken)
{
    /// <summary>Sets <paramref name="command"/>'s action: open the location, then <paramref name="action"/>.</summary>
    public static void SetAction(Command command, RunOptions options, CliConsole console, GlobalOptions global, Func<RunCall, Task<int>> action) =>
        command.SetAction(async (parse, cancellationToken) =>
        {
            var context = new CommandContext(console, parse, global);
            await using var session = context.Open(parse.GetValue(options.Location)!);
            return await action(new RunCall(context, parse, session, parse.GetValue(options.Run)!, cancellationToken));
        });

    /// <summary>
    /// Sets the action of a command that changes each scope of the run (or <c>--scope</c>) and may be a dry run: with
    /// <c>--json</c> it writes <c>{location, run, dryRun, scopes: [what <paramref name="perScope"/> returns]}</c>.
    /// </summary>
    public static void SetPerScopeAction(
        Command command, RunOptions options, CliConsole console, GlobalOptions global, Func<RunCall, string, bool, Task<JsonObject>> perScope)
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "List what would be deleted; delete nothing." };
        command.Options.Add(dryRun);
        SetAction(command, options, console, global, async call =>
        {
            var dry = call.Parse.GetValue(dryRun);
            var scopes = new JsonArray();
            foreach (var scope in await call.Session.ScopesAsync(call.Run, call.Parse.GetValue(options.Scope), call.CancellationToken))
            {
                scopes.Add(await perScope(call, scope, dry));
            }

            if (call.Context.Json)
            {
                JsonOutput.Write(call.Context.Console, new JsonObject { ["location"] = call.Session.Location.Text, ["run"] = call.Run, ["dryRun"] = dry, ["scopes"] = scopes });
            }

            return ExitCodes.Ok;
        });
    }
}
