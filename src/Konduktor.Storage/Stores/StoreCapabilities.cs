namespace Konduktor.Storage.Stores;

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
    /// How many files <c>CheckpointManager</c> moves at once when it saves a directory or restores a checkpoint (1 to 256;
    /// default 4), and beside them twice as many files of up to 1 MiB. A remote store wants several: each file's requests pay
    /// the link's round trip, and small files are mostly round trips. The store's own transfer budget (parts in flight, read-ahead) is shared by those files, so this bounds
    /// the number of open transfers, not the memory.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1 or more than 256.</exception>
    public int ConcurrentFiles
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 256);
            field = value;
        }
    } = 4;

    /// <summary>
    /// The store retries transient failures itself, with the library's retry policy (per request and per
    /// part, resuming interrupted reads), so <c>CheckpointManager</c> adds no retry layer of its own and attempts never multiply.
    /// </summary>
    internal bool RetriesTransientFailures { get; init; }

    /// <inheritdoc />
    public override string ToString() =>
        $"createOnly={CreateOnly}, conditionalDelete={ConditionalDelete}, serverChecksum={ServerChecksumAlgorithm ?? "none"}, concurrentFiles={ConcurrentFiles}, retries={(RetriesTransientFailures ? "store" : "manager")}";
}
