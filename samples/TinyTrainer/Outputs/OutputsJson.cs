using System.Text.Json.Serialization;

namespace TinyTrainer.Outputs;

/// <summary>What <c>eval/summary.json</c> holds: the final step and loss, as in the <c>RESULT</c> line.</summary>
internal sealed record EvalSummary(long Step, double? Loss);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(EvalSummary))]
internal sealed partial class OutputsJson : JsonSerializerContext;
