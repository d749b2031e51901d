using System.Globalization;
using System.Text.Json;

using Konduktor.Storage;

using Microsoft.Extensions.Hosting;

using TinyTrainer.Checkpointing;
using TinyTrainer.Training;

namespace TinyTrainer;

/// <summary>
/// The pod program: resume from the newest intact checkpoint (whatever RESTART_ATTEMPT says: a preemption recreates
/// pods without raising it), train to the last step saving every few steps, and report the result.
/// </summary>
internal sealed class TrainerService(CheckpointManager manager, JobContext job, TrainerOptions options, IHostApplicationLifetime lifetime)
    : BackgroundService
{
    /// <summary>The exit code of a crash on purpose.</summary>
    public const int CrashExitCode = 3;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await TrainAsync(stoppingToken);
            Environment.ExitCode = 0;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("stopped before training finished; the last committed checkpoint stays the resume point");
            Environment.ExitCode = 1;
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

    private async Task TrainAsync(CancellationToken cancellationToken)
    {
        var resumed = await TrainerCheckpoints.ResumeAsync(manager, cancellationToken);
        Console.WriteLine(DescribeResume(resumed));
        var resumedFrom = resumed.State?.Step;
        var state = resumed.State ?? TrainingState.Fresh();
        var crashAt = job.RestartAttempt == 0 ? options.CrashAtStep : 0;
        while (state.Step < options.Steps)
        {
            var loss = state.TrainStep();
            if (state.Step == crashAt)
            {
                Console.WriteLine($"crashing on purpose at step {state.Step} (RESTART_ATTEMPT=0, Trainer:CrashAtStep={crashAt}): exit code {CrashExitCode}, no clean-up");
                Console.Out.Flush();
                Environment.Exit(CrashExitCode);
            }

            if (state.Step % options.CheckpointEvery == 0)
            {
                var manifest = await TrainerCheckpoints.SaveAsync(manager, state, loss, options.PayloadMiB, cancellationToken, options.PayloadFiles);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"saved step {manifest.Step}: loss {loss:F6}, {manifest.TotalLength} bytes"));
            }
        }

        var result = new TrainerResult(state.Step, resumedFrom, job.RestartAttempt, state.Loss, state.WeightsSha256());
        Console.WriteLine("RESULT " + JsonSerializer.Serialize(result, SampleJson.Default.TrainerResult));
    }

    private string DescribeResume(Resumed resumed)
    {
        var where = $"{manager.Store.Location}{manager.RunId}/{manager.Scope}";
        var skipped = resumed.Skipped.Count == 0
            ? ""
            : "; skipped " + string.Join("; ", resumed.Skipped.Select(s => $"step {s.Step} ({s.Reason}: {s.Detail})"));
        return resumed.State is { } state
            ? $"attempt {job.RestartAttempt}: resuming from step {state.Step} of {where}, continuing at step {state.Step + 1}{skipped}"
            : $"attempt {job.RestartAttempt}: no intact checkpoint in {where}, starting fresh{skipped}";
    }
}
