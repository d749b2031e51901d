using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

using Konduktor.Storage;

using Microsoft.Extensions.Hosting;

using TinyTrainer.Checkpointing;
using TinyTrainer.Distributed;
using TinyTrainer.Outputs;
using TinyTrainer.Training;

namespace TinyTrainer;

/// <summary>
/// The pod program: resume from the newest intact checkpoint (whatever RESTART_ATTEMPT says: a preemption recreates
/// pods without raising it), train to the last step saving every few steps, and report the result.
/// </summary>
internal sealed class TrainerService(
    CheckpointManager manager, BackgroundCheckpointSaver saver, CheckpointShutdown shutdown, JobContext job, TrainerOptions options, TrainerOutputs outputs, IHostApplicationLifetime lifetime)
    : BackgroundService
{
    /// <summary>The exit code of a crash on purpose.</summary>
    public const int CrashExitCode = 3;

    /// <summary>The exit code after SIGTERM or SIGINT (128 + 15, what a shell reports for SIGTERM): stopped, not finished.</summary>
    public const int StoppedExitCode = 143;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            Environment.ExitCode = 0;
            await TrainAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("stopped before training began; the last committed checkpoint stays the resume point");
            Environment.ExitCode = StoppedExitCode;
        }
        catch (Exception e) when (e is CheckpointStorageException or IOException)
        {
            // The store failed (after the library's retries): the message says what and where; a restart may help.
            await Console.Error.WriteLineAsync($"training failed: {e.GetType().Name}: {e.Message}");
            Environment.ExitCode = 1;
        }
        catch (Exception e)
        {
            await Console.Error.WriteLineAsync($"training failed: {e}");
            Environment.ExitCode = 1;
        }
        finally
        {
            lifetime.StopApplication();
        }
    }

    private async Task TrainAsync(CancellationToken stoppingToken)
    {
        // With several nodes, rank 0 averages every step's gradients over TCP (MASTER_ADDR:MASTER_PORT, else Trainer:MasterPort).
        // PerRank mode: every rank trains on its own (embarrassingly parallel), nothing to average.
        await using var averager = manager.Mode == CheckpointMode.Collective
            ? await GradientAverager.ForJobAsync(job, options.MasterPort, stoppingToken)
            : GradientAverager.Single();
        var resumed = await TrainerCheckpoints.ResumeAsync(manager, stoppingToken);
        Console.WriteLine(DescribeResume(resumed));
        var resumedFrom = resumed.State?.Step;
        var state = resumed.State ?? TrainingState.Fresh();
        await outputs.ResumeAsync(resumedFrom, stoppingToken);
        var crashAt = job.RestartAttempt == 0 ? options.CrashAtStep : 0;
        var savedStep = resumedFrom;
        var blocked = TimeSpan.Zero;
        var saves = 0;
        while (state.Step < options.Steps)
        {
            if (stoppingToken.IsCancellationRequested)
            {
                await StopAsync(state, savedStep);
                return;
            }

            // The step in progress always finishes, even when a stop arrives meanwhile.
            var loss = await state.TrainStepAsync(averager, CancellationToken.None);
            if (options.StepDelayMs > 0)
            {
                await Task.Delay(options.StepDelayMs, CancellationToken.None);
            }

            await outputs.RecordStepAsync(state.Step, loss, CancellationToken.None);
            if (state.Step == crashAt)
            {
                // Deterministic on purpose: every earlier save is durable before the crash (a kill -9 would not wait).
                await saver.FlushAsync(CancellationToken.None);
                Console.WriteLine($"crashing on purpose at step {state.Step} (RESTART_ATTEMPT=0, Trainer:CrashAtStep={crashAt}): exit code {CrashExitCode}, no clean-up");
                Console.Out.Flush();
                Environment.Exit(CrashExitCode);
            }

            if (state.Step % options.CheckpointEvery == 0)
            {
                var started = Stopwatch.GetTimestamp();
                if (options.BackgroundSaves)
                {
                    var save = await TrainerCheckpoints.SaveInBackgroundAsync(saver, state, loss, options, CancellationToken.None);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"saved step {save.Step} in the background: loss {loss:F6}, {save.CapturedBytes} bytes captured"));
                }
                else
                {
                    var manifest = await TrainerCheckpoints.SaveAsync(manager, state, loss, options, CancellationToken.None);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"saved step {manifest.Step}: loss {loss:F6}, {manifest.TotalLength} bytes"));
                }

                blocked += Stopwatch.GetElapsedTime(started);
                savedStep = state.Step;
                saves++;
            }
        }

        // The final drain is not blocked time: the training is over.
        await saver.FlushAsync(CancellationToken.None);
        await outputs.WriteSummaryAsync(state.Step, state.Loss, CancellationToken.None);
        var result = new TrainerResult(state.Step, resumedFrom, job.RestartAttempt, state.Loss, state.WeightsSha256(), Math.Round(blocked.TotalSeconds, 6), saves);
        Console.WriteLine("RESULT " + JsonSerializer.Serialize(result, SampleJson.Default.TrainerResult));
    }

    /// <summary>
    /// SIGTERM or SIGINT: save the step just finished unless it is saved already, drain within the grace period, report
    /// the newest committed step as the store shows it, and exit 143.
    /// </summary>
    private async Task StopAsync(TrainingState state, long? savedStep)
    {
        var drained = state.Step > (savedStep ?? -1)
            ? await shutdown.SaveAndDrainAsync(
                state.Step, (save, ct) => TrainerCheckpoints.CaptureAsync(save, state, options, ct), TrainerCheckpoints.Metadata(state.Loss))
            : await shutdown.DrainAsync();
        foreach (var failure in drained.Failures)
        {
            await Console.Error.WriteLineAsync($"while stopping: {failure.Message}");
        }

        // What a restart will resume from: the store's newest committed step, whatever was abandoned or failed.
        var committed = (await manager.ListAsync(CancellationToken.None)).FirstOrDefault(c => c.Manifest is not null)?.Step;
        var stopped = new TrainerStopped(state.Step, committed, job.RestartAttempt);
        Console.WriteLine("STOPPED " + JsonSerializer.Serialize(stopped, SampleJson.Default.TrainerStopped));
        Environment.ExitCode = StoppedExitCode;
    }

    private string DescribeResume(Resumed resumed)
    {
        var where = manager.Collective is null
            ? $"{manager.Store.Location}{manager.RunId}/{manager.Scope}"
            : $"{manager.Store.Location}{manager.RunId}/job (collective, rank {job.Rank} of {job.NodeCount})";
        var skipped = resumed.Skipped.Count == 0
            ? ""
            : "; skipped " + string.Join("; ", resumed.Skipped.Select(s => $"step {s.Step} ({s.Reason}: {s.Detail})"));
        return resumed.State is { } state
            ? $"attempt {job.RestartAttempt}: resuming from step {state.Step} of {where}, continuing at step {state.Step + 1}{skipped}"
            : $"attempt {job.RestartAttempt}: no intact checkpoint in {where}, starting fresh{skipped}";
    }
}
