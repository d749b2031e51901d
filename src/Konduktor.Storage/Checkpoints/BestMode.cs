
namespace Konduktor.Storage;

/// <summary>Which end of a metric is better.</summary>
public enum BestMode
{
    /// <summary>Smaller is better (loss, error).</summary>
    Min,

    /// <summary>Larger is better (accuracy, reward).</summary>
    Max,
}
