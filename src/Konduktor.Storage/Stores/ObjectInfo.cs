namespace Konduktor.Storage;

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

/// <summary>One entry of a listing: an object, or a rolled-up "folder" when a delimiter was given.</summary>
/// <param name="Key">The object key, or for a folder the common prefix including the delimiter (e.g. <c>run/step-000000000001/</c>).</param>
/// <param name="IsPrefix"><see langword="true"/> for a rolled-up folder.</param>
/// <param name="Info">The object's description; <see langword="null"/> for a folder.</param>
public sealed record StoreEntry(string Key, bool IsPrefix, ObjectInfo? Info);

/// <summary>A byte range to read.</summary>
/// <param name="Offset">The first byte, from zero.</param>
/// <param name="Length">How many bytes at most; <see langword="null"/> to the end of the object.</param>
public readonly record struct ByteRange(long Offset, long? Length = null)
{
    /// <summary>Checks the range is well formed.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The offset or the length is negative.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(Offset, nameof(Offset));
        if (Length is { } length)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(length, nameof(Length));
        }
    }
}

/// <summary>Options of one write.</summary>
public sealed class ObjectWriteOptions
{
    /// <summary>The options of a create-only write.</summary>
    public static ObjectWriteOptions CreateOnlyWrite { get; } = new() { CreateOnly = true };

    /// <summary>
    /// When <see langword="true"/>, the write fails with <see cref="PreconditionFailedException"/> if the key exists,
    /// and two concurrent create-only writes of one key never both succeed. Default: <see langword="false"/>.
    /// </summary>
    public bool CreateOnly { get; init; }
}

/// <summary>Options of one listing.</summary>
public sealed class ListOptions
{
    /// <summary>Rolls keys up into "folders" at the first occurrence of this string after the prefix (usually "/"). Default: none.</summary>
    public string? Delimiter { get; init; }

    /// <summary>How many entries to fetch per request. Default: 1000.</summary>
    public int PageSize { get; init; } = 1000;
}

/// <summary>What a store honours; <c>CheckpointManager</c> picks its protocol from this.</summary>
public sealed class StoreCapabilities
{
    /// <summary>Create-only writes are atomic: of two concurrent create-only writes of one key, exactly one succeeds.</summary>
    public bool CreateOnly { get; init; }

    /// <summary><see cref="ICheckpointStore.DeleteAsync"/> honours <c>ifMatch</c> atomically.</summary>
    public bool ConditionalDelete { get; init; }

    /// <summary>The algorithm of <see cref="ObjectInfo.ServerChecksum"/> when the server computes one (e.g. <c>md5</c>), else <see langword="null"/>.</summary>
    public string? ServerChecksumAlgorithm { get; init; }

    /// <summary>
    /// The store retries transient failures itself, with the library's <see cref="StoreRetryPolicy"/> (per request and per
    /// part, resuming interrupted reads), so <c>CheckpointManager</c> adds no retry layer of its own and attempts never multiply.
    /// </summary>
    public bool RetriesTransientFailures { get; init; }

    /// <inheritdoc />
    public override string ToString() =>
        $"createOnly={CreateOnly}, conditionalDelete={ConditionalDelete}, serverChecksum={ServerChecksumAlgorithm ?? "none"}, retries={(RetriesTransientFailures ? "store" : "manager")}";
}
