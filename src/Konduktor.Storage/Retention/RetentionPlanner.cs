using System.Globalization;

namespace Konduktor.Storage;

/// <summary>Decides which valid checkpoints retention keeps: a pure function of the checkpoints, the policies and the protected steps.</summary>
internal static class RetentionPlanner
{
    /// <summary>Returns the steps to keep.</summary>
    /// <param name="checkpoints">The scope's valid checkpoints (any order).</param>
    /// <param name="options">The policies.</param>
    /// <param name="protectedSteps">Steps kept whatever the policies say (the newest valid one, the one restored from).</param>
    public static HashSet<long> Keep(IReadOnlyList<CheckpointManifest> checkpoints, RetentionOptions options, IEnumerable<long> protectedSteps)
    {
        var keep = new HashSet<long>(protectedSteps);
        var newestFirst = checkpoints.OrderByDescending(c => c.Step).ToList();
        keep.UnionWith(newestFirst.Take(options.KeepLast).Select(c => c.Step));
        if (options.KeepEvery is { } every)
        {
            keep.UnionWith(newestFirst.Where(c => c.Step % every == 0).Select(c => c.Step));
        }

        if (options.KeepBest is { } best && options.BestMetric is { } metric)
        {
            var ranked = newestFirst
                .Select(c => (c.Step, Value: Metric(c, metric)))
                .Where(c => c.Value is not null)
                .Select(c => (c.Step, Value: c.Value!.Value));

            // Ties go to the newer checkpoint.
            ranked = options.BestMode == BestMode.Min
                ? ranked.OrderBy(c => c.Value).ThenByDescending(c => c.Step)
                : ranked.OrderByDescending(c => c.Value).ThenByDescending(c => c.Step);
            keep.UnionWith(ranked.Take(best).Select(c => c.Step));
        }

        keep.UnionWith(options.Pinned);
        return keep;
    }

    private static double? Metric(CheckpointManifest checkpoint, string metric) =>
        checkpoint.Metadata.TryGetValue(metric, out var text)
        && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
        && double.IsFinite(value)
            ? value
            : null;
}
