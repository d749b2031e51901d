using System.Diagnostics.Metrics;

namespace Konduktor.Storage;

/// <summary>The background saves' instruments, on the library's meter (<see cref="StorageTelemetry.Name"/>).</summary>
internal static class BackgroundTelemetry
{
    internal static readonly Histogram<double> Blocked = StorageTelemetry.Meter.CreateHistogram<double>(
        "konduktor.storage.background.blocked", "s", "Time the caller was blocked by one background save: waiting for a slot and capturing.");

    internal static readonly Histogram<double> NotDurable = StorageTelemetry.Meter.CreateHistogram<double>(
        "konduktor.storage.background.not_durable", "s", "Time a background save's step was captured but not yet durable (committed).");

    internal static readonly Counter<long> Failures = StorageTelemetry.Meter.CreateCounter<long>(
        "konduktor.storage.background.failures", "{save}", "Background saves that failed or were abandoned, by outcome.");
}
