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
        var command = options.Command("prune", "Apply retention: delete all but the newest K valid checkpoints of each scope (--dry-run lists them).", step: false);
        command.Options.Add(keepLast);
        RunCall.SetPerScopeAction(command, options, console, global, async (call, scope, dry) =>
        {
            var manager = call.Session.Manager(call.Run, scope, call.Parse.GetValue(keepLast));
            var steps = dry
                ? await manager.PlanRetentionAsync(call.CancellationToken)
                : await manager.ApplyRetentionAsync(call.CancellationToken);
            foreach (var step in steps)
            {
                call.Context.Line($"{(dry ? "would delete" : "deleted")} step {step} of run '{call.Run}', scope '{scope}'");
            }

            if (steps.Count == 0)
            {
                call.Context.Line($"nothing to delete in run '{call.Run}', scope '{scope}'");
            }

            return new JsonObject { ["scope"] = scope, ["steps"] = JsonOutput.Steps(steps) };
        });
        return command;
    }
}
