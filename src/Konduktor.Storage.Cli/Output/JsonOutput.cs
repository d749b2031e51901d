using System.Text.Json;

namespace Konduktor.Storage.Cli;

/// <summary>
/// The <c>--json</c> documents. Field names are camelCase and stable (the README lists them); times are ISO 8601 UTC;
/// sizes are bytes.
/// </summary>
internal static class JsonOutput
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Writes one document to stdout.</summary>
    public static void Write(CliConsole console, JsonObject document) => console.Out.WriteLine(document.ToJsonString(Indented));

    /// <summary>A manifest as JSON (the fields of the manifest format).</summary>
    public static JsonObject Manifest(CheckpointManifest manifest) => new()
    {
        ["format"] = manifest.Format,
        ["run"] = manifest.Run,
        ["scope"] = manifest.Scope,
        ["step"] = manifest.Step,
        ["createdUtc"] = manifest.CreatedUtc.UtcDateTime,
        ["writer"] = manifest.Writer,
        ["job"] = manifest.Job is { } job
            ? new JsonObject { ["restartAttempt"] = job.RestartAttempt, ["rank"] = job.Rank, ["nodes"] = job.Nodes, ["host"] = job.Host }
            : null,
        ["files"] = new JsonArray([.. manifest.Files.Select(f => (JsonNode)new JsonObject
        {
            ["name"] = f.Name, ["key"] = f.Key, ["length"] = f.Length, ["checksum"] = f.Checksum,
        })]),
        ["bytes"] = manifest.TotalLength,
        ["metadata"] = Metadata(manifest.Metadata),
    };

    /// <summary>Metadata as a JSON object, in ordinal key order.</summary>
    public static JsonObject Metadata(IReadOnlyDictionary<string, string>? metadata)
    {
        var result = new JsonObject();
        foreach (var (key, value) in (metadata ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            result[key] = value;
        }

        return result;
    }

    /// <summary>Steps as a JSON array.</summary>
    public static JsonArray Steps(IEnumerable<long> steps) => new([.. steps.Select(s => (JsonNode)s)]);
}
