namespace Konduktor.Storage;

/// <summary>What a drain (with or without an emergency save) achieved within the shutdown budget.</summary>
public sealed class ShutdownResult
{
    internal ShutdownResult(long? emergencyStep, bool emergencySaved, IReadOnlyList<long> abandonedSteps, IReadOnlyList<BackgroundSaveException> failures, long? newestDurableStep)
    {
        EmergencyStep = emergencyStep;
        EmergencySaved = emergencySaved;
        AbandonedSteps = abandonedSteps;
        Failures = failures;
        NewestDurableStep = newestDurableStep;
    }

    /// <summary>The step an emergency save was made of; <see langword="null"/> when none was needed or asked for.</summary>
    public long? EmergencyStep { get; }

    /// <summary>Whether the emergency save of <see cref="EmergencyStep"/> was committed.</summary>
    public bool EmergencySaved { get; }

    /// <summary>Steps whose saves could not finish within the budget and were abandoned without a commit.</summary>
    public IReadOnlyList<long> AbandonedSteps { get; }

    /// <summary>Background saves that failed (each logged and reported here instead of thrown).</summary>
    public IReadOnlyList<BackgroundSaveException> Failures { get; }

    /// <summary>The newest step the saver committed; <see langword="null"/> when it committed none.</summary>
    public long? NewestDurableStep { get; }

    /// <summary>Whether everything handed over was committed: nothing abandoned, nothing failed.</summary>
    public bool Completed => AbandonedSteps.Count == 0 && Failures.Count == 0 && (EmergencyStep is null || EmergencySaved);
}
