using Microsoft.Extensions.Diagnostics.Metrics.Testing;

using static Konduktor.Storage.Tests.ResilienceTestSupport;

namespace Konduktor.Storage.Tests;

/// <summary>Runs alone: the retry counter is process-wide, so other tests' retries would be counted too.</summary>
[CollectionDefinition(nameof(RetryMetricGroup), DisableParallelization = true)]
public sealed class RetryMetricGroup;

[Collection(nameof(RetryMetricGroup))]
public sealed class ResilienceRetryPolicyTests
{
    [Fact]
    public async Task ExecuteAsync_TransientFailures_CountsOneRetryPerFailureByOperationAndCause()
    {
        using var retries = new MetricCollector<long>(StorageTelemetry.Retries);
        var policy = new StoreRetryPolicy(Fast());
        var calls = 0;

        var result = await policy.ExecuteAsync("metric-test", ct =>
        {
            calls++;
            return calls <= 2 ? throw Fault("http-503") : Task.FromResult(42);
        });

        Assert.Equal(42, result);
        var mine = retries.GetMeasurementSnapshot().Where(m => Equals(m.Tags["operation"], "metric-test")).ToList();
        Assert.Equal(2, mine.Sum(m => m.Value));
        Assert.All(mine, m => Assert.Equal("server-error", m.Tags["cause"]));
    }

    [Fact]
    public async Task ResilientStore_StalledRead_CountsAStallRetry()
    {
        using var retries = new MetricCollector<long>(StorageTelemetry.Retries);
        var options = Fast();
        options.StallTimeout = TimeSpan.FromSeconds(1);
        var (faults, store) = await CreateAsync(options, ("a", RandomBytes(100_000, 5)));
        faults.StallReadAfter(10_000, 1);

        await ReadAllAsync(await store.OpenReadAsync("a")).WaitAsync(TimeSpan.FromSeconds(20));

        var reads = retries.GetMeasurementSnapshot().Where(m => Equals(m.Tags["operation"], "read")).ToList();
        Assert.NotEmpty(reads);
        Assert.All(reads, m => Assert.Equal("stall", m.Tags["cause"]));
    }

    [Fact]
    public async Task ExecuteAsync_PermanentFailure_RethrowsItWithoutCountingARetry()
    {
        using var retries = new MetricCollector<long>(StorageTelemetry.Retries);
        var policy = new StoreRetryPolicy(Fast());
        var calls = 0;

        await Assert.ThrowsAsync<ObjectNotFoundException>(() => policy.ExecuteAsync("metric-test-permanent", ct =>
        {
            calls++;
            return Task.FromException(Fault("not-found"));
        }));

        Assert.Equal(1, calls);
        Assert.DoesNotContain(retries.GetMeasurementSnapshot(), m => Equals(m.Tags["operation"], "metric-test-permanent"));
    }

    [Fact]
    public async Task ExecuteOnceAsync_TransientFailure_ThrowsRetriesExhaustedAfterOneAttempt()
    {
        var policy = new StoreRetryPolicy(Fast());
        var calls = 0;

        var error = await Assert.ThrowsAsync<RetriesExhaustedException>(() => policy.ExecuteOnceAsync<int>("once", ct =>
        {
            calls++;
            throw Fault("socket");
        }));

        Assert.Equal(1, calls);
        Assert.Equal(1, error.Attempts);
    }
}
