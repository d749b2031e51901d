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
        CheckpointManager manager, TrainingState state, double loss, int payloadMiB, CancellationToken cancellationToken, int payloadFiles = 1)
    {
        await using var save = await manager.BeginSaveAsync(state.Step, cancellationToken: cancellationToken);
        var weights = TrainingState.ToBytes(state.Model.Parameters);
        var momentum = TrainingState.ToBytes(state.Optimizer.Velocity);
        await save.AddFileAsync(WeightsFile, (stream, ct) => stream.WriteAsync(weights, ct).AsTask(), cancellationToken);
        await save.AddFileAsync(MomentumFile, (stream, ct) => stream.WriteAsync(momentum, ct).AsTask(), cancellationToken);
        var trainer = new TrainerStateFile(state.Step, state.Random.State);
        await save.AddFileAsync(StateFile, (stream, ct) => JsonSerializer.SerializeAsync(stream, trainer, SampleJson.Default.TrainerStateFile, ct), cancellationToken);
        await Payload.SaveAsync(save, state.Step, payloadMiB * (long)Payload.ChunkSize, payloadFiles, manager.Store.Capabilities.ConcurrentFiles, cancellationToken);

        var metadata = new Dictionary<string, string> { ["loss"] = loss.ToString("R", CultureInfo.InvariantCulture) };
        return await save.CommitAsync(metadata, cancellationToken);
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
