using System.Globalization;
using System.Text.Json;

using Konduktor.Storage;

using TinyTrainer.Training;

namespace TinyTrainer.Checkpointing;

/// <summary>A restored training state (or none: start fresh), and the newer checkpoints that were passed over and why.</summary>
internal sealed record Resumed(TrainingState? State, IReadOnlyList<SkippedCheckpoint> Skipped);

/// <summary>How the trainer's state maps onto checkpoint files: the save and resume glue between the trainer and the library.</summary>
internal static class TrainerCheckpoints
{
    public const string WeightsFile = "weights.bin";
    public const string MomentumFile = "momentum.bin";
    public const string StateFile = "trainer.json";

    /// <summary>Saves the state as one checkpoint: model, optimizer and generator as files, the loss as metadata.</summary>
    public static async Task<CheckpointManifest> SaveAsync(
        CheckpointManager manager, TrainingState state, double loss, TrainerOptions options, CancellationToken cancellationToken)
    {
        await using var save = await manager.BeginSaveAsync(state.Step, cancellationToken: cancellationToken);
        await AddFilesAsync(
            (name, write, ct) => save.AddFileAsync(name, write, ct), state, options, manager.Store.Capabilities.ConcurrentFiles, cancellationToken);
        return await save.CommitAsync(Metadata(loss), cancellationToken);
    }

    /// <summary>
    /// Saves the state in the background: returns once the files are captured (the training may change the state right
    /// after); the upload and the commit go on behind. A failure of an earlier background save is thrown here.
    /// </summary>
    public static async Task<BackgroundSave> SaveInBackgroundAsync(
        BackgroundCheckpointSaver saver, TrainingState state, double loss, TrainerOptions options, CancellationToken cancellationToken)
    {
        await using var save = await saver.BeginSaveAsync(state.Step, cancellationToken);
        await CaptureAsync(save, state, options, cancellationToken);
        await save.CommitAsync(Metadata(loss), cancellationToken);
        return save;
    }

    /// <summary>Captures the state's files into a background save (also what the emergency save at SIGTERM captures).</summary>
    /// <remarks>Captures go to local staging one file at a time: there is no network latency to overlap.</remarks>
    public static Task CaptureAsync(BackgroundSave save, TrainingState state, TrainerOptions options, CancellationToken cancellationToken) =>
        AddFilesAsync((name, write, ct) => save.AddFileAsync(name, write, ct), state, options, concurrentFiles: 1, cancellationToken);

    public static Dictionary<string, string> Metadata(double? loss) =>
        loss is { } value ? new() { ["loss"] = value.ToString("R", CultureInfo.InvariantCulture) } : [];

    /// <summary>The checkpoint's files, whatever kind of save they go into.</summary>
    private static async Task AddFilesAsync(
        Func<string, Func<Stream, CancellationToken, Task>, CancellationToken, Task> add,
        TrainingState state,
        TrainerOptions options,
        int concurrentFiles,
        CancellationToken cancellationToken)
    {
        var weights = TrainingState.ToBytes(state.Model.Parameters);
        var momentum = TrainingState.ToBytes(state.Optimizer.Velocity);
        await add(WeightsFile, (stream, ct) => stream.WriteAsync(weights, ct).AsTask(), cancellationToken);
        await add(MomentumFile, (stream, ct) => stream.WriteAsync(momentum, ct).AsTask(), cancellationToken);
        var trainer = new TrainerStateFile(state.Step, state.Random.State);
        await add(StateFile, (stream, ct) => JsonSerializer.SerializeAsync(stream, trainer, SampleJson.Default.TrainerStateFile, ct), cancellationToken);

        // Streamed chunk by chunk (a large model never has to fit in memory), in PayloadFiles shards, several at once.
        await Payload.SaveAsync(add, state.Step, options.PayloadMiB * (long)Payload.ChunkSize, options.PayloadFiles, concurrentFiles, cancellationToken);
    }

    /// <summary>
    /// Restores the newest checkpoint whose every file reads back intact: a file that fails its checksum while it is read
    /// makes the library pass over that checkpoint and load the next older one.
    /// </summary>
    public static async Task<Resumed> ResumeAsync(CheckpointManager manager, CancellationToken cancellationToken)
    {
        var loaded = await manager.LoadLatestAsync((reader, ct) => ReadAsync(reader, manager.Store.Capabilities.ConcurrentFiles, ct), cancellationToken);
        return new Resumed(loaded.Value, loaded.Skipped);
    }

    /// <summary>Reads every file of the checkpoint through the reader's verifying streams.</summary>
    private static async Task<TrainingState> ReadAsync(CheckpointReader reader, int concurrentFiles, CancellationToken cancellationToken)
    {
        var manifest = reader.Manifest!;
        var weights = await ReadDoublesAsync(reader, WeightsFile, cancellationToken);
        var momentum = await ReadDoublesAsync(reader, MomentumFile, cancellationToken);
        TrainerStateFile trainer;
        await using (var stream = await reader.OpenFileAsync(StateFile, cancellationToken))
        {
            trainer = await JsonSerializer.DeserializeAsync(stream, SampleJson.Default.TrainerStateFile, cancellationToken)
                ?? throw new InvalidDataException($"{StateFile} of step {manifest.Step} is empty.");
        }

        if (trainer.Step != manifest.Step)
        {
            throw new InvalidDataException($"{StateFile} of step {manifest.Step} says step {trainer.Step}.");
        }

        await Payload.VerifyAllAsync(reader, concurrentFiles, cancellationToken);

        double? loss = manifest.Metadata.TryGetValue("loss", out var text)
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;
        return new TrainingState(
            manifest.Step,
            new Mlp(weights),
            new SgdMomentum(momentum),
            new SplitMix64(trainer.RandomState),
            loss);
    }

    private static async Task<double[]> ReadDoublesAsync(CheckpointReader reader, string name, CancellationToken cancellationToken)
    {
        await using var stream = await reader.OpenFileAsync(name, cancellationToken);
        using var bytes = new MemoryStream();
        await stream.CopyToAsync(bytes, cancellationToken);
        return TrainingState.FromBytes(bytes.GetBuffer().AsSpan(0, (int)bytes.Length), Mlp.ParameterCount, name);
    }
}
