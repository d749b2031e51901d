using System.Text.Json.Serialization;

namespace Konduktor.Storage;

/// <summary>
/// The commit of one step of a collective checkpoint: <c>{run}/job/step-{N:D12}/manifest.json</c>, written create-only by
/// rank 0 once every rank's part is committed and valid. It lists exactly one part per rank; no step commit means no
/// checkpoint, whatever parts exist.
/// </summary>
public sealed class StepCommit
{
    /// <summary>The format this version writes and reads.</summary>
    public const string CurrentFormat = "konduktor-step/1";

    /// <summary>The format, <see cref="CurrentFormat"/>.</summary>
    [JsonPropertyName("format")]
    public string Format { get; init; } = CurrentFormat;

    /// <summary>The run.</summary>
    [JsonPropertyName("run")]
    public required string Run { get; init; }

    /// <summary>The step.</summary>
    [JsonPropertyName("step")]
    public required long Step { get; init; }

    /// <summary>How many ranks the job had (<c>NUM_NODES</c>): the number of parts.</summary>
    [JsonPropertyName("nodes")]
    public required int Nodes { get; init; }

    /// <summary>This commit's id, unique per commit; verdicts on the step name it.</summary>
    [JsonPropertyName("commit")]
    public required string Id { get; init; }

    /// <summary>When rank 0 committed the step.</summary>
    [JsonPropertyName("createdUtc")]
    public required DateTimeOffset CreatedUtc { get; init; }

    /// <summary>The restart attempt that committed the step.</summary>
    [JsonPropertyName("restartAttempt")]
    public required int RestartAttempt { get; init; }

    /// <summary>The parts, one per rank, in rank order.</summary>
    [JsonPropertyName("parts")]
    public required IReadOnlyList<StepCommitPart> Parts { get; init; }
}

/// <summary>One rank's part as its step commit lists it.</summary>
/// <param name="Rank">The rank.</param>
/// <param name="Key">The part manifest's key, relative to the step folder (<c>rank-00001/manifest.json</c>).</param>
/// <param name="Length">The part manifest's length in bytes.</param>
/// <param name="Checksum">The part manifest's checksum (<c>xxh128:…</c>).</param>
/// <param name="Writer">The writer id of the part's save.</param>
public sealed record StepCommitPart(
    [property: JsonPropertyName("rank")] int Rank,
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("length")] long Length,
    [property: JsonPropertyName("checksum")] string Checksum,
    [property: JsonPropertyName("writer")] string Writer);

/// <summary>
/// A rank's answer on the step it restored: <see cref="Intact"/> false is a permanent verdict (the rank found its part
/// corrupt), true says that rank restored the step in <see cref="RestartAttempt"/>.
/// </summary>
internal sealed record RankVerdict(
    [property: JsonPropertyName("rank")] int Rank,
    [property: JsonPropertyName("intact")] bool Intact,
    [property: JsonPropertyName("restartAttempt")] int RestartAttempt,
    [property: JsonPropertyName("createdUtc")] DateTimeOffset CreatedUtc,
    [property: JsonPropertyName("detail")] string? Detail,
    [property: JsonPropertyName("host")] string? Host);
