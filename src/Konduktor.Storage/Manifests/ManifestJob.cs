using System.Text.Json.Serialization;

namespace Konduktor.Storage;

/// <summary>Who wrote a checkpoint, from the <see cref="JobContext"/> of the writing pod.</summary>
/// <param name="RestartAttempt">Konduktor's restart attempt.</param>
/// <param name="Rank">The pod's rank.</param>
/// <param name="Nodes">The job's node count.</param>
/// <param name="Host">The writing host's name.</param>
public sealed record ManifestJob(
    [property: JsonPropertyName("restartAttempt")] int RestartAttempt,
    [property: JsonPropertyName("rank")] int Rank,
    [property: JsonPropertyName("nodes")] int Nodes,
    [property: JsonPropertyName("host")] string? Host);

[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CheckpointManifest))]
internal sealed partial class ManifestJsonContext : JsonSerializerContext;
