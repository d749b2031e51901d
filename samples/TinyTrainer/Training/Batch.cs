namespace TinyTrainer.Training;

/// <summary>
/// One minibatch of synthetic regression data: inputs uniform in [-1, 1), target a fixed smooth function plus a little
/// noise. Drawn from the trainer's generator, so the data of every step depends on the saved generator state.
/// </summary>
internal sealed class Batch
{
    private readonly double[] _inputs;

    private Batch(double[] inputs, double[] targets)
    {
        _inputs = inputs;
        Targets = targets;
    }

    public int Count => Targets.Length;

    public double[] Targets { get; }

    public ReadOnlySpan<double> Input(int n) => _inputs.AsSpan(n * Mlp.Inputs, Mlp.Inputs);

    /// <summary>Rows <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> - 1: one rank's shard of the batch.</summary>
    public Batch Slice(int start, int count) =>
        new(_inputs.AsSpan(start * Mlp.Inputs, count * Mlp.Inputs).ToArray(), Targets.AsSpan(start, count).ToArray());

    public static Batch Draw(SplitMix64 random, int count)
    {
        var inputs = new double[count * Mlp.Inputs];
        var targets = new double[count];
        for (var n = 0; n < count; n++)
        {
            var x = inputs.AsSpan(n * Mlp.Inputs, Mlp.Inputs);
            for (var i = 0; i < Mlp.Inputs; i++)
            {
                x[i] = random.NextSigned();
            }

            targets[n] = Math.Sin(2 * x[0]) + (0.5 * x[1] * x[2]) - (x[3] * x[3]) + (0.01 * random.NextSigned());
        }

        return new Batch(inputs, targets);
    }
}
