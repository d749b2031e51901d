namespace Konduktor.Storage;

/// <summary>A checkpoint a restore passed over, and why. It is never deleted for that.</summary>
/// <param name="Step">The step.</param>
/// <param name="Reason">Why it was skipped.</param>
/// <param name="Detail">What exactly was wrong (which file, expected vs actual).</param>
public sealed record SkippedCheckpoint(long Step, SkipReason Reason, string Detail);
