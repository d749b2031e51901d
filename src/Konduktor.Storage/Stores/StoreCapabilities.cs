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
    /// The store retries transient failures itself, with the library's retry policy (per request and per
    /// part, resuming interrupted reads), so <c>CheckpointManager</c> adds no retry layer of its own and attempts never multiply.
    /// </summary>
    internal bool RetriesTransientFailures { get; init; }

    /// <inheritdoc />
    public override string ToString() =>
        $"createOnly={CreateOnly}, conditionalDelete={ConditionalDelete}, serverChecksum={ServerChecksumAlgorithm ?? "none"}, retries={(RetriesTransientFailures ? "store" : "manager")}";
}
