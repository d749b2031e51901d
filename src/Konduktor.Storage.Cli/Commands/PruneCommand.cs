using System.CommandLine;
using System.Text.Json.Nodes;

namespace Konduktor.Storage.Cli;

/// <summary>
/// <c>prune LOCATION --run RUN --keep-last K [--dry-run]</c>: applies retention to each scope of the run (or <c>--scope</c>),
/// by the library's rules: the newest valid checkpoint, pinned steps and corrupt ones are never deleted, and nothing is
/// while the newest step is uncommitted.
/// </summary>
internal static class PruneCommand
{
    public static Command Create(CliConsole console, GlobalOptions global)
    {
        var options = new RunOptions();
        var keepLast = new Option<int>("--keep-last") { Description = "How many of the newest valid checkpoints to keep (at least 1).", Required = true };
        keepLast.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 1)
            {
                result.AddError("--keep-last must be at least 1.");
            }
        });
        var dryRun = new Option<bool>("--dry-run") { Description = "List what would be deleted; delete nothing." };
        var command = options.Command("prune", "Apply retention: delete all but the newest K valid checkpoints of each scope (--dry-run lists them).", step: false);
        command.Options.Add(keepLast);
        command.Options.Add(dryRun);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var context = new CommandContext(console, parse, global);
            await using var session = context.Open(parse.GetValue(options.Location)!);
            var run = parse.GetValue(options.Run)!;
            var dry = parse.GetValue(dryRun);
            var scopes = new JsonArray();
            foreach (var scope in await session.ScopesAsync(run, parse.GetValue(options.Scope), cancellationToken))
            {
                var manager = session.Manager(run, scope, parse.GetValue(keepLast));
                var steps = dry
                    ? await manager.PlanRetentionAsync(cancellationToken)
                    : await manager.ApplyRetentionAsync(cancellationToken);
                scopes.Add(new JsonObject { ["scope"] = scope, ["steps"] = JsonOutput.Steps(steps) });
                foreach (var step in steps)
                {
                    context.Line($"{(dry ? "would delete" : "deleted")} step {step} of run '{run}', scope '{scope}'");
                }

                if (steps.Count == 0)
                {
                    context.Line($"nothing to delete in run '{run}', scope '{scope}'");
                }
            }

            if (context.Json)
            {
                JsonOutput.Write(context.Console, new JsonObject { ["location"] = session.Location.Text, ["run"] = run, ["dryRun"] = dry, ["scopes"] = scopes });
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
