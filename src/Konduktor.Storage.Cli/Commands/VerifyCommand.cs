using System.Buffers;

namespace Konduktor.Storage.Cli;

/// <summary>
/// <c>verify LOCATION --run RUN [--step N] [--all]</c>: re-reads every file of a checkpoint and checks its length and
/// checksum against the manifest; exit 1, naming the file and the step, on any mismatch or torn step.
/// </summary>
internal static class VerifyCommand
{
    public static Command Create(CliConsole console, GlobalOptions global)
    {
        var options = new RunOptions();
        var all = new Option<bool>("--all") { Description = "Verify every committed step, not only the newest." };
        var command = options.Command("verify", "Re-read and check every file of the newest checkpoint of each scope (or --step N, or --all); exit 1 and name the file on any mismatch.", step: true);
        command.Options.Add(all);
        command.Validators.Add(result =>
        {
            if (result.GetValue(all) && result.GetValue(options.Step) is not null)
            {
                result.AddError("--all and --step cannot be combined.");
            }
        });
        RunCall.SetAction(command, options, console, global, async call =>
        {
            var (context, parse, session, run, cancellationToken) = call;
            var results = new JsonArray();
            var problems = 0;
            await TransferDisplay.RunAsync(context.Console, context.ShowProgress, async progress =>
            {
                foreach (var scope in await session.ScopesAsync(run, parse.GetValue(options.Scope), cancellationToken))
                {
                    var manager = session.Manager(run, scope);
                    foreach (var inspection in await ChooseAsync(manager.Catalog, parse.GetValue(options.Step), parse.GetValue(all), cancellationToken))
                    {
                        var result = await VerifyStepAsync(context, manager, inspection, progress, cancellationToken);
                        problems += result["ok"]!.GetValue<bool>() ? 0 : 1;
                        results.Add(result);
                    }
                }

                return true;
            });

            if (context.Json)
            {
                JsonOutput.Write(context.Console, new JsonObject { ["location"] = session.Location.Text, ["run"] = run, ["ok"] = problems == 0, ["steps"] = results });
            }

            if (results.Count == 0)
            {
                throw CliException.Problem($"run '{run}' has no committed checkpoint to verify at {session.Location.Text}");
            }

            return problems == 0 ? ExitCodes.Ok : ExitCodes.Problems;
        });
        return command;
    }

    /// <summary>The steps to verify: the one asked for, every one with a manifest (<c>--all</c>), or the newest with a manifest.</summary>
    private static async Task<IReadOnlyList<StepInspection>> ChooseAsync(CheckpointCatalog catalog, long? step, bool all, CancellationToken cancellationToken)
    {
        if (step is { } one)
        {
            return [await catalog.InspectAsync(one, cancellationToken)];
        }

        var withManifest = (await catalog.InspectAllAsync(cancellationToken)).Where(i => i.Manifest is not null || i.State == StepState.Corrupt);
        return all ? [.. withManifest] : [.. withManifest.Take(1)];
    }

    private static async Task<JsonObject> VerifyStepAsync(
        CommandContext context, CheckpointManager manager, StepInspection inspection, IProgress<TransferProgress>? progress, CancellationToken cancellationToken)
    {
        var what = $"run '{manager.RunId}', scope '{manager.Scope}', step {inspection.Step}";
        var files = new JsonArray();
        var result = new JsonObject { ["scope"] = manager.Scope, ["step"] = inspection.Step, ["state"] = LsCommand.State(inspection.State) };
        string? problem = inspection.State switch
        {
            StepState.Uncommitted => "not committed (no manifest)",
            StepState.Corrupt => inspection.Problem,
            _ => null,
        };
        long bytes = 0;
        if (problem is null)
        {
            try
            {
                var reader = await manager.OpenAsync(inspection.Step, cancellationToken);
                foreach (var file in reader.Manifest!.Files)
                {
                    var fileProblem = await VerifyFileAsync(reader, file, progress, bytes, cancellationToken);
                    bytes += file.Length;
                    files.Add(new JsonObject { ["name"] = file.Name, ["bytes"] = file.Length, ["ok"] = fileProblem is null, ["problem"] = fileProblem });
                    if (fileProblem is not null)
                    {
                        problem ??= fileProblem;
                        context.Console.Error.WriteLine($"konduktor-storage: corrupt: {what}, file '{file.Name}': {ErrorReport.OneLine(fileProblem)}");
                    }
                }
            }
            catch (CheckpointNotFoundException e)
            {
                problem = e.Message;
            }
        }

        if (problem is not null && files.Count == 0)
        {
            context.Console.Error.WriteLine($"konduktor-storage: corrupt: {what}: {ErrorReport.OneLine(problem)}");
        }
        else if (problem is null)
        {
            context.Line($"ok: {what}: {files.Count} files, {Sizes.Bytes(bytes)} verified");
        }

        result["ok"] = problem is null;
        result["bytes"] = bytes;
        result["files"] = files;
        result["problem"] = problem;
        return result;
    }

    /// <summary>Reads one file to its end through its verifying stream; returns what is wrong with it, or <see langword="null"/>.</summary>
    private static async Task<string?> VerifyFileAsync(CheckpointReader reader, ManifestFile file, IProgress<TransferProgress>? progress, long before, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            var stream = await reader.OpenFileAsync(file.Name, cancellationToken);
            await using (stream)
            {
                long read = 0;
                int n;
                while ((n = await stream.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    read += n;
                    progress?.Report(new TransferProgress(reader.Step!.Value, file.Name, read, file.Length, before + read));
                }
            }

            return null;
        }
        catch (CheckpointCorruptException e)
        {
            return e.Message;
        }
        catch (ObjectNotFoundException e)
        {
            return $"file '{file.Name}' ({e.Key}) disappeared while it was read";
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
