using System.Diagnostics;

using Konduktor.Storage.Testing;

using Microsoft.Extensions.Logging.Testing;

using Polly.Timeout;

using static Konduktor.Storage.Tests.ResilienceTestSupport;

namespace Konduktor.Storage.Tests;

public sealed class ResilientCheckpointStoreTests
{
    private static readonly byte[] Small = RandomBytes(1000, 1);

    [Theory]
    [InlineData("store-503")]
    [InlineData("socket")]
    [InlineData("io-socket")]
    [InlineData("http-body-ended")]
    [InlineData("timeout")]
    [InlineData("http-no-status")]
    [InlineData("http-503")]
    [InlineData("http-429")]
    public async Task Stat_TransientFault_IsRetriedAndSucceeds(string kind)
    {
        var (faults, store) = await CreateAsync(Fast(), ("a", Small));
        faults.FailNext(StoreOperation.Stat, 2, () => Fault(kind));

        var info = await store.StatAsync("a");

        Assert.Equal(1000, info!.Length);
        Assert.Equal(3, faults.CallCount(StoreOperation.Stat));
    }

    [Theory]
    [InlineData("not-found", typeof(ObjectNotFoundException))]
    [InlineData("precondition", typeof(PreconditionFailedException))]
    [InlineData("access-denied", typeof(StoreAccessDeniedException))]
    [InlineData("argument", typeof(ArgumentException))]
    public async Task Stat_PermanentFault_IsNotRetried(string kind, Type expected)
    {
        var (faults, store) = await CreateAsync(Fast(), ("a", Small));
        faults.FailNext(StoreOperation.Stat, 1, () => Fault(kind));

        var error = await Assert.ThrowsAnyAsync<Exception>(() => store.StatAsync("a"));

        Assert.IsType(expected, error);
        Assert.Equal(1, faults.CallCount(StoreOperation.Stat));
    }

    [Fact]
    public async Task Delete_PreconditionFailedFromStore_IsNotRetried()
    {
        var (faults, store) = await CreateAsync(Fast(), ("a", Small));

        await Assert.ThrowsAsync<PreconditionFailedException>(() => store.DeleteAsync("a", ifMatch: "v999"));

        Assert.Equal(1, faults.CallCount(StoreOperation.Delete));
    }

    [Fact]
    public async Task Stat_AlwaysTransient_ThrowsRetriesExhaustedNamingAttemptsAndLastCause()
    {
        var (faults, store) = await CreateAsync(Fast(maxRetryAttempts: 3), ("a", Small));
        faults.FailNext(StoreOperation.Stat, 100, () => new TransientStoreException("503 Slow Down"));

        var error = await Assert.ThrowsAsync<RetriesExhaustedException>(() => store.StatAsync("a"));

        Assert.Equal(4, error.Attempts);
        Assert.Equal("stat", error.Operation);
        Assert.IsType<TransientStoreException>(error.InnerException);
        Assert.Contains("4 attempt", error.Message, StringComparison.Ordinal);
        Assert.Contains("503 Slow Down", error.Message, StringComparison.Ordinal);
        Assert.Equal(4, faults.CallCount(StoreOperation.Stat));
    }

    [Fact]
    public async Task Stat_NoRetriesConfigured_TransientFaultThrowsAfterOneAttempt()
    {
        var (faults, store) = await CreateAsync(Fast(maxRetryAttempts: 0), ("a", Small));
        faults.FailNext(StoreOperation.Stat, 1, () => Fault("socket"));

        var error = await Assert.ThrowsAsync<RetriesExhaustedException>(() => store.StatAsync("a"));

        Assert.Equal(1, error.Attempts);
        Assert.Equal(1, faults.CallCount(StoreOperation.Stat));
    }

