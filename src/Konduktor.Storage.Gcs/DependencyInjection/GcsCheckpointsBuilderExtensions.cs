using Microsoft.Extensions.Configuration;

namespace Konduktor.Storage.Gcs;

/// <summary>Registers the <c>gs://</c> location scheme with <c>AddKonduktorCheckpoints</c>.</summary>
public static class GcsCheckpointsBuilderExtensions
{
    private static readonly BucketStoreRegistration<GcsCheckpointStore, GcsStoreOptions, GcsStoreOptionsValidator> Registration = new(
        "gs",
        GcsStoreOptions.SectionName,
        static (location, options, resilience, logger, time) => new GcsCheckpointStore(location, options, credential: null, resilience, logger, time));

    /// <summary>
    /// Makes <c>gs://bucket/prefix</c> locations use <see cref="GcsCheckpointStore"/>, with <see cref="GcsStoreOptions"/> bound from
    /// the section <c>Konduktor:Checkpoints:Gcs</c> of the <see cref="IConfiguration"/> registered in the container (if any) and
    /// validated when the host starts.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddKonduktorCheckpoints</c>.</param>
    /// <returns>The builder.</returns>
    public static IKonduktorCheckpointsBuilder AddGcs(this IKonduktorCheckpointsBuilder builder) => Registration.Add(builder);

    /// <summary>Like <see cref="AddGcs(IKonduktorCheckpointsBuilder)"/>, binding the options from <paramref name="configuration"/>.</summary>
    /// <param name="builder">The builder returned by <c>AddKonduktorCheckpoints</c>.</param>
    /// <param name="configuration">The configuration root; the section <c>Konduktor:Checkpoints:Gcs</c> is read.</param>
    /// <returns>The builder.</returns>
    public static IKonduktorCheckpointsBuilder AddGcs(this IKonduktorCheckpointsBuilder builder, IConfiguration configuration) => Registration.Add(builder, configuration);

    /// <summary>Like <see cref="AddGcs(IKonduktorCheckpointsBuilder)"/>, configuring the options in code.</summary>
    /// <param name="builder">The builder returned by <c>AddKonduktorCheckpoints</c>.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The builder.</returns>
    public static IKonduktorCheckpointsBuilder AddGcs(this IKonduktorCheckpointsBuilder builder, Action<GcsStoreOptions> configure) => Registration.Add(builder, configure);
}
