namespace Konduktor.Storage;

/// <summary>Another writer committed this step first; nothing of theirs was overwritten.</summary>
public sealed class CheckpointConflictException : CheckpointStorageException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="step">The contested step.</param>
    /// <param name="winner">The manifest that is committed, or <see langword="null"/> when it could not be read.</param>
    /// <param name="detail">What happened.</param>
    public CheckpointConflictException(long step, CheckpointManifest? winner, string detail)
        : base($"Step {step} was committed by another writer ({Describe(winner)}): {detail}.")
    {
        Step = step;
        Winner = winner;
    }

    /// <summary>The contested step.</summary>
    public long Step { get; }

    /// <summary>The manifest that is committed, or <see langword="null"/> when it could not be read.</summary>
    public CheckpointManifest? Winner { get; }

    private static string Describe(CheckpointManifest? m) => m is null
        ? "its manifest could not be read"
        : $"writer {m.Writer} at {m.CreatedUtc:O}{(m.Job is { } job ? $", restart attempt {job.RestartAttempt}, rank {job.Rank}, host {job.Host ?? "unknown"}" : "")}";
}
