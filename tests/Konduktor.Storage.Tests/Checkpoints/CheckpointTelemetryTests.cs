using Microsoft.Extensions.Diagnostics.Metrics.Testing;

using static Konduktor.Storage.Tests.CheckpointTestKit;

namespace Konduktor.Storage.Tests;

/// <summary>The manager's metrics. Instruments are process-wide, so these run alone (see <see cref="RetryMetricGroup"/>).</summary>
[Collection(nameof(RetryMetricGroup))]
public sealed class CheckpointTelemetryTests
{
    [Fact]
    public async Task SaveAndRestore_RecordBytesDurationsAndFallbacksWithLowCardinalityTags()
    {
        using var written = new MetricCollector<long>(StorageTelemetry.BytesWritten);
        using var read = new MetricCollector<long>(StorageTelemetry.BytesRead);
        using var fallbacks = new MetricCollector<long>(StorageTelemetry.Fallbacks);
        using var saves = new MetricCollector<double>(StorageTelemetry.SaveDuration);
        using var restores = new MetricCollector<double>(StorageTelemetry.RestoreDuration);
        var store = new InMemoryCheckpointStore();
        var manager = Manager(store);
        await manager.SaveAsync(1, ("m.bin", Bytes(1000, 1)));
        var bad = await manager.SaveAsync(2, ("m.bin", Bytes(2000, 2)));
        await store.FlipByteAsync(DataKey(manager, bad, "m.bin"), 0);

        await manager.RestoreLatestAsync(TempDirectory());

        Assert.Equal(3000, written.GetMeasurementSnapshot().EvaluateAsCounter());
        // The corrupt step's bytes were read before its checksum failed; the restored step's all were.
        Assert.InRange(read.GetMeasurementSnapshot().EvaluateAsCounter(), 1000, 3000);
        var fallback = Assert.Single(fallbacks.GetMeasurementSnapshot());
        Assert.Equal("ChecksumMismatch", fallback.Tags["reason"]);
        Assert.Equal(2, saves.GetMeasurementSnapshot().Count(m => Equals(m.Tags["outcome"], "committed")));
        Assert.Equal("restored", Assert.Single(restores.GetMeasurementSnapshot()).Tags["outcome"]);
    }

    [Fact]
    public async Task Conflict_IsCounted()
    {
        using var conflicts = new MetricCollector<long>(StorageTelemetry.Conflicts);
        var store = new InMemoryCheckpointStore();
        await Manager(store).SaveAsync(1, ("m.bin", Bytes(1, 1)));

        await Assert.ThrowsAsync<CheckpointConflictException>(() => Manager(store).SaveAsync(1, ("m.bin", Bytes(1, 2))));

        Assert.Equal(1, conflicts.GetMeasurementSnapshot().EvaluateAsCounter());
    }
}
