namespace TinyTrainer.Training;

/// <summary>
/// A tiny pseudo-random generator whose whole state is one public number, so a checkpoint can save it and a resumed
/// run draws exactly the numbers the uninterrupted run would have drawn (System.Random's state cannot be saved).
/// </summary>
internal sealed class SplitMix64(ulong state)
{
    public ulong State { get; private set; } = state;

    public ulong NextUInt64()
    {
        var z = State += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A double in [0, 1) from the top 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A double in [-1, 1).</summary>
    public double NextSigned() => (2 * NextDouble()) - 1;
}
