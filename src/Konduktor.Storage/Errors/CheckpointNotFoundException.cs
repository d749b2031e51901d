namespace Konduktor.Storage;

/// <summary>A requested checkpoint does not exist, or no intact checkpoint exists for a scope.</summary>
/// <param name="location">The store's location.</param>
/// <param name="run">The run.</param>
/// <param name="scope">The scope.</param>
/// <param name="step">The step asked for, or <see langword="null"/> for "the newest".</param>
/// <param name="detail">Why it was not usable, when it exists but is not intact.</param>
public sealed class CheckpointNotFoundException(Uri location, string run, string scope, long? step, string? detail = null)
    : CheckpointStorageException(
        $"No {(step is null ? "intact checkpoint" : $"intact checkpoint for step {step}")} in {location} for run '{run}', scope '{scope}'{(detail is null ? "" : $": {detail}")}.")
{
    /// <summary>The store's location.</summary>
    public Uri Location { get; } = location;

    /// <summary>The run.</summary>
    public string Run { get; } = run;

    /// <summary>The scope.</summary>
    public string Scope { get; } = scope;

    /// <summary>The step asked for, or <see langword="null"/> for "the newest".</summary>
    public long? Step { get; } = step;
}
