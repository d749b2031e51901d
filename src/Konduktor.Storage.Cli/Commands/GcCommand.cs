using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace Konduktor.Storage.Cli;

/// <summary>
/// <c>gc LOCATION --run RUN [--grace-period D] [--dry-run]</c>: deletes writer folders no manifest points at (abandoned
/// saves) once older than the grace period, and aborts stale interrupted uploads, in each scope of the run.
/// </summary>
internal static partial class GcCommand
{
    public static Command Create(CliConsole console, GlobalOptions global)
    {
        var options = new RunOptions();
        var grace = new Option<TimeSpan?>("--grace-period")
        {
            Description = "Leave data younger than this alone: 0, 90s, 30m, 2h, 1d. Default: Konduktor:Checkpoints:GarbageGracePeriod (1 hour).",
            CustomParser = ParseDuration,
        };
        var command = options.Command("gc", "Garbage collection: delete data of saves that never committed, older than the grace period (--dry-run lists it).", step: false);
        command.Options.Add(grace);
        RunCall.SetPerScopeAction(command, options, console, global, async (call, scope, dry) =>
        {
            var result = await call.Session.Manager(call.Run, scope).CollectGarbageAsync(dry, call.Parse.GetValue(grace), call.CancellationToken);
            var verb = dry ? "would delete" : "deleted";
            foreach (var item in result.Objects)
            {
                call.Context.Line($"{verb} {item.Key} ({Sizes.Bytes(item.Length)}, written {Sizes.Time(item.LastModified)})");
            }

            foreach (var upload in result.PendingUploads)
            {
                call.Context.Line($"{(dry ? "would abort" : "aborted")} upload {upload.Key} (started {Sizes.Time(upload.Started)})");
            }

            call.Context.Line($"{verb} {result.Objects.Count} objects, {Sizes.Bytes(result.Bytes)}, in run '{call.Run}', scope '{scope}'");
            return new JsonObject
            {
                ["scope"] = scope,
                ["objects"] = new JsonArray([.. result.Objects.Select(o => (JsonNode)new JsonObject
                {
                    ["key"] = o.Key, ["bytes"] = o.Length, ["lastModifiedUtc"] = o.LastModified.UtcDateTime,
                })]),
                ["bytes"] = result.Bytes,
                ["pendingUploads"] = new JsonArray([.. result.PendingUploads.Select(u => (JsonNode)new JsonObject
                {
                    ["key"] = u.Key, ["startedUtc"] = u.Started.UtcDateTime,
                })]),
            };
        });
        return command;
    }

    /// <summary>A duration: a number with s, m, h or d (a bare number is seconds), or a .NET time span (01:30:00).</summary>
    private static TimeSpan? ParseDuration(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value.Trim() : string.Empty;
        var match = Duration().Match(text);
        if (match.Success)
        {
            var value = double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
            return match.Groups["unit"].Value switch
            {
                "m" => TimeSpan.FromMinutes(value),
                "h" => TimeSpan.FromHours(value),
                "d" => TimeSpan.FromDays(value),
                _ => TimeSpan.FromSeconds(value),
            };
        }

        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.Zero)
        {
            return span;
        }

        result.AddError($"--grace-period '{text}' is not a duration: write 0, 90s, 30m, 2h, 1d or 01:30:00.");
        return null;
    }

    [GeneratedRegex(@"^(?<value>\d+(\.\d+)?)(?<unit>[smhd]?)$", RegexOptions.CultureInvariant)]
    private static partial Regex Duration();
}
