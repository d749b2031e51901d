namespace Konduktor.Storage;

/// <summary>One file among a run's outputs.</summary>
/// <param name="Path">
/// Its path under the run's outputs, '/'-separated, starting with the scope that wrote it
/// (e.g. <c>rank-00000/metrics.jsonl</c>): the object <c>{location}/{run}/outputs/{Path}</c> after the final sync.
/// </param>
/// <param name="Length">Its length in bytes (the newest synced content).</param>
/// <param name="Checksum">
/// Its content's checksum (<c>xxh128:…</c>), verified by every read and pull; <see langword="null"/> for an object that
/// something other than this library put there, which is read without a checksum to check.
/// </param>
/// <param name="LastModified">When this content was synced or published.</param>
/// <param name="IsPlainObject">
/// <see langword="true"/> when the newest content is one plain object at its path (after the final sync, or a published
/// artifact), readable with <c>aws s3 cp</c>; <see langword="false"/> while a growing file is kept in pieces under
/// <c>outputs/.konduktor/</c>, which only the library's reader puts together.
/// </param>
public sealed record OutputFileInfo(string Path, long Length, string? Checksum, DateTimeOffset LastModified, bool IsPlainObject);
