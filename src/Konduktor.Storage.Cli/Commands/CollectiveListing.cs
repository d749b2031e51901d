namespace Konduktor.Storage.Cli;

/// <summary>
/// The collective steps of a run in <c>ls --run</c> (scope <c>job</c>): each step's state from its step commit, its ranks'
/// parts (each judged like a checkpoint), and which ranks have no part in a step that is not committed.
/// </summary>
internal static class CollectiveListing
{
    /// <summary>Adds the run's collective steps to the JSON steps and the table; returns how many are corrupt.</summary>
    public static async Task<int> AddAsync(CollectiveCatalog catalog, JsonArray steps, TextTable table, CancellationToken cancellationToken)
    {
        var corrupt = 0;
        foreach (var info in await catalog.ListAsync(cancellationToken))
        {
            var parts = new JsonArray();
            var nodes = info.Commit?.Nodes ?? 0;
            long bytes = 0;
            var files = 0;
            CheckpointManifest? rank0 = null;
            var partsCorrupt = false;
            foreach (var rank in info.PartRanks)
            {
                var part = await catalog.Part(rank).InspectAsync(info.Step, cancellationToken);
                nodes = Math.Max(nodes, part.Manifest?.Job?.Nodes ?? 0);
                bytes += part.Manifest?.TotalLength ?? part.StoredBytes;
                files += part.Manifest?.Files.Count ?? 0;
                rank0 = rank == 0 ? part.Manifest : rank0;
                partsCorrupt |= part.State == StepState.Corrupt;
                parts.Add(new JsonObject
                {
                    ["rank"] = rank,
                    ["state"] = LsCommand.State(part.State),
                    ["files"] = part.Manifest?.Files.Count ?? part.StoredObjects,
                    ["bytes"] = part.Manifest?.TotalLength ?? part.StoredBytes,
                    ["problem"] = part.Problem,
                });
            }

            var missing = Enumerable.Range(0, Math.Max(nodes, info.PartRanks.Count == 0 ? 0 : info.PartRanks.Max() + 1)).Except(info.PartRanks).ToList();
            var state = info.Commit is not null
                ? missing.Count > 0 || partsCorrupt ? StepState.Corrupt : StepState.Committed
                : NotCommitted(info.Problem) ? StepState.Uncommitted : StepState.Corrupt;
            corrupt += state == StepState.Corrupt ? 1 : 0;
            string[] problems = [.. new[] { missing.Count > 0 ? $"ranks {string.Join(", ", missing)} have no part" : null, info.Problem, partsCorrupt ? "a part is corrupt" : null }.OfType<string>()];
            var problem = problems.Length == 0 ? null : string.Join("; ", problems);
            steps.Add(new JsonObject
            {
                ["scope"] = StoreSession.CollectiveFolder,
                ["step"] = info.Step,
                ["state"] = LsCommand.State(state),
                ["collective"] = true,
                ["files"] = files,
                ["bytes"] = bytes,
                ["createdUtc"] = info.Commit?.CreatedUtc.UtcDateTime,
                ["nodes"] = nodes,
                ["parts"] = parts,
                ["missingRanks"] = new JsonArray([.. missing.Select(r => (JsonNode)r)]),
                ["metadata"] = JsonOutput.Metadata(rank0?.Metadata),
                ["problem"] = problem,
            });
            table.Add(
                StoreSession.CollectiveFolder,
                info.Step.ToString(CultureInfo.InvariantCulture),
                LsCommand.State(state),
                files.ToString(CultureInfo.InvariantCulture),
                Sizes.Bytes(bytes),
                Sizes.Time(info.Commit?.CreatedUtc),
                $"parts {string.Join(",", info.PartRanks)} of {nodes}" + (problem is null ? " " + LsCommand.Metadata(rank0) : $": {problem}"));
        }

        return corrupt;
    }

    // The catalog's reasons for a step without a usable commit: never committed (or deleted meanwhile), else untrusted.
    private static bool NotCommitted(string? problem) =>
        problem is null
        || problem.StartsWith("no step commit", StringComparison.Ordinal)
        || problem.StartsWith("the step commit disappeared", StringComparison.Ordinal);
}
