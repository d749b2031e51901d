using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Konduktor.Storage;

/// <summary>
/// The one layer that retries store requests: a Polly pipeline of total timeout → retry (exponential backoff with jitter,
/// honouring <see cref="TransientStoreException.RetryAfter"/>, transient failures only) → attempt timeout.
/// <see cref="ResilientCheckpointStore"/> uses it per operation; stores use it for their own per-part requests.
/// </summary>
/// <remarks>
/// Each retry adds one to the <c>konduktor.storage.retries</c> counter, tagged with the operation and a low-cardinality cause.
/// A failure that is not transient (not found, precondition failed, access denied, bad arguments) is rethrown as it is,
/// after one attempt. The caller's cancellation surfaces at once as <see cref="OperationCanceledException"/>.
/// </remarks>
internal sealed class StoreRetryPolicy
{
    private readonly ResiliencePipeline _retrying;
    private readonly ResiliencePipeline _once;
    private readonly ResiliencePipeline _transfer;
    private readonly ILogger _logger;

    /// <summary>Creates the policy.</summary>
    /// <param name="options">The retry and timeout settings; copied, so later changes have no effect.</param>
    /// <param name="logger">Where retries are logged; none by default.</param>
    /// <param name="timeProvider">The clock for delays and timeouts; the system clock by default.</param>
    /// <exception cref="CheckpointConfigurationException">An option is out of range or contradicts another.</exception>
    public StoreRetryPolicy(ResilienceOptions options, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        ResilienceOptionsValidation.ThrowIfInvalid(options);
        Options = new ResilienceOptions
        {
            MaxRetryAttempts = options.MaxRetryAttempts,
            BaseDelay = options.BaseDelay,
            MaxDelay = options.MaxDelay,
            AttemptTimeout = options.AttemptTimeout,
            TotalTimeout = options.TotalTimeout,
            StallTimeout = options.StallTimeout,
        };
        TimeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _retrying = Build(retry: true, attemptTimeout: true);
        _once = Build(retry: false, attemptTimeout: true);
        _transfer = Build(retry: true, attemptTimeout: false);
    }

    /// <summary>The settings in use.</summary>
    public ResilienceOptions Options { get; }

    internal TimeProvider TimeProvider { get; }

    internal ILogger Logger => _logger;

    /// <summary>Runs <paramref name="action"/>, retrying it on transient failures.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="operation">A short fixed name of the operation (e.g. <c>put-part</c>) for metrics and messages; never a key.</param>
    /// <param name="action">One attempt; it must honour the token it is given, which is cancelled when the attempt times out.</param>
    /// <param name="cancellationToken">Cancels the operation, including any wait between attempts.</param>
    /// <returns>The result of the first attempt that succeeds.</returns>
    /// <exception cref="RetriesExhaustedException">Every attempt failed transiently, or the total timeout passed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task<T> ExecuteAsync<T>(string operation, Func<CancellationToken, Task<T>> action, CancellationToken cancellationToken = default) =>
        RunAsync(_retrying, operation, action, cancellationToken);

