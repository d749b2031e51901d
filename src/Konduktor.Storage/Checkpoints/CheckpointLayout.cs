using System.Globalization;
using System.Text;

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

    public static string StepFolder(string run, string scope, long step) => $"{ScopePrefix(run, scope)}{StepName(step)}/";

    /// <summary>A step folder's name: <c>step-</c> and the step in at least 12 digits.</summary>
    public static string StepName(long step) => StepPrefix + step.ToString("D12", CultureInfo.InvariantCulture);

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

    /// <summary>
    /// The longest run id or scope, in bytes of UTF-8. With both at the limit, the layout's part of a key is at most 352
    /// bytes (<c>{run}/{scope}/step-{19 digits}/</c> is 283, then <c>{writer}/</c> 25 before a file name, or
    /// <c>quarantine/{stamp}-{writer}.manifest.json</c> 69), so at least 670 of S3's and GCS's 1024 bytes remain for the
    /// location's prefix and the file name; and one segment stays well within a Linux file name's 255 bytes.
    /// </summary>
    public const int MaxNameBytes = 128;

    /// <summary>What a run id or a fixed scope may be, for error messages.</summary>
    public const string NameRule = "one path segment of 1 to 128 bytes of UTF-8, without '/', '\\' or control characters, not starting with '.', without surrounding whitespace";

    /// <summary>The <c>Scope</c> keyword for one scope per pod.</summary>
    public const string RankKeyword = "rank";

    /// <summary>
    /// Why <paramref name="segment"/> cannot be one path segment (a run, a scope, a writer id), or null. What passes is a
    /// valid folder name on every store: no '/', nothing an <see cref="ObjectKey"/> refuses, no leading '.' (hidden, or
    /// reserved such as the file-system store's <c>.konduktor-tmp</c>), no surrounding whitespace (a spelling that would
    /// silently make another folder), and at most <see cref="MaxNameBytes"/> bytes of UTF-8.
    /// </summary>
    public static string? CheckSegment(string? segment)
    {
        if (ObjectKey.Check(segment) is { } problem)
        {
            return problem;
        }

        if (segment!.Contains('/', StringComparison.Ordinal))
        {
            return "it contains '/'";
        }

        if (segment[0] == '.')
        {
            return "it starts with '.' (hidden, or reserved by a store, like the file-system store's .konduktor-tmp)";
        }

        if (char.IsWhiteSpace(segment[0]) || char.IsWhiteSpace(segment[^1]))
        {
            return "it starts or ends with whitespace";
        }

        var bytes = Encoding.UTF8.GetByteCount(segment);
        return bytes > MaxNameBytes ? $"it is {bytes} bytes of UTF-8, more than the limit of {MaxNameBytes} bytes" : null;
    }

    /// <summary>
    /// Whether a configured <c>Scope</c> is the keyword <c>rank</c> (one scope per pod): in any case and with surrounding
    /// whitespace, so that no spelling of it becomes one fixed scope shared by every pod.
    /// </summary>
    public static bool IsRankKeyword(string? scope) =>
        scope is not null && scope.AsSpan().Trim().Equals(RankKeyword, StringComparison.OrdinalIgnoreCase);

    /// <summary>Why <paramref name="name"/> cannot be a checkpoint file name, or null.</summary>
    public static string? CheckFileName(string? name) => ObjectKey.Check(name);

    /// <summary>Keys relative to a step folder that belong to the layout, never to a writer's data.</summary>
    public static bool IsReservedInStep(string relativeKey) =>
        relativeKey == ManifestName || relativeKey.StartsWith(QuarantineFolder + "/", StringComparison.Ordinal) || !relativeKey.Contains('/', StringComparison.Ordinal);
}
