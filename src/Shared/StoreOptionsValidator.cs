using System.Globalization;

using Microsoft.Extensions.Options;

namespace Konduktor.Storage;

/// <summary>
/// Validates a bucket store's options at start-up and when a store is made, naming the configuration key, the value and what is
/// allowed (every invalid value at once, through <see cref="ConfigurationProblems"/>). The rules both stores share are here:
/// the concurrency range, a former option name set to another value than its current one, and a credentials file's path.
/// A source file shared by the store packages, compiled into each of them.
/// </summary>
/// <typeparam name="TOptions">The store's options.</typeparam>
/// <param name="sectionName">The options' configuration section, e.g. <c>Konduktor:Checkpoints:S3</c>; keys in messages are in it.</param>
internal abstract class StoreOptionsValidator<TOptions>(string sectionName) : IValidateOptions<TOptions>
    where TOptions : class
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, TOptions options) => Problems(options).ToResult();

    /// <summary>Every invalid value of <paramref name="options"/>.</summary>
    protected ConfigurationProblems Problems(TOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new ConfigurationProblems();
        Check(options, problems);
        return problems;
    }

    /// <summary>Records every invalid value of <paramref name="options"/> in <paramref name="problems"/>, in the order of the options.</summary>
    protected abstract void Check(TOptions options, ConfigurationProblems problems);

    /// <summary>How many transfers run at once: from 1 to 64.</summary>
    protected void CheckConcurrency(ConfigurationProblems problems, int concurrency)
    {
        if (concurrency is < 1 or > 64)
        {
            problems.Add(KeyOf("Concurrency"), concurrency.ToString(CultureInfo.InvariantCulture), "an integer from 1 to 64");
        }
    }

    /// <summary>Records that the former name <paramref name="former"/> holds <paramref name="value"/> while <paramref name="current"/> holds another.</summary>
    protected void AddFormerNameConflict(ConfigurationProblems problems, string former, string value, string current) =>
        problems.Add(KeyOf(former), value, $"unset: it is the former name of {KeyOf(current)}, which is set to another value");

    /// <summary>A credentials file, when set, is an absolute path.</summary>
    /// <param name="problems">Where problems are recorded.</param>
    /// <param name="file">The configured file, or <see langword="null"/>.</param>
    /// <param name="expected">What the file is, for the message, e.g. "an absolute path to a shared credentials file, or unset".</param>
    protected void CheckCredentialsFile(ConfigurationProblems problems, string? file, string expected)
    {
        if (file is not null && (string.IsNullOrWhiteSpace(file) || !Path.IsPathFullyQualified(file)))
        {
            problems.Add(KeyOf("CredentialsFile"), file, expected);
        }
    }

    private string KeyOf(string property) => $"{sectionName}:{property}";
}
