using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Konduktor.Storage;

/// <summary>The first step of reading a JSON document a restore relies on (a manifest, a step commit): parse it or refuse it.</summary>
internal static class TrustedJson
{
    /// <summary>Parses <paramref name="json"/>; the document's checks are the caller's.</summary>
    /// <param name="json">The document's bytes.</param>
    /// <param name="typeInfo">The document's source-generated contract.</param>
    /// <param name="what">What the document is, for the message (<c>manifest</c>, <c>step-commit</c>).</param>
    /// <exception cref="InvalidManifestException">It is not valid JSON of that shape, or it is JSON null.</exception>
    public static T Parse<T>(ReadOnlySpan<byte> json, JsonTypeInfo<T> typeInfo, string what)
        where T : class
    {
        T? document;
        try
        {
            document = JsonSerializer.Deserialize(json, typeInfo);
        }
        catch (JsonException e)
        {
            throw new InvalidManifestException($"it is not valid {what} JSON ({e.Message})");
        }

        return document ?? throw new InvalidManifestException("it is JSON null");
    }
}

/// <summary>
/// The source-generated contracts of the JSON documents committed to the store: checkpoint manifests, step commits and
/// rank verdicts (indented, nulls left out).
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CheckpointManifest))]
[JsonSerializable(typeof(StepCommit))]
[JsonSerializable(typeof(RankVerdict))]
internal sealed partial class DocumentJsonContext : JsonSerializerContext;