    [Fact]
    public async Task Stat_RetryAfter_WaitsTheDelayTheServerAskedFor()
    {
        var memory = new InMemoryCheckpointStore();
        await memory.PutAsync("a", new MemoryStream(Small));
        var faults = new FaultInjectingStore(memory);
        var logger = new FakeLogger();
        var options = Fast();
        options.MaxDelay = TimeSpan.FromSeconds(5);
        var store = new ResilientCheckpointStore(faults, options, logger);
        faults.FailNext(StoreOperation.Stat, 1, () => new TransientStoreException("429", retryAfter: TimeSpan.FromMilliseconds(300)));

        var clock = Stopwatch.StartNew();
        await store.StatAsync("a");

        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(290), $"waited only {clock.Elapsed}");
        var retry = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == 1001);
        Assert.Equal(TimeSpan.FromMilliseconds(300).ToString(), retry.GetStructuredStateValue("Delay"));
        Assert.Equal("throttled", retry.GetStructuredStateValue("Cause"));
    }

    [Fact]
    public async Task Stat_RetryAfterLongerThanMaxDelay_WaitsMaxDelay()
    {
        var memory = new InMemoryCheckpointStore();
        await memory.PutAsync("a", new MemoryStream(Small));
        var faults = new FaultInjectingStore(memory);
        var logger = new FakeLogger();
        var options = Fast();
        options.MaxDelay = TimeSpan.FromMilliseconds(20);
        var store = new ResilientCheckpointStore(faults, options, logger);
        faults.FailNext(StoreOperation.Stat, 1, () => new TransientStoreException("429", retryAfter: TimeSpan.FromHours(1)));

        await store.StatAsync("a").WaitAsync(TimeSpan.FromSeconds(10));

        var retry = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == 1001);
        Assert.Equal(TimeSpan.FromMilliseconds(20).ToString(), retry.GetStructuredStateValue("Delay"));
    }

    [Fact]
    public async Task Stat_CallerCancelsDuringAttempt_StopsWithoutRetry()
    {
        var (faults, store) = await CreateAsync(Fast(), ("a", Small));
        faults.HangNext(StoreOperation.Stat, 1);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.StatAsync("a", cts.Token));

        Assert.Equal(1, faults.CallCount(StoreOperation.Stat));
    }

    [Fact]
    public async Task Stat_CallerCancelsDuringBackoff_StopsWithoutAnotherAttempt()
    {
        var options = Fast();
        options.BaseDelay = TimeSpan.FromSeconds(30);
        options.MaxDelay = TimeSpan.FromSeconds(30);
        var (faults, store) = await CreateAsync(options, ("a", Small));
        using var cts = new CancellationTokenSource();

        // Cancelled once the first attempt has failed, so the cancellation always lands in the 30 s backoff, however slow the machine.
        faults.FailNext(StoreOperation.Stat, 5, () =>
        {
            cts.CancelAfter(TimeSpan.FromMilliseconds(100));
            return Fault("http-503");
        });

        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.StatAsync("a", cts.Token));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Equal(1, faults.CallCount(StoreOperation.Stat));
    }

    [Fact]
    public async Task Stat_AttemptTimesOut_IsRetriedAndSucceeds()
    {
        var options = Fast();
        options.AttemptTimeout = TimeSpan.FromSeconds(1);
        var (faults, store) = await CreateAsync(options, ("a", Small));
        faults.HangNext(StoreOperation.Stat, 2);

        var info = await store.StatAsync("a");

        Assert.NotNull(info);

        // Two hung attempts and the one that answered; a badly loaded machine may time out a healthy attempt too.
        Assert.True(faults.CallCount(StoreOperation.Stat) >= 3, $"{faults.CallCount(StoreOperation.Stat)} stat calls");
    }

    [Fact]
    public async Task Stat_TotalTimeoutPasses_ThrowsRetriesExhaustedBeforeUsingAllAttempts()
    {
        var options = Fast(maxRetryAttempts: 100);
        options.AttemptTimeout = TimeSpan.FromMilliseconds(100);
        options.TotalTimeout = TimeSpan.FromMilliseconds(350);
        var (faults, store) = await CreateAsync(options, ("a", Small));
        faults.HangNext(StoreOperation.Stat, 1000);

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RetriesExhaustedException>(() => store.StatAsync("a"));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.IsType<TimeoutRejectedException>(error.InnerException);
        Assert.InRange(faults.CallCount(StoreOperation.Stat), 1, 10);
    }

    [Fact]
    public async Task OpenWrite_TransientFault_IsRetriedAndWriterWorks()
    {
        var (faults, store) = await CreateAsync(Fast());
        faults.FailNext(StoreOperation.OpenWrite, 2, () => Fault("io-socket"));

        var writer = await store.OpenWriteAsync("w");
        await using (writer)
        {
            await writer.WriteAsync(Small);
            await writer.CompleteAsync();
        }

        Assert.Equal(Small, await ReadAllAsync(await store.OpenReadAsync("w")));
        Assert.Equal(3, faults.CallCount(StoreOperation.OpenWrite));
    }

    [Fact]
    public async Task Put_SeekableContentFailsMidWrite_RewindsAndStoresExactContent()
    {
        var (faults, store) = await CreateAsync(Fast());
        var data = RandomBytes(300_000, 2);
        faults.FailWriteAfter(100_000, 2, () => Fault("io-socket"));
        var content = new MemoryStream(data) { Position = 10 };

        var info = await store.PutAsync("p", content);

        Assert.Equal(data.Length - 10, info.Length);
        Assert.Equal(data[10..], await ReadAllAsync(await store.OpenReadAsync("p")));
        Assert.Equal(3, faults.CallCount(StoreOperation.Put));
    }

    [Fact]
    public async Task Put_NonSeekableContentTransientFault_ThrowsAfterOneAttempt()
    {
        var (faults, store) = await CreateAsync(Fast());
        faults.FailWriteAfter(10, 1, () => Fault("socket"));

        var error = await Assert.ThrowsAsync<RetriesExhaustedException>(() => store.PutAsync("p", new NonSeekableStream(Small)));

        Assert.Equal(1, error.Attempts);
        Assert.Equal(1, faults.CallCount(StoreOperation.Put));
        Assert.Null(await store.StatAsync("p"));
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, false)]
    [InlineData(65_536, false)]
    [InlineData(1_048_583, false)]
    [InlineData(5_242_879, false)]
    [InlineData(0, true)]
    [InlineData(777_777, true)]
    [InlineData(3_145_727, true)]
    public async Task OpenRead_FaultsMidStream_ResumesWithIdenticalBytes(int faultAfter, bool ranged)
    {
        var data = RandomBytes(5 * 1024 * 1024, 3);
        var (faults, store) = await CreateAsync(Fast(), ("big", data));
        ByteRange? range = ranged ? new ByteRange(123_457, 3 * 1024 * 1024) : null;
        var expected = ranged ? data.AsSpan(123_457, 3 * 1024 * 1024).ToArray() : data;

        // Three streams in a row fail at the same distance from their own start, with different transient faults.
        faults.FailReadAfter(faultAfter, 1, () => Fault("io-socket"));
        faults.FailReadAfter(faultAfter, 1, () => Fault("store-503"));
        faults.FailReadAfter(faultAfter, 1, () => Fault("http-no-status"));

        var stream = await store.OpenReadAsync("big", range);
        var read = await ReadAllAsync(stream);

        Assert.Equal(expected.Length, read.Length);
        Assert.True(expected.AsSpan().SequenceEqual(read), "the resumed bytes differ");
        Assert.Equal(ExpectedOpens(faultAfter, expected.Length, ranged), faults.CallCount(StoreOperation.OpenRead));
    }

    [Fact]
    public async Task OpenRead_BodyEndsBeforeItsContentLength_ResumesWithIdenticalBytes()
    {
        var data = RandomBytes(2 * 1024 * 1024, 4);
        var (faults, store) = await CreateAsync(Fast(), ("big", data));

        // What HttpClient throws when a server (or a proxy) closes the connection before the promised length.
        faults.FailReadAfter(100_000, 1, () => Fault("http-body-ended"));

        var read = await ReadAllAsync(await store.OpenReadAsync("big"));

        Assert.True(data.AsSpan().SequenceEqual(read), "the resumed bytes differ");
        Assert.Equal(2, faults.CallCount(StoreOperation.OpenRead));
    }

    [Fact]
    public async Task OpenRead_StreamStalls_IsDetectedAndResumed()
    {
        var options = Fast();
        options.StallTimeout = TimeSpan.FromSeconds(1);
        var data = RandomBytes(2 * 1024 * 1024, 4);
        var (faults, store) = await CreateAsync(options, ("big", data));
        faults.StallReadAfter(1024 * 1024, 1);

        // Without stall detection the read would hang and the wait would fail.
        var read = await ReadAllAsync(await store.OpenReadAsync("big")).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.True(data.AsSpan().SequenceEqual(read), "the resumed bytes differ");

        // The stalled open and the resumed one; a badly loaded machine may see a healthy read as stalled too.
        Assert.True(faults.CallCount(StoreOperation.OpenRead) >= 2, $"{faults.CallCount(StoreOperation.OpenRead)} opens");
    }

    [Fact]
    public async Task OpenRead_FailsWithoutProgressEveryTime_ThrowsRetriesExhausted()
    {
        var (faults, store) = await CreateAsync(Fast(maxRetryAttempts: 3), ("big", Small));
        faults.FailReadAfter(100, 1, () => Fault("socket"));
        faults.FailReadAfter(0, 100, () => Fault("socket"));
        var stream = await store.OpenReadAsync("big");

        var error = await Assert.ThrowsAsync<RetriesExhaustedException>(() => ReadAllAsync(stream));

        // One failure after progress, then three without: the fourth in a row exceeds the three retries.
        Assert.Equal(4, error.Attempts);
        Assert.Equal(4, faults.CallCount(StoreOperation.OpenRead));
    }

    [Fact]
    public async Task OpenRead_PermanentFaultMidStream_IsNotResumed()
    {
        var (faults, store) = await CreateAsync(Fast(), ("big", Small));
        faults.FailReadAfter(100, 1, () => Fault("access-denied"));
        var stream = await store.OpenReadAsync("big");

        await Assert.ThrowsAsync<StoreAccessDeniedException>(() => ReadAllAsync(stream));

        Assert.Equal(1, faults.CallCount(StoreOperation.OpenRead));
    }

    [Fact]
    public async Task OpenRead_MissingObject_ThrowsNotFoundAfterOneAttempt()
    {
        var (faults, store) = await CreateAsync(Fast());

        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.OpenReadAsync("missing"));

        Assert.Equal(1, faults.CallCount(StoreOperation.OpenRead));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("/")]
    public async Task List_FaultsMidListing_ResumesWithoutDuplicatesOrLosses(string? delimiter)
    {
        var objects = Enumerable.Range(0, 60).Select(i => ($"run/{(char)('a' + (i % 6))}/{i:D3}", Small)).Append(("run/top", Small)).ToArray();
        var (faults, store) = await CreateAsync(Fast(), objects);
        var options = new ListOptions { PageSize = 7, Delimiter = delimiter };
        var expected = await faults.ListAsync("run/", options).Select(e => e.Key).ToListAsync();
        faults.Reset();
        faults.FailListAfter(expected.Count / 3, 1, () => Fault("io-socket"));
        faults.FailListAfter(0, 1, () => Fault("http-503"));
        faults.FailListAfter(2 * expected.Count / 3, 1, () => Fault("store-503"));

        var listed = await store.ListAsync("run/", options).Select(e => e.Key).ToListAsync();

        Assert.Equal(expected, listed);
        Assert.Equal(4, faults.CallCount(StoreOperation.List));
    }

    [Fact]
    public async Task List_AlwaysFailing_ThrowsRetriesExhaustedAfterMaxAttempts()
    {
        var (faults, store) = await CreateAsync(Fast(maxRetryAttempts: 2), ("run/a", Small));
        faults.FailNext(StoreOperation.List, 100, () => Fault("timeout"));

        var error = await Assert.ThrowsAsync<RetriesExhaustedException>(() => store.ListAsync("run/").ToListAsync().AsTask());

        Assert.Equal(3, error.Attempts);
        Assert.Equal(3, faults.CallCount(StoreOperation.List));
    }

    [Fact]
    public async Task List_PageHangs_TimesOutAndRestarts()
    {
        var options = Fast();
        options.AttemptTimeout = TimeSpan.FromSeconds(1);
        var (faults, store) = await CreateAsync(options, ("run/a", Small), ("run/b", Small));
        faults.HangNext(StoreOperation.List, 1);

        // Without the timeout and the restart, the hanging page would never end and the wait would fail.
        var listed = await store.ListAsync("run/").Select(e => e.Key).ToListAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(["run/a", "run/b"], listed);

        // The hung attempt and the one that finished; a badly loaded machine may time out a healthy attempt too.
        Assert.True(faults.CallCount(StoreOperation.List) >= 2, $"{faults.CallCount(StoreOperation.List)} list calls");
    }

    [Fact]
    public void Constructor_InvalidOptions_ThrowsConfigurationException()
    {
        var options = Fast();
        options.MaxRetryAttempts = -1;

        var error = Assert.Throws<CheckpointConfigurationException>(() => new ResilientCheckpointStore(new InMemoryCheckpointStore(), options));

        Assert.Equal("Konduktor:Checkpoints:Resilience:MaxRetryAttempts", error.Key);
        Assert.Equal("-1", error.Value);
    }

    /// <summary>Each scripted stream fails only if it still has more than the fault offset to deliver (an unranged one also fails at its very end).</summary>
    private static int ExpectedOpens(int faultAfter, int length, bool ranged)
    {
        var opens = 1;
        var remaining = length;
        for (var i = 0; i < 3 && (faultAfter < remaining || (!ranged && faultAfter == remaining)); i++)
        {
            remaining -= faultAfter;
            opens++;
        }

        return opens;
    }

    private sealed class NonSeekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
