namespace Konduktor.Storage.Cli;

/// <summary><c>ls LOCATION [--run RUN]</c>: the runs at a location; with <c>--run</c>, every step of the run and its state.</summary>
internal static class LsCommand
{
    public static Command Create(CliConsole console, GlobalOptions global)
    {
        var options = new RunOptions();
        options.Run.Required = false;
        var command = options.Command("ls", "List the runs at LOCATION; with --run, the run's steps: state (committed, uncommitted, corrupt), files, bytes, created, metadata. Exit 1 when a step is corrupt.", step: false);
        command.SetAction((parse, cancellationToken) =>
        {
            var context = new CommandContext(console, parse, global);
            var run = parse.GetValue(options.Run);
            return run is null
                ? ListRunsAsync(context, parse.GetValue(options.Location)!, cancellationToken)
                : ListStepsAsync(context, parse.GetValue(options.Location)!, run, parse.GetValue(options.Scope), cancellationToken);
        });
        return command;
    }

    private static async Task<int> ListRunsAsync(CommandContext context, string location, CancellationToken cancellationToken)
    {
        await using var session = context.Open(location);
        var runs = new JsonArray();
        var table = new TextTable("RUN", "SCOPES", "OUTPUTS");
        foreach (var run in await CheckpointCatalog.ListRunsAsync(session.Store, cancellationToken))
        {
            // A run's outputs folder is not a scope of checkpoints; collective steps are listed as the scope 'job'.
            var folders = await CheckpointCatalog.ListScopesAsync(session.Store, run, cancellationToken);
            var scopes = folders.Where(f => f != StoreSession.OutputsFolder).ToList();
            var outputs = folders.Contains(StoreSession.OutputsFolder, StringComparer.Ordinal);
            runs.Add(new JsonObject { ["run"] = run, ["scopes"] = new JsonArray([.. scopes.Select(s => (JsonNode)s)]), ["outputs"] = outputs });
            table.Add(run, string.Join(", ", scopes), outputs ? "yes" : "-");
        }

        if (context.Json)
        {
            JsonOutput.Write(context.Console, new JsonObject { ["location"] = session.Location.Text, ["runs"] = runs });
        }
        else if (table.Count == 0)
        {
            context.Line($"no runs at {session.Location.Text}");
        }
        else
        {
            context.Table(table);
        }

        return ExitCodes.Ok;
    }

    private static async Task<int> ListStepsAsync(CommandContext context, string location, string run, string? scope, CancellationToken cancellationToken)
    {
        await using var session = context.Open(location);
        var steps = new JsonArray();
        var table = new TextTable("SCOPE", "STEP", "STATE", "FILES", "BYTES", "CREATED", "METADATA");
        var corrupt = 0;
        var folders = await session.RunFoldersAsync(run, cancellationToken);
        var scopes = scope is not null ? await session.ScopesAsync(run, scope, cancellationToken)
            : [.. folders.Where(f => f is not (StoreSession.CollectiveFolder or StoreSession.OutputsFolder))];
        foreach (var name in scopes)
        {
            foreach (var inspection in await session.Manager(run, name).Catalog.InspectAllAsync(cancellationToken))
            {
                var step = Step(name, inspection);
                steps.Add(step);
                corrupt += inspection.State == StepState.Corrupt ? 1 : 0;
                table.Add(
                    name,
                    inspection.Step.ToString(CultureInfo.InvariantCulture),
                    State(inspection.State),
                    step["files"]!.ToString(),
                    Sizes.Bytes((long)step["bytes"]!),
                    Sizes.Time(inspection.Manifest?.CreatedUtc ?? inspection.LastModified),
                    inspection.Problem ?? Metadata(inspection.Manifest));
            }
        }

        if (scope is null && folders.Contains(StoreSession.CollectiveFolder, StringComparer.Ordinal))
        {
            corrupt += await CollectiveListing.AddAsync(new CollectiveCatalog(session.Store, run), steps, table, cancellationToken);
        }

        if (context.Json)
        {
            JsonOutput.Write(context.Console, new JsonObject { ["location"] = session.Location.Text, ["run"] = run, ["steps"] = steps });
        }
        else if (table.Count == 0)
        {
            context.Line($"run '{run}' has no steps at {session.Location.Text}");
        }
        else
        {
            context.Table(table);
        }

        return corrupt > 0 ? ExitCodes.Problems : ExitCodes.Ok;
    }

    /// <summary>
    /// One step as JSON: <c>scope</c>, <c>step</c>, <c>state</c>, <c>files</c> and <c>bytes</c> (the manifest's, else what the
    /// folder holds), <c>createdUtc</c> (the manifest's, else null), <c>lastModifiedUtc</c>, <c>storedObjects</c>,
    /// <c>storedBytes</c>, <c>writer</c>, <c>metadata</c>, <c>problem</c>.
    /// </summary>
    public static JsonObject Step(string scope, StepInspection inspection) => new()
    {
        ["scope"] = scope,
        ["step"] = inspection.Step,
        ["state"] = State(inspection.State),
        ["files"] = inspection.Manifest?.Files.Count ?? inspection.StoredObjects,
        ["bytes"] = inspection.Manifest?.TotalLength ?? inspection.StoredBytes,
        ["createdUtc"] = inspection.Manifest?.CreatedUtc.UtcDateTime,
        ["lastModifiedUtc"] = inspection.LastModified?.UtcDateTime,
        ["storedObjects"] = inspection.StoredObjects,
        ["storedBytes"] = inspection.StoredBytes,
        ["writer"] = inspection.Manifest?.Writer,
        ["metadata"] = JsonOutput.Metadata(inspection.Manifest?.Metadata),
        ["problem"] = inspection.Problem,
    };

    /// <summary>Metadata as <c>key=value</c> pairs in ordinal key order.</summary>
    public static string Metadata(CheckpointManifest? manifest) =>
        string.Join(" ", (manifest?.Metadata ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));

    public static string State(StepState state) => state switch
    {
        StepState.Committed => "committed",
        StepState.Uncommitted => "uncommitted",
        _ => "corrupt",
    };
}
