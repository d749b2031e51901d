using Microsoft.Extensions.Logging;

namespace Konduktor.Storage;

/// <summary>The resilience layer's log messages.</summary>
internal static partial class ResilienceLog
{
    [LoggerMessage(1001, LogLevel.Warning, "Store operation {Operation} failed ({Cause}) on attempt {Attempt}; retrying in {Delay}.")]
    public static partial void Retrying(ILogger logger, string operation, string cause, int attempt, TimeSpan delay, Exception exception);

    [LoggerMessage(1002, LogLevel.Warning, "Store operation {Operation} failed ({Cause}) after {Progress} item(s); resuming (failure {Failure} since the last progress) in {Delay}.")]
    public static partial void Resuming(ILogger logger, string operation, string cause, long progress, int failure, TimeSpan delay, Exception exception);

    [LoggerMessage(1003, LogLevel.Error, "Store operation {Operation} gave up after {Attempts} attempt(s); last cause {Cause}.")]
    public static partial void GaveUp(ILogger logger, string operation, int attempts, string cause, Exception exception);
}
