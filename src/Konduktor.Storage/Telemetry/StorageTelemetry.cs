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
}
