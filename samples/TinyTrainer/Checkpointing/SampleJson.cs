using System.Text.Json.Serialization;

namespace TinyTrainer.Checkpointing;

/// <summary>The step and the data generator's state: the trainer's own part of a checkpoint.</summary>
internal sealed record TrainerStateFile(long Step, ulong RandomState);

/// <summary>What the pod program reports on its last line, after <c>RESULT </c>.</summary>
internal sealed record TrainerResult(long Step, long? ResumedFromStep, int RestartAttempt, double? Loss, string WeightsSha256, double CheckpointBlockedSeconds, int Saves);

/// <summary>What the pod program reports after <c>STOPPED </c> when SIGTERM or SIGINT stopped it before the last step.</summary>
internal sealed record TrainerStopped(long Step, long? SavedStep, int RestartAttempt);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(TrainerStateFile))]
[JsonSerializable(typeof(TrainerResult))]
[JsonSerializable(typeof(TrainerStopped))]
internal sealed partial class SampleJson : JsonSerializerContext;
