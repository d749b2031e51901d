using System.Globalization;

namespace Konduktor.Storage;

/// <summary>
/// The layout on the store, a public contract:
/// <c>{run}/{scope}/step-{step:D12}/manifest.json</c> commits the data under <c>{run}/{scope}/step-{step:D12}/{writer}/{name}</c>.
/// Superseded manifests are kept under <c>step-…/quarantine/</c>, where restores never look.
/// </summary>
internal static class CheckpointLayout
{
    public const string ManifestName = "manifest.json";
    public const string QuarantineFolder = "quarantine";
    private const string StepPrefix = "step-";

    public static string ScopePrefix(string run, string scope) => $"{run}/{scope}/";

    public static string StepFolder(string run, string scope, long step) =>
        $"{ScopePrefix(run, scope)}{StepPrefix}{step.ToString("D12", CultureInfo.InvariantCulture)}/";

    public static string ManifestKey(string run, string scope, long step) => StepFolder(run, scope, step) + ManifestName;

    public static string QuarantinePrefix(string run, string scope, long step) => StepFolder(run, scope, step) + QuarantineFolder + "/";

    /// <summary>Parses a step folder's name (<c>step-000000001200</c>, optionally with a trailing '/').</summary>
    public static bool TryParseStepFolder(string name, out long step)
    {
        step = -1;
        name = name.TrimEnd('/');
        if (!name.StartsWith(StepPrefix, StringComparison.Ordinal)
            || !long.TryParse(name.AsSpan(StepPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
        {
            return false;
        }

        // Only the canonical spelling counts, so one step has exactly one folder.
        if (name.Length != StepPrefix.Length + Math.Max(12, parsed.ToString(CultureInfo.InvariantCulture).Length))
        {
            return false;
        }

        step = parsed;
        return true;
    }

    /// <summary>Why <paramref name="segment"/> cannot be one path segment (a run, a scope, a writer id), or null.</summary>
    public static string? CheckSegment(string? segment) =>
        ObjectKey.Check(segment) ?? (segment!.Contains('/', StringComparison.Ordinal) ? "it contains '/'" : null);

    /// <summary>Why <paramref name="name"/> cannot be a checkpoint file name, or null.</summary>
    public static string? CheckFileName(string? name) => ObjectKey.Check(name);

    /// <summary>Keys relative to a step folder that belong to the layout, never to a writer's data.</summary>
    public static bool IsReservedInStep(string relativeKey) =>
        relativeKey == ManifestName || relativeKey.StartsWith(QuarantineFolder + "/", StringComparison.Ordinal) || !relativeKey.Contains('/', StringComparison.Ordinal);
}
