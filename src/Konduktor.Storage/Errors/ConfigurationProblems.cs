using Microsoft.Extensions.Options;

namespace Konduktor.Storage;

/// <summary>
/// Collects every invalid value of an options section, so that one report names them all (as Microsoft.Extensions validators do
/// with <see cref="ValidateOptionsResultBuilder"/>) instead of one per start-up. In the core, visible to the store packages.
/// </summary>
internal sealed class ConfigurationProblems
{
    private readonly List<CheckpointConfigurationException> _problems = [];

    /// <summary>Records that <paramref name="key"/> holds <paramref name="value"/> (<see langword="null"/>: missing), which is not <paramref name="expected"/>.</summary>
    public void Add(string key, string? value, string expected) => _problems.Add(new CheckpointConfigurationException(key, value, expected));

    /// <summary>Records a problem already described.</summary>
    public void Add(CheckpointConfigurationException problem) => _problems.Add(problem);

    /// <summary>Records problems already described.</summary>
    public void AddRange(IEnumerable<CheckpointConfigurationException> problems) => _problems.AddRange(problems);

    /// <summary>Success, or a failure with one message per invalid value.</summary>
    public ValidateOptionsResult ToResult()
    {
        var builder = new ValidateOptionsResultBuilder();
        foreach (var problem in _problems)
        {
            builder.AddError(problem.Message);
        }

        return builder.Build();
    }

    /// <summary>Throws when a value is invalid: the exception names the first key and value, and its message every invalid value.</summary>
    /// <exception cref="CheckpointConfigurationException">A value is invalid.</exception>
    public void ThrowIfAny()
    {
        if (_problems.Count == 0)
        {
            return;
        }

        var first = _problems[0];
        throw _problems.Count == 1
            ? first
            : new CheckpointConfigurationException(
                first.Key, first.Value, first.Expected + string.Concat(_problems.Skip(1).Select(p => ". Also " + p.Message.TrimEnd('.'))));
    }
}
