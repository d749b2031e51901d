using System.Globalization;

namespace Konduktor.Storage;

/// <summary>
/// The collective layout, a public contract (the README states it):
/// <c>{run}/job/step-{N:D12}/manifest.json</c> commits the step and lists the parts
/// <c>{run}/job/step-{N:D12}/rank-{r:D5}/manifest.json</c>, each committing rank r's data under
/// <c>{run}/job/step-{N:D12}/rank-{r:D5}/{writer}/{file}</c>. Superseded step commits go to <c>step-…/quarantine/</c>,
/// superseded parts to <c>step-…/rank-…/quarantine/</c>; the ranks' answers on a restored step live under
/// <c>{run}/job/verdicts/step-{N:D12}/{commit}/</c>.
/// </summary>
internal static class CollectiveLayout
{
    /// <summary>The folder of a run that holds its collective steps, in the place of a scope.</summary>
    public const string JobFolder = "job";

    public const string VerdictsFolder = "verdicts";

    public static string JobPrefix(string run) => CheckpointLayout.ScopePrefix(run, JobFolder);

    public static string StepFolder(string run, long step) => CheckpointLayout.StepFolder(run, JobFolder, step);

    public static string StepCommitKey(string run, long step) => StepFolder(run, step) + CheckpointLayout.ManifestName;

    public static string StepQuarantinePrefix(string run, long step) => StepFolder(run, step) + CheckpointLayout.QuarantineFolder + "/";

    public static string PartFolder(string run, long step, string rankScope) => StepFolder(run, step) + rankScope + "/";

    /// <summary>A part manifest's key relative to its step folder, as the step commit lists it.</summary>
    public static string PartKey(int rank) => RankScope(rank) + "/" + CheckpointLayout.ManifestName;

    public static string RankScope(int rank) => string.Create(CultureInfo.InvariantCulture, $"rank-{rank:D5}");

    public static string VerdictPrefix(string run, long step, string commitId) =>
        $"{JobPrefix(run)}{VerdictsFolder}/{CheckpointLayout.StepName(step)}/{commitId}/";

    public static string VerdictKey(string run, long step, string commitId, int rank, bool intact, int restartAttempt) =>
        VerdictPrefix(run, step, commitId) + RankScope(rank) + (intact
            ? string.Create(CultureInfo.InvariantCulture, $".a{restartAttempt}.intact.json")
            : ".corrupt.json");

    /// <summary>Parses <c>rank-00003</c> (only the canonical spelling).</summary>
    public static bool TryParseRank(string name, out int rank)
    {
        if (name.StartsWith("rank-", StringComparison.Ordinal)
            && int.TryParse(name.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out rank)
            && RankScope(rank) == name)
        {
            return true;
        }

        rank = -1;
        return false;
    }
}
