namespace Konduktor.Storage.Stores;

/// <summary>What a store knows about one object.</summary>
/// <param name="Key">The object key.</param>
/// <param name="Length">The object's length in bytes.</param>
/// <param name="LastModified">When the object was written.</param>
/// <param name="ETag">An opaque version token, usable as <c>ifMatch</c> in <see cref="ICheckpointStore.DeleteAsync"/>.</param>
/// <param name="ServerChecksum">
/// A checksum the server computed, named by algorithm (<c>md5:…</c>, <c>crc32c:…</c>), or <see langword="null"/> when the
/// store has none for this object.
/// </param>
public sealed record ObjectInfo(string Key, long Length, DateTimeOffset LastModified, string ETag, string? ServerChecksum = null);
