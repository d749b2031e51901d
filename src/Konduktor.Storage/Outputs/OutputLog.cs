using System.Diagnostics.Metrics;

using Microsoft.Extensions.Logging;

namespace Konduktor.Storage;

/// <summary>The output sync's log messages (event ids 2000–2099; docs/architecture.md has the table) and metrics.</summary>
internal static partial class OutputLog
{
    /// <summary>Bytes the output sync sent to the store, by kind of pass.</summary>
    public static readonly Counter<long> BytesWritten =
        StorageTelemetry.Meter.CreateCounter<long>("konduktor.storage.outputs.bytes.written", "By", "Runtime output bytes sent to the store by the output sync.");

    /// <summary>How long each pass of the output sync took, by kind of pass.</summary>
    public static readonly Histogram<double> PassDuration =
        StorageTelemetry.Meter.CreateHistogram<double>("konduktor.storage.outputs.sync.duration", "s", "Time of one output sync pass.");

    [LoggerMessage(2000, LogLevel.Information, "Syncing outputs from {Directory} to {Location} run '{Run}', scope '{Scope}' every {Interval}.")]
    public static partial void Started(ILogger logger, string directory, Uri location, string run, string scope, TimeSpan interval);

    [LoggerMessage(2001, LogLevel.Debug, "Output sync ({Kind}): {Uploaded} file(s) uploaded, {Unchanged} unchanged, {Bytes} bytes sent, {Problems} skipped, in {Seconds:F2} s.")]
    public static partial void Synced(ILogger logger, string kind, int uploaded, int unchanged, long bytes, int problems, double seconds);

    [LoggerMessage(2002, LogLevel.Warning, "Output '{Path}' skipped: {Reason}.")]
    public static partial void FileSkipped(ILogger logger, string path, string reason);

    [LoggerMessage(2003, LogLevel.Warning, "An output sync pass ({Kind}) failed; the next pass tries again.")]
    public static partial void PassFailed(ILogger logger, Exception exception, string kind);

    [LoggerMessage(2004, LogLevel.Debug, "Could not delete the merged output piece '{Key}' (only clutter): {Reason}.")]
    public static partial void PieceNotDeleted(ILogger logger, string key, string reason);

    [LoggerMessage(2005, LogLevel.Information, "Final output sync: {Uploaded} file(s) uploaded, {Bytes} bytes sent, {Problems} skipped.")]
    public static partial void FinalSynced(ILogger logger, int uploaded, long bytes, int problems);
}
