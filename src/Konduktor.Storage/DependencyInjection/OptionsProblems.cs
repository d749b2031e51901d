using Microsoft.Extensions.Options;

namespace Konduktor.Storage;

/// <summary>How the options validators report the invalid values they collected: all at once, each naming its key and value.</summary>
internal static class OptionsProblems
{
    /// <summary>The validation result: every problem's message, or success when there is none.</summary>
    public static ValidateOptionsResult ToResult(List<CheckpointConfigurationException> problems)
    {
        var builder = new ValidateOptionsResultBuilder();
        foreach (var problem in problems)
        {
            builder.AddError(problem.Message);
        }

        return builder.Build();
    }

    /// <exception cref="CheckpointConfigurationException">There is a problem: it names the first key and value, its message every invalid value.</exception>
    public static void ThrowIfAny(List<CheckpointConfigurationException> problems)
    {
        if (problems.Count > 0)
        {
            var first = problems[0];
            throw problems.Count == 1
                ? first
                : new CheckpointConfigurationException(first.Key, first.Value, first.Expected + string.Concat(problems.Skip(1).Select(p => ". Also " + p.Message.TrimEnd('.'))));
        }
    }
}
