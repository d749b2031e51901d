namespace Konduktor.Storage;

/// <summary>
/// A background save failed after its content was captured: thrown by the next save, by
/// <see cref="BackgroundCheckpointSaver.FlushAsync"/> and <see cref="BackgroundCheckpointSaver.DisposeAsync"/>, and by the
/// save's <see cref="BackgroundSave.Durable"/> task. Nothing of that step was committed; earlier commits are untouched.
/// </summary>
public sealed class BackgroundSaveException : CheckpointStorageException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="step">The step whose save failed.</param>
    /// <param name="innerException">The cause.</param>
    public BackgroundSaveException(long step, Exception innerException)
        : base($"The background save of step {step} failed and was not committed: {innerException?.GetType().Name}: {innerException?.Message}", innerException)
    {
        Step = step;
    }

    /// <summary>The step whose save failed.</summary>
    public long Step { get; }
}
