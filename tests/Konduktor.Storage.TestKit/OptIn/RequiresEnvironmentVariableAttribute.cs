namespace Konduktor.Storage.Testing;

/// <summary>
/// Marks a test class that needs an outside resource named by an environment variable (e.g. a real bucket). When the variable
/// is not set, <see cref="OptInTestFramework"/> reports every test of the class as skipped, each with this reason, instead of
/// running it (or silently passing it). The assembly must use the framework:
/// <c>[assembly: TestFramework(OptInTestFramework.TypeName, OptInTestFramework.AssemblyName)]</c>.
/// </summary>
/// <param name="variable">The environment variable, e.g. <c>KONDUKTOR_TEST_GCS_BUCKET</c>.</param>
/// <param name="purpose">What it provides, for the skip reason, e.g. "a real GCS bucket".</param>
[AttributeUsage(AttributeTargets.Class, Inherited = true)]
public sealed class RequiresEnvironmentVariableAttribute(string variable, string purpose) : Attribute
{
    /// <summary>The environment variable.</summary>
    public string Variable { get; } = variable;

    /// <summary>What it provides.</summary>
    public string Purpose { get; } = purpose;

    /// <summary>
    /// Test methods that cannot run against that resource even when it is there, reported as skipped with
    /// <see cref="NotApplicableReason"/> (e.g. a test that needs a bucket's root when opt-in runs use a prefix).
    /// </summary>
    public string[] NotApplicable { get; init; } = [];

    /// <summary>Why the <see cref="NotApplicable"/> tests are skipped.</summary>
    public string NotApplicableReason { get; init; } = "not applicable to this resource";
}
