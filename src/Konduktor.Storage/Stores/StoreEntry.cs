namespace Konduktor.Storage.Stores;

/// <summary>One entry of a listing: an object, or a rolled-up "folder" when a delimiter was given.</summary>
/// <param name="Key">The object key, or for a folder the common prefix including the delimiter (e.g. <c>run/step-000000000001/</c>).</param>
/// <param name="IsPrefix"><see langword="true"/> for a rolled-up folder.</param>
/// <param name="Info">The object's description; <see langword="null"/> for a folder.</param>
public sealed record StoreEntry(string Key, bool IsPrefix, ObjectInfo? Info);
