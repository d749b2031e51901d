using Microsoft.Extensions.Logging;

namespace Konduktor.Storage;

/// <remarks>Background saves and shutdown: event ids 1900–1949.</remarks>
internal static partial class Log
{
    [LoggerMessage(1900, LogLevel.Debug, "Step {Step} captured for a background save ({Bytes} bytes, {MemoryBytes} in memory) after {BlockedSeconds:F3} s blocked.")]
    public static partial void Captured(ILogger logger, long step, long bytes, long memoryBytes, double blockedSeconds);

    [LoggerMessage(1901, LogLevel.Information, "Background save of step {Step} is durable after {Seconds:F2} s.")]
    public static partial void Durable(ILogger logger, long step, double seconds);

    [LoggerMessage(1902, LogLevel.Error, "Background save of step {Step} failed; nothing of it was committed, and the next save or flush reports it.")]
    public static partial void Failed(ILogger logger, Exception exception, long step);

    [LoggerMessage(1903, LogLevel.Warning, "Background save of step {Step} abandoned without a commit: {Reason}. The newest committed step stays the resume point.")]
    public static partial void Abandoned(ILogger logger, long step, string reason);

    [LoggerMessage(1910, LogLevel.Information, "Shutdown: draining {Count} background save(s) within {BudgetSeconds:F1} s.")]
    public static partial void Draining(ILogger logger, int count, double budgetSeconds);

    [LoggerMessage(1911, LogLevel.Information, "Shutdown: emergency save of step {Step} within {BudgetSeconds:F1} s.")]
    public static partial void EmergencySave(ILogger logger, long step, double budgetSeconds);

    [LoggerMessage(1912, LogLevel.Information, "Shutdown: no emergency save of step {Step}: step {Newest} is already saved or being saved.")]
    public static partial void EmergencySaveSkipped(ILogger logger, long step, long newest);

    [LoggerMessage(1913, LogLevel.Information, "Shutdown: a stop began ({Reason}); the grace period ends in {BudgetSeconds:F1} s.")]
    public static partial void StopBegan(ILogger logger, string reason, double budgetSeconds);
}
