namespace Konduktor.Storage;

/// <summary>How the ranks of a multi-node job checkpoint (configuration key <c>Konduktor:Checkpoints:Mode</c>).</summary>
public enum CheckpointMode
{
    /// <summary>
    /// One checkpoint step for all ranks: each rank commits its part, rank 0 commits the step once every part is there, and
    /// every rank restores the same step. The default when <c>NUM_NODES</c> is more than 1.
    /// </summary>
    Collective,

    /// <summary>Independent scopes, one per rank (<c>rank-00003</c>), each restored on its own: for embarrassingly parallel jobs.</summary>
    PerRank,
}
