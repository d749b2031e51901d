using System.Text.Json.Serialization;

namespace TinyTrainer.Checkpointing;

/// <summary>The step and the data generator's state: the trainer's own part of a checkpoint.</summary>
internal sealed record TrainerStateFile(long Step, ulong RandomState);

/// <summary>What the pod program reports on its last line, after <c>RESULT </c>.</summary>
internal sealed record TrainerResult(long Step, long? ResumedFromStep, int RestartAttempt, double? Loss, string WeightsSha256);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(TrainerStateFile))]
[JsonSerializable(typeof(TrainerResult))]
internal sealed partial class SampleJson : JsonSerializerContext;
