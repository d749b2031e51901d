namespace TinyTrainer.Training;

/// <summary>
/// A two-layer perceptron (inputs → tanh hidden layer → one linear output) whose parameters live in one flat array,
/// so saving the model is writing one array and the optimizer can treat every parameter alike.
/// </summary>
internal sealed class Mlp
{
    public const int Inputs = 4;
    public const int Hidden = 32;

    // Layout of Parameters: W1 [Hidden x Inputs], b1 [Hidden], W2 [Hidden], b2 [1].
    private const int W1 = 0;
    private const int B1 = W1 + (Hidden * Inputs);
    private const int W2 = B1 + Hidden;
    private const int B2 = W2 + Hidden;

    public const int ParameterCount = B2 + 1;

    public Mlp(double[] parameters)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(parameters.Length, ParameterCount);
        Parameters = parameters;
    }

    public double[] Parameters { get; }

    /// <summary>Small random weights (scaled by fan-in), zero biases.</summary>
    public static Mlp Initialize(SplitMix64 random)
    {
        var p = new double[ParameterCount];
        for (var i = W1; i < B1; i++)
        {
            p[i] = random.NextSigned() / Math.Sqrt(Inputs);
        }

        for (var i = W2; i < B2; i++)
        {
            p[i] = random.NextSigned() / Math.Sqrt(Hidden);
        }

        return new Mlp(p);
    }

    /// <summary>Mean squared error over the batch; accumulates its gradient into <paramref name="gradient"/> (cleared first).</summary>
    public double LossAndGradient(Batch batch, double[] gradient)
    {
        Array.Clear(gradient);
        var p = Parameters;
        Span<double> hidden = stackalloc double[Hidden];
        double loss = 0;
        for (var n = 0; n < batch.Count; n++)
        {
            var x = batch.Input(n);
            var output = p[B2];
            for (var h = 0; h < Hidden; h++)
            {
                var sum = p[B1 + h];
                for (var i = 0; i < Inputs; i++)
                {
                    sum += p[W1 + (h * Inputs) + i] * x[i];
                }

                hidden[h] = Math.Tanh(sum);
                output += p[W2 + h] * hidden[h];
            }

            var error = output - batch.Targets[n];
            loss += error * error;

            // d(mean squared error)/d(output), then back through both layers.
            var dOutput = 2 * error / batch.Count;
            gradient[B2] += dOutput;
            for (var h = 0; h < Hidden; h++)
            {
                gradient[W2 + h] += dOutput * hidden[h];
                var dSum = dOutput * p[W2 + h] * (1 - (hidden[h] * hidden[h]));
                gradient[B1 + h] += dSum;
                for (var i = 0; i < Inputs; i++)
                {
                    gradient[W1 + (h * Inputs) + i] += dSum * x[i];
                }
            }
        }

        return loss / batch.Count;
    }
}
