namespace TinyTrainer.Training;

/// <summary>Stochastic gradient descent with momentum. Its velocity buffer is optimizer state a checkpoint must keep.</summary>
internal sealed class SgdMomentum(double[] velocity, double learningRate = 0.03, double momentum = 0.9)
{
    public double[] Velocity { get; } = velocity;

    public void Apply(double[] parameters, double[] gradient)
    {
        for (var i = 0; i < parameters.Length; i++)
        {
            Velocity[i] = (momentum * Velocity[i]) - (learningRate * gradient[i]);
            parameters[i] += Velocity[i];
        }
    }
}
