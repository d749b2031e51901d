using System.Buffers.Binary;
using System.Security.Cryptography;

using TinyTrainer.Distributed;

namespace TinyTrainer.Training;

/// <summary>
/// Everything that determines the rest of a run: the model, the optimizer's momentum, the number of completed steps
/// and the data generator. Restore all of it and training continues exactly as if it had never stopped.
/// </summary>
internal sealed class TrainingState
{
    private const ulong Seed = 42;
    private const int BatchSize = 256;

    private readonly double[] _gradient = new double[Mlp.ParameterCount];

    public TrainingState(long step, Mlp model, SgdMomentum optimizer, SplitMix64 random, double? loss)
    {
        Step = step;
        Model = model;
        Optimizer = optimizer;
        Random = random;
        Loss = loss;
    }

    /// <summary>Completed training steps.</summary>
    public long Step { get; private set; }

    public Mlp Model { get; }

    public SgdMomentum Optimizer { get; }

    public SplitMix64 Random { get; }

    /// <summary>The loss of the last step (null before the first).</summary>
    public double? Loss { get; private set; }

    public static TrainingState Fresh()
    {
        var random = new SplitMix64(Seed);
        var model = Mlp.Initialize(random);
        return new TrainingState(0, model, new SgdMomentum(new double[Mlp.ParameterCount]), random, null);
    }

    /// <summary>Runs one step on a fresh batch and returns its loss.</summary>
    public double TrainStep()
    {
        var batch = Batch.Draw(Random, BatchSize);
        var loss = Model.LossAndGradient(batch, _gradient);
        Optimizer.Apply(Model.Parameters, _gradient);
        Step++;
        Loss = loss;
        return loss;
    }

    /// <summary>
    /// Runs one synchronous data-parallel step: every rank draws the same batch, computes the gradient of its shard, and
    /// applies the average of all ranks' gradients (computed once by rank 0), so every rank keeps the same weights.
    /// </summary>
    public async Task<double> TrainStepAsync(GradientAverager averager, CancellationToken cancellationToken)
    {
        var batch = Batch.Draw(Random, BatchSize);
        var (start, count) = averager.Shard(BatchSize);
        var loss = Model.LossAndGradient(batch.Slice(start, count), _gradient);
        loss = await averager.AverageAsync(Step + 1, _gradient, loss, count, cancellationToken);
        Optimizer.Apply(Model.Parameters, _gradient);
        Step++;
        Loss = loss;
        return loss;
    }

    /// <summary>Hex SHA-256 of the weights as little-endian doubles: equal hashes mean bit-identical models.</summary>
    public string WeightsSha256() => Convert.ToHexStringLower(SHA256.HashData(ToBytes(Model.Parameters)));

    public static byte[] ToBytes(double[] values)
    {
        var bytes = new byte[values.Length * sizeof(double)];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * sizeof(double)), values[i]);
        }

        return bytes;
    }

    public static double[] FromBytes(ReadOnlySpan<byte> bytes, int count, string what)
    {
        if (bytes.Length != count * sizeof(double))
        {
            throw new InvalidDataException($"{what} has {bytes.Length} bytes; expected {count * sizeof(double)} ({count} doubles).");
        }

        var values = new double[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = BinaryPrimitives.ReadDoubleLittleEndian(bytes[(i * sizeof(double))..]);
        }

        return values;
    }
}