    /// <summary>Runs <paramref name="action"/>, retrying it on transient failures.</summary>
    /// <param name="operation">A short fixed name of the operation (e.g. <c>put-part</c>) for metrics and messages; never a key.</param>
    /// <param name="action">One attempt; it must honour the token it is given, which is cancelled when the attempt times out.</param>
    /// <param name="cancellationToken">Cancels the operation, including any wait between attempts.</param>
    /// <exception cref="RetriesExhaustedException">Every attempt failed transiently, or the total timeout passed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task ExecuteAsync(string operation, Func<CancellationToken, Task> action, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(action);
        return RunAsync(_retrying, operation, async ct =>
        {
            await action(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="action"/> once, within the attempt and total timeouts: for work that cannot be replayed.
    /// A transient failure still becomes <see cref="RetriesExhaustedException"/> (with one attempt), so callers see one
    /// exception type for "the store kept failing".
    /// </summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="operation">A short fixed name of the operation for messages; never a key.</param>
    /// <param name="action">The attempt.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <exception cref="RetriesExhaustedException">The attempt failed transiently.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task<T> ExecuteOnceAsync<T>(string operation, Func<CancellationToken, Task<T>> action, CancellationToken cancellationToken = default) =>
        RunAsync(_once, operation, action, cancellationToken);

    /// <summary>Like <see cref="ExecuteAsync{T}"/> but without the attempt timeout: one attempt is a whole transfer of unknown length.</summary>
    internal Task<T> ExecuteTransferAsync<T>(string operation, Func<CancellationToken, Task<T>> action, CancellationToken cancellationToken) =>
        RunAsync(_transfer, operation, action, cancellationToken);

    /// <summary>The delay before resuming after the <paramref name="failure"/>-th failure in a row (from 1): exponential with full jitter, server's Retry-After honoured, capped.</summary>
    internal TimeSpan ResumeDelay(int failure, Exception exception)
    {
        if (exception is TransientStoreException { RetryAfter: { } retryAfter })
        {
            return retryAfter < Options.MaxDelay ? retryAfter : Options.MaxDelay;
        }

        var ceiling = Options.BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failure - 1, 30));
        ceiling = Math.Min(ceiling, Options.MaxDelay.TotalMilliseconds);

        // Half fixed, half random: spreads pods that failed together without ever waiting (almost) nothing.
        return TimeSpan.FromMilliseconds((ceiling / 2) + (Random.Shared.NextDouble() * ceiling / 2));
    }

    /// <summary>
    /// Accounts for the <paramref name="failure"/>-th failure in a row of a resumable transfer: gives up once the failures
    /// exceed <see cref="ResilienceOptions.MaxRetryAttempts"/>, else counts the retry, logs it and waits before the resume.
    /// </summary>
    /// <exception cref="RetriesExhaustedException">Too many failures in a row.</exception>
    internal async Task BackOffAsync(string operation, string cause, long progress, int failure, Exception exception, CancellationToken cancellationToken)
    {
        if (failure > Options.MaxRetryAttempts)
        {
            Log.GaveUp(_logger, operation, failure, cause, exception);
            throw new RetriesExhaustedException(operation, failure, exception);
        }

        var delay = ResumeDelay(failure, exception);
        RecordRetry(operation, cause);
        Log.Resuming(_logger, operation, cause, progress, failure, delay, exception);
        await Task.Delay(delay, TimeProvider, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Counts one retry or resume in the retry metric.</summary>
    internal static void RecordRetry(string operation, string cause) =>
        StorageTelemetry.Retries.Add(1, new KeyValuePair<string, object?>("operation", operation), new KeyValuePair<string, object?>("cause", cause));

    private async Task<T> RunAsync<T>(ResiliencePipeline pipeline, string operation, Func<CancellationToken, Task<T>> action, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(operation);
        ArgumentNullException.ThrowIfNull(action);
        var context = ResilienceContextPool.Shared.Get(operation, continueOnCapturedContext: false, cancellationToken);
        var state = new Attempts<T>(action);
        try
        {
            return await pipeline.ExecuteAsync(
                static async (ctx, s) =>
                {
                    s.Count++;
                    return await s.Action(ctx.CancellationToken).ConfigureAwait(false);
                },
                context,
                state).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && TransientFailure.IsTransient(e, cancellationToken))
        {
            // Out of attempts, or the total timeout (a TimeoutRejectedException from the outer strategy) ended them.
            var attempts = Math.Max(state.Count, 1);
            Log.GaveUp(_logger, operation, attempts, TransientFailure.Cause(e), e);
            throw new RetriesExhaustedException(operation, attempts, e);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private ResiliencePipeline Build(bool retry, bool attemptTimeout)
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = TimeProvider };
        builder.AddTimeout(new TimeoutStrategyOptions { Name = "total", Timeout = Options.TotalTimeout });
        if (retry && Options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                Name = "retry",
                MaxRetryAttempts = Options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = Options.BaseDelay,
                MaxDelay = Options.MaxDelay,

                // The context's token is cancelled by the caller or the total timeout: neither may be retried.
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is { } e && TransientFailure.IsTransient(e, args.Context.CancellationToken)),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(
                    args.Outcome.Exception is TransientStoreException { RetryAfter: { } after }
                        ? (after < Options.MaxDelay ? after : Options.MaxDelay)
                        : null),
                OnRetry = args =>
                {
                    var cause = TransientFailure.Cause(args.Outcome.Exception!);
                    var operation = args.Context.OperationKey ?? "unknown";
                    RecordRetry(operation, cause);
                    Log.Retrying(_logger, operation, cause, args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception!);
                    return default;
                },
            });
        }

        if (attemptTimeout)
        {
            builder.AddTimeout(new TimeoutStrategyOptions { Name = "attempt", Timeout = Options.AttemptTimeout });
        }

        return builder.Build();
    }

    private sealed class Attempts<T>(Func<CancellationToken, Task<T>> action)
    {
        public Func<CancellationToken, Task<T>> Action { get; } = action;

        public int Count { get; set; }
    }
}
