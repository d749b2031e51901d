using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Konduktor.Storage;

/// <summary>
/// The library's <see cref="Meter"/> and <see cref="ActivitySource"/>, both named <c>Konduktor.Storage</c>.
/// Tags are low-cardinality only: operation, outcome, cause, store scheme — never keys, names or secrets.
/// </summary>
public static class StorageTelemetry
{
    /// <summary>The name of the meter and the activity source.</summary>
    public const string Name = "Konduktor.Storage";

    internal static readonly ActivitySource ActivitySource = new(Name);

    internal static readonly Meter Meter = new(Name);

    // The instruments, all on the one meter: checkpoints, then background saves (by outcome), then the output sync (by kind of pass).

    internal static readonly Histogram<double> SaveDuration =
        Meter.CreateHistogram<double>("konduktor.storage.save.duration", "s", "Time to save and commit one checkpoint.");

    internal static readonly Histogram<double> RestoreDuration =
        Meter.CreateHistogram<double>("konduktor.storage.restore.duration", "s", "Time to find, verify and restore one checkpoint.");

    internal static readonly Counter<long> BytesWritten =
        Meter.CreateCounter<long>("konduktor.storage.bytes.written", "By", "Checkpoint bytes written to the store.");

    internal static readonly Counter<long> BytesRead =
        Meter.CreateCounter<long>("konduktor.storage.bytes.read", "By", "Checkpoint bytes read from the store and verified.");

    internal static readonly Counter<long> Retries =
        Meter.CreateCounter<long>("konduktor.storage.retries", "{retry}", "Store operations retried after a transient failure, by cause.");

    internal static readonly Counter<long> Fallbacks =
        Meter.CreateCounter<long>("konduktor.storage.restore.fallbacks", "{checkpoint}", "Checkpoints skipped by a restore, by reason.");

    internal static readonly Counter<long> Conflicts =
        Meter.CreateCounter<long>("konduktor.storage.save.conflicts", "{conflict}", "Saves that lost a commit race to another writer.");

    internal static readonly Histogram<double> BackgroundBlocked =
        Meter.CreateHistogram<double>("konduktor.storage.background.blocked", "s", "Time the caller was blocked by one background save: waiting for a slot and capturing.");

    internal static readonly Histogram<double> BackgroundNotDurable =
        Meter.CreateHistogram<double>("konduktor.storage.background.not_durable", "s", "Time a background save's step was captured but not yet durable (committed).");

    internal static readonly Counter<long> BackgroundFailures =
        Meter.CreateCounter<long>("konduktor.storage.background.failures", "{save}", "Background saves that failed or were abandoned, by outcome.");

    internal static readonly Counter<long> OutputBytesWritten =
        Meter.CreateCounter<long>("konduktor.storage.outputs.bytes.written", "By", "Runtime output bytes sent to the store by the output sync.");

    internal static readonly Histogram<double> OutputPassDuration =
        Meter.CreateHistogram<double>("konduktor.storage.outputs.sync.duration", "s", "Time of one output sync pass.");
}
