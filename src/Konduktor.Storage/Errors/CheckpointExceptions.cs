namespace Konduktor.Storage;

/// <summary>A requested checkpoint does not exist, or no intact checkpoint exists for a scope.</summary>
public sealed class CheckpointNotFoundException : CheckpointStorageException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="location">The store's location.</param>
    /// <param name="run">The run.</param>
    /// <param name="scope">The scope.</param>
    /// <param name="step">The step asked for, or <see langword="null"/> for "the newest".</param>
    /// <param name="detail">Why it was not usable, when it exists but is not intact.</param>
    public CheckpointNotFoundException(Uri location, string run, string scope, long? step, string? detail = null)
        : base($"No {(step is null ? "intact checkpoint" : $"intact checkpoint for step {step}")} in {location} for run '{run}', scope '{scope}'{(detail is null ? "" : $": {detail}")}.")
    {
        Location = location;
        Run = run;
        Scope = scope;
        Step = step;
    }

    /// <summary>The store's location.</summary>
    public Uri Location { get; }

    /// <summary>The run.</summary>
    public string Run { get; }

    /// <summary>The scope.</summary>
    public string Scope { get; }

    /// <summary>The step asked for, or <see langword="null"/> for "the newest".</summary>
    public long? Step { get; }
}

/// <summary>A checkpoint file's bytes differ from what its manifest promises.</summary>
public sealed class CheckpointCorruptException : CheckpointStorageException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="step">The checkpoint's step.</param>
    /// <param name="file">The file's name in the checkpoint.</param>
    /// <param name="expected">What the manifest promises (length or checksum).</param>
    /// <param name="actual">What the store returned.</param>
    /// <param name="innerException">The cause, if any.</param>
    public CheckpointCorruptException(long step, string file, string expected, string actual, Exception? innerException = null)
        : base($"Checkpoint step {step} is corrupt: file '{ObjectKey.Printable(file)}' should have {expected} but has {actual}.", innerException)
    {
        Step = step;
        File = file;
        Expected = expected;
        Actual = actual;
    }

    /// <summary>The checkpoint's step.</summary>
    public long Step { get; }

    /// <summary>The file's name in the checkpoint.</summary>
    public string File { get; }

    /// <summary>What the manifest promises.</summary>
    public string Expected { get; }

    /// <summary>What the store returned.</summary>
    public string Actual { get; }
}

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
