using Xunit.Abstractions;
using Xunit.Sdk;

namespace Konduktor.Storage.Testing;

/// <summary>
/// xUnit's framework, except that the tests of a class marked <see cref="RequiresEnvironmentVariableAttribute"/> are reported as
/// skipped when its variable is not set. Inherited tests (a conformance suite) are covered too, which a <c>Skip</c> on each
/// test's own attribute cannot do.
/// </summary>
/// <param name="messageSink">xUnit's diagnostic sink.</param>
public sealed class OptInTestFramework(IMessageSink messageSink) : XunitTestFramework(messageSink)
{
    /// <summary>The type name for <c>[assembly: TestFramework(…)]</c>.</summary>
    public const string TypeName = "Konduktor.Storage.Testing.OptInTestFramework";

    /// <summary>The assembly name for <c>[assembly: TestFramework(…)]</c>.</summary>
    public const string AssemblyName = "Konduktor.Storage.TestKit";

    /// <inheritdoc />
    protected override ITestFrameworkDiscoverer CreateDiscoverer(IAssemblyInfo assemblyInfo) =>
        new Discoverer(assemblyInfo, SourceInformationProvider, DiagnosticMessageSink);

    /// <summary>The skip reason of a test method, or <see langword="null"/> to run it.</summary>
    internal static string? SkipReason(ITestMethod testMethod, Func<string, string?> environment)
    {
        var requirement = testMethod.TestClass.Class.GetCustomAttributes(typeof(RequiresEnvironmentVariableAttribute)).FirstOrDefault();
        if (requirement is null)
        {
            return null;
        }

        var arguments = requirement.GetConstructorArguments().Cast<string>().ToArray();
        var (variable, purpose) = (arguments[0], arguments[1]);
        if (string.IsNullOrEmpty(environment(variable)))
        {
            return $"{variable} is not set: this test needs {purpose}";
        }

        var notApplicable = requirement.GetNamedArgument<string[]>(nameof(RequiresEnvironmentVariableAttribute.NotApplicable)) ?? [];
        return notApplicable.Contains(testMethod.Method.Name, StringComparer.Ordinal)
            ? requirement.GetNamedArgument<string>(nameof(RequiresEnvironmentVariableAttribute.NotApplicableReason)) ?? "not applicable to this resource"
            : null;
    }

    private sealed class Discoverer(IAssemblyInfo assemblyInfo, ISourceInformationProvider sourceProvider, IMessageSink diagnosticMessageSink)
        : XunitTestFrameworkDiscoverer(assemblyInfo, sourceProvider, diagnosticMessageSink)
    {
        protected override bool FindTestsForMethod(
            ITestMethod testMethod, bool includeSourceInformation, IMessageBus messageBus, ITestFrameworkDiscoveryOptions discoveryOptions)
        {
            if (!testMethod.Method.GetCustomAttributes(typeof(FactAttribute)).Any()
                || SkipReason(testMethod, Environment.GetEnvironmentVariable) is not { } reason)
            {
                return base.FindTestsForMethod(testMethod, includeSourceInformation, messageBus, discoveryOptions);
            }

            // One skipped case per test method (a theory's rows are not enumerated: they may need the resource).
            var testCase = new SkippedTestCase(
                DiagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, reason);
            return ReportDiscoveredTestCase(testCase, includeSourceInformation, messageBus);
        }
    }
}

/// <summary>A test case reported as skipped with a reason decided at discovery.</summary>
public sealed class SkippedTestCase : XunitTestCase
{
    private string _reason = string.Empty;

    /// <summary>For deserialization only.</summary>
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public SkippedTestCase()
    {
    }

    /// <summary>Creates the case.</summary>
    /// <param name="diagnosticMessageSink">xUnit's diagnostic sink.</param>
    /// <param name="defaultMethodDisplay">How to display the method.</param>
    /// <param name="defaultMethodDisplayOptions">Display options.</param>
    /// <param name="testMethod">The test method.</param>
    /// <param name="reason">Why it is skipped.</param>
    public SkippedTestCase(
        IMessageSink diagnosticMessageSink, TestMethodDisplay defaultMethodDisplay, TestMethodDisplayOptions defaultMethodDisplayOptions, ITestMethod testMethod, string reason)
        : base(diagnosticMessageSink, defaultMethodDisplay, defaultMethodDisplayOptions, testMethod)
    {
        _reason = reason;
    }

    /// <inheritdoc />
    public override void Serialize(IXunitSerializationInfo data)
    {
        ArgumentNullException.ThrowIfNull(data);
        base.Serialize(data);
        data.AddValue("SkipReason", _reason);
    }

    /// <inheritdoc />
    public override void Deserialize(IXunitSerializationInfo data)
    {
        ArgumentNullException.ThrowIfNull(data);
        _reason = data.GetValue<string>("SkipReason");
        base.Deserialize(data);
    }

    /// <inheritdoc />
    protected override string GetSkipReason(IAttributeInfo factAttribute) => _reason;
}
