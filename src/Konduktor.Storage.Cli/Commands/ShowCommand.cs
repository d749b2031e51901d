namespace Konduktor.Storage.Cli;

/// <summary><c>show LOCATION --run RUN [--step N]</c>: one checkpoint's manifest, the newest by default.</summary>
internal static class ShowCommand
{
    public static Command Create(CliConsole console, GlobalOptions global)
    {
        var options = new RunOptions();
        var command = options.Command("show", "Show one checkpoint's manifest (the newest one with a manifest by default).", step: true);
        RunCall.SetAction(command, options, console, global, async call =>
        {
            var (context, parse, session, run, cancellationToken) = call;
            var scope = await session.SingleScopeAsync(run, parse.GetValue(options.Scope), cancellationToken);
            var catalog = session.Manager(run, scope).Catalog;
            var inspection = parse.GetValue(options.Step) is { } step
                ? await catalog.InspectAsync(step, cancellationToken)
                : (await catalog.InspectAllAsync(cancellationToken)).FirstOrDefault(i => i.Manifest is not null);
            if (inspection?.Manifest is not { } manifest)
            {
                throw CliException.Problem(inspection is null
                    ? $"run '{run}', scope '{scope}' has no checkpoint with a manifest at {session.Location.Text}"
                    : $"step {inspection.Step} of run '{run}', scope '{scope}' has no readable manifest: {inspection.Problem ?? "the folder is empty"}");
            }

            if (context.Json)
            {
                var document = JsonOutput.Manifest(manifest);
                document["state"] = LsCommand.State(inspection.State);
                document["problem"] = inspection.Problem;
                JsonOutput.Write(context.Console, document);
            }
            else
            {
                Describe(context, inspection, manifest);
            }

            return inspection.State == StepState.Committed ? ExitCodes.Ok : ExitCodes.Problems;
        });
        return command;
    }

    private static void Describe(CommandContext context, StepInspection inspection, CheckpointManifest manifest)
    {
        context.Line($"run:      {manifest.Run}");
        context.Line($"scope:    {manifest.Scope}");
        context.Line($"step:     {manifest.Step.ToString(CultureInfo.InvariantCulture)}");
        context.Line($"state:    {LsCommand.State(inspection.State)}{(inspection.Problem is { } problem ? " (" + problem + ")" : string.Empty)}");
        context.Line($"created:  {Sizes.Time(manifest.CreatedUtc)}");
        context.Line($"writer:   {manifest.Writer}");
        if (manifest.Job is { } job)
        {
            context.Line(string.Create(CultureInfo.InvariantCulture, $"job:      rank {job.Rank} of {job.Nodes}, restart attempt {job.RestartAttempt}, host {job.Host ?? "-"}"));
        }

        foreach (var (key, value) in manifest.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            context.Line($"metadata: {key}={value}");
        }

        var table = new TextTable("FILE", "BYTES", "CHECKSUM");
        foreach (var file in manifest.Files)
        {
            table.Add(file.Name, file.Length.ToString(CultureInfo.InvariantCulture), file.Checksum);
        }

        context.Line(string.Empty);
        context.Table(table);
    }
}
