using System.Text.Json.Serialization;

namespace Konduktor.Storage;

/// <summary>
/// The manifest of one checkpoint (<c>step-{step:D12}/manifest.json</c>). Its existence is the commit: a step
/// folder without a valid manifest is not a checkpoint. The JSON shape is a public contract (see the README).
/// </summary>
public sealed class CheckpointManifest
{
    /// <summary>The format this library writes and reads.</summary>
    public const string CurrentFormat = "konduktor-checkpoint/1";

    /// <summary>The manifest format; always <see cref="CurrentFormat"/> for manifests this version accepts.</summary>
    [JsonPropertyName("format")]
    public string Format { get; init; } = CurrentFormat;

    /// <summary>The run (training job across its restarts) the checkpoint belongs to.</summary>
    [JsonPropertyName("run")]
    public required string Run { get; init; }

    /// <summary>The scope (usually the pod's rank, e.g. <c>rank-00000</c>) the checkpoint belongs to.</summary>
    [JsonPropertyName("scope")]
    public required string Scope { get; init; }

    /// <summary>The step; larger is newer.</summary>
    [JsonPropertyName("step")]
    public required long Step { get; init; }

    /// <summary>When the manifest was written (UTC).</summary>
    [JsonPropertyName("createdUtc")]
    public required DateTimeOffset CreatedUtc { get; init; }

    /// <summary>The id of the save attempt that wrote the data; its files live under <c>step-…/{writer}/</c>.</summary>
    [JsonPropertyName("writer")]
    public required string Writer { get; init; }

    /// <summary>Who wrote the checkpoint.</summary>
    [JsonPropertyName("job")]
    public ManifestJob? Job { get; init; }

    /// <summary>The files of the checkpoint.</summary>
    [JsonPropertyName("files")]
    public required IReadOnlyList<ManifestFile> Files { get; init; }

    /// <summary>Small user values: metrics for best-k retention, the epoch, anything small.</summary>
    [JsonPropertyName("metadata")]
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>The total length of the files in bytes.</summary>
    [JsonIgnore]
    public long TotalLength => Files.Sum(f => f.Length);
}

/// <summary>One file of a checkpoint.</summary>
/// <param name="Name">The file's name inside the checkpoint, a relative '/'-separated path (e.g. <c>model/weights.bin</c>).</param>
/// <param name="Key">The object's key relative to the step folder (e.g. <c>a1-5c0e…/model/weights.bin</c>).</param>
/// <param name="Length">The file's full length in bytes.</param>
/// <param name="Checksum">The checksum of the whole content, named by algorithm (<c>xxh128:…</c>).</param>
public sealed record ManifestFile(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("length")] long Length,
    [property: JsonPropertyName("checksum")] string Checksum);

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
