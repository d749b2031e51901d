using System.Runtime.InteropServices;

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Konduktor.Storage;

/// <summary>
/// A stopping pod's last checkpoint work, within the grace period between SIGTERM and SIGKILL: an emergency save of the
/// step just finished, then a drain of every background save in flight. What cannot finish by
/// <see cref="ShutdownOptions.GracePeriod"/> minus <see cref="ShutdownOptions.Margin"/> after the stop began is abandoned
/// without a commit, so the previous committed step stays the newest.
/// </summary>
/// <remarks>
/// Under the Generic Host, <c>AddBackgroundSaves()</c> registers it and starts the clock when the host stops. Without the
/// host, call <see cref="HandleSignals"/> once at start-up: SIGTERM and SIGINT then start the clock and cancel
/// <see cref="Stopping"/> instead of killing the process.
/// </remarks>
public sealed class CheckpointShutdown : IDisposable
{
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private DateTimeOffset? _deadline;

    /// <summary>Creates the shutdown coordinator of <paramref name="saver"/>.</summary>
    /// <param name="saver">The background saver to drain and to make the emergency save with.</param>
    /// <param name="options">The grace period and margin; defaults when <see langword="null"/>.</param>
    /// <param name="logger">Where to log; nowhere when <see langword="null"/>.</param>
    /// <param name="timeProvider">The clock; the system clock when <see langword="null"/>.</param>
    /// <exception cref="CheckpointConfigurationException">The options are invalid.</exception>
    public CheckpointShutdown(BackgroundCheckpointSaver saver, ShutdownOptions? options = null, ILogger<CheckpointShutdown>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(saver);
        Saver = saver;
        Options = options ?? new ShutdownOptions();
        BackgroundSavesValidator.ThrowIfInvalid(Options);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The saver drained and used for the emergency save.</summary>
    public BackgroundCheckpointSaver Saver { get; }

    /// <summary>The options in force.</summary>
    public ShutdownOptions Options { get; }

    /// <summary>Cancelled when a stop begins (SIGTERM, SIGINT, the host stopping, or <see cref="BeginStop"/>).</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Whether a stop has begun.</summary>
    public bool IsStopping => _stopping.IsCancellationRequested;

    /// <summary>
    /// The time left for saving and draining: until the grace period minus the margin after the stop began, or the whole
    /// budget when no stop has begun.
    /// </summary>
    public TimeSpan Remaining
    {
        get
        {
            lock (_gate)
            {
                return _deadline is { } deadline ? Max(deadline - _time.GetUtcNow(), TimeSpan.Zero) : Options.Budget;
            }
        }
    }

    /// <summary>Starts the shutdown clock and cancels <see cref="Stopping"/>; later calls do nothing.</summary>
    /// <param name="reason">Why, for the log.</param>
    public void BeginStop(string reason = "requested")
    {
        lock (_gate)
        {
            if (_deadline is not null)
            {
                return;
            }

            _deadline = _time.GetUtcNow() + Options.Budget;
        }

        Log.StopBegan(_logger, reason, Options.Budget.TotalSeconds);
        _stopping.Cancel();
    }

    /// <summary>
    /// For programs without the Generic Host: from now on SIGTERM and SIGINT start the shutdown clock and cancel
    /// <see cref="Stopping"/> instead of ending the process, so the program can finish its step, call
    /// <see cref="SaveAndDrainAsync"/> and exit (non-zero, e.g. 143, when it stopped before finishing). Dispose the result
    /// to restore the default behaviour.
    /// </summary>
    /// <returns>The signal registrations.</returns>
    public IDisposable HandleSignals()
    {
        var registrations = new List<PosixSignalRegistration>();
        foreach (var signal in (ReadOnlySpan<PosixSignal>)[PosixSignal.SIGTERM, PosixSignal.SIGINT])
        {
            registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                BeginStop(context.Signal.ToString());
            }));
        }

        return new Registrations(registrations);
    }

    /// <summary>
    /// Makes an emergency save of <paramref name="step"/> — unless a save of it or of a newer step was already handed over
    /// or restored — then drains every save in flight, all within <see cref="Remaining"/>. A save that cannot finish in
    /// time is abandoned without a commit and says so in the log. Failures are reported in the result, not thrown.
    /// Starts the shutdown clock if no stop has begun.
    /// </summary>
    /// <param name="step">The step just finished.</param>
    /// <param name="capture">Adds the step's files to the save it is given (as for <see cref="BackgroundSave"/>).</param>
    /// <param name="metadata">Small user values for the manifest.</param>
    /// <param name="cancellationToken">Gives up early: what is not committed is abandoned.</param>
    /// <returns>What was saved, abandoned or failed, and the newest committed step.</returns>
    public async Task<ShutdownResult> SaveAndDrainAsync(
        long step, Func<BackgroundSave, CancellationToken, Task> capture, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentNullException.ThrowIfNull(capture);
        return await RunAsync(step, capture, metadata, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Drains every save in flight within <see cref="Remaining"/>, abandoning what cannot finish in time.</summary>
    /// <param name="cancellationToken">Gives up early: what is not committed is abandoned.</param>
    /// <returns>What was abandoned or failed, and the newest committed step.</returns>
    public Task<ShutdownResult> DrainAsync(CancellationToken cancellationToken = default) => RunAsync(null, null, null, cancellationToken);

    /// <summary>Releases the stopping signal.</summary>
    public void Dispose() => _stopping.Dispose();

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private async Task<ShutdownResult> RunAsync(
        long? step, Func<BackgroundSave, CancellationToken, Task>? capture, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        BeginStop("a drain was asked for");
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(Remaining);
        var failures = new List<BackgroundSaveException>();
        long? emergencyStep = null;
        BackgroundSave? emergency = null;
        var newest = Max(Saver.NewestCapturedStep, Saver.Manager.RestoredStep);
        if (step is { } s && capture is not null)
        {
            if (newest >= s)
            {
                Log.EmergencySaveSkipped(_logger, s, newest.Value);
            }
            else
            {
                emergencyStep = s;
                Log.EmergencySave(_logger, s, Remaining.TotalSeconds);
                emergency = await TryEmergencySaveAsync(s, capture, metadata, failures, budget.Token).ConfigureAwait(false);
            }
        }

        Log.Draining(_logger, Saver.InFlight, Remaining.TotalSeconds);
        while (true)
        {
            try
            {
                await Saver.FlushAsync(budget.Token).ConfigureAwait(false);
                break;
            }
            catch (BackgroundSaveException e)
            {
                failures.Add(e); // reported; keep draining the rest
            }
            catch (OperationCanceledException) when (budget.IsCancellationRequested)
            {
                break;
            }
        }

        var abandoned = await Saver.AbandonAsync(cancellationToken.IsCancellationRequested ? "the drain was cancelled" : "the shutdown budget ran out").ConfigureAwait(false);
        var emergencySaved = emergency is { Durable.IsCompletedSuccessfully: true };
        return new ShutdownResult(emergencyStep, emergencySaved, abandoned, failures, Saver.NewestDurableStep);
    }

    private async Task<BackgroundSave?> TryEmergencySaveAsync(
        long step, Func<BackgroundSave, CancellationToken, Task> capture, IReadOnlyDictionary<string, string>? metadata, List<BackgroundSaveException> failures, CancellationToken budget)
    {
        try
        {
            BackgroundSave save;
            while (true)
            {
                try
                {
                    save = await Saver.BeginSaveAsync(step, budget).ConfigureAwait(false);
                    break;
                }
                catch (BackgroundSaveException e)
                {
                    failures.Add(e); // an earlier save's failure: reported, and the emergency save still goes ahead
                }
            }

            await using (save.ConfigureAwait(false))
            {
                await capture(save, budget).ConfigureAwait(false);
                await save.CommitAsync(metadata, budget).ConfigureAwait(false);
            }

            return save;
        }
        catch (OperationCanceledException) when (budget.IsCancellationRequested)
        {
            Log.Abandoned(_logger, step, "the shutdown budget ran out before it was captured");
            return null;
        }
    }

    private static long? Max(long? a, long? b) => a is null ? b : b is null ? a : Math.Max(a.Value, b.Value);

    private sealed class Registrations(List<PosixSignalRegistration> registrations) : IDisposable
    {
        public void Dispose() => registrations.ForEach(r => r.Dispose());
    }
}
