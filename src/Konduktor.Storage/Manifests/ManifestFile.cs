using System.Text.Json.Serialization;

namespace Konduktor.Storage;

/// <summary>One file of a checkpoint.</summary>
/// <param name="Name">The file's name inside the checkpoint, a relative '/'-separated path (e.g. <c>model/weights.bin</c>).</param>
/// <param name="Key">The object's key relative to the step folder (e.g. <c>a1-5c0e…/model/weights.bin</c>).</param>
/// <param name="Length">The file's full length in bytes.</param>
/// <param name="Checksum">The checksum of the whole content, named by algorithm (<c>xxh128:…</c>).</param>
public sealed record ManifestFile(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("length")] long Length,
    [property: JsonPropertyName("checksum")] string Checksum);
