
namespace Konduktor.Storage;

/// <summary>Which checkpoints retention keeps; the policies combine (a checkpoint any policy keeps is kept).</summary>
public sealed class RetentionOptions
{
    /// <summary>Keep the newest N valid checkpoints. Default: 3. Zero keeps only what the other policies and the safety rules keep.</summary>
    public int KeepLast { get; set; } = 3;

    /// <summary>Keep every checkpoint whose step is a multiple of this, forever. Default: none.</summary>
    public long? KeepEvery { get; set; }

    /// <summary>Keep the best K checkpoints by <see cref="BestMetric"/>. Default: none.</summary>
    public int? KeepBest { get; set; }

    /// <summary>The metadata key whose value (a number) ranks checkpoints for <see cref="KeepBest"/>.</summary>
    public string? BestMetric { get; set; }

    /// <summary>Whether a smaller (<see cref="BestMode.Min"/>, e.g. a loss) or larger (<see cref="BestMode.Max"/>, e.g. an accuracy) metric is better.</summary>
    public BestMode BestMode { get; set; } = BestMode.Min;

    /// <summary>Steps that are never deleted.</summary>
    public IList<long> Pinned { get; } = [];

    /// <summary>Whether retention is applied after every successful save. Default: <see langword="true"/>.</summary>
    public bool ApplyAfterSave { get; set; } = true;
}
