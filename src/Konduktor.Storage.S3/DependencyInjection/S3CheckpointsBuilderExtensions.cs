using Microsoft.Extensions.Configuration;

namespace Konduktor.Storage.S3;

/// <summary>Registers the <c>s3://</c> location scheme with <c>AddKonduktorCheckpoints</c>.</summary>
public static class S3CheckpointsBuilderExtensions
{
    private static readonly BucketStoreRegistration<S3CheckpointStore, S3StoreOptions, S3StoreOptionsValidator> Registration = new(
        "s3",
        S3StoreOptions.SectionName,
        static (location, options, resilience, logger, time) => new S3CheckpointStore(location, options, credentials: null, resilience, logger, time));

    /// <summary>
    /// Makes <c>s3://bucket/prefix</c> locations use <see cref="S3CheckpointStore"/>, with <see cref="S3StoreOptions"/> bound from
    /// the section <c>Konduktor:Checkpoints:S3</c> of the <see cref="IConfiguration"/> registered in the container (if any) and
    /// validated when the host starts.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddKonduktorCheckpoints</c>.</param>
    /// <returns>The builder.</returns>
    public static IKonduktorCheckpointsBuilder AddS3(this IKonduktorCheckpointsBuilder builder) => Registration.Add(builder);

    /// <summary>Like <see cref="AddS3(IKonduktorCheckpointsBuilder)"/>, binding the options from <paramref name="configuration"/>.</summary>
    /// <param name="builder">The builder returned by <c>AddKonduktorCheckpoints</c>.</param>
    /// <param name="configuration">The configuration root; the section <c>Konduktor:Checkpoints:S3</c> is read.</param>
    /// <returns>The builder.</returns>
    public static IKonduktorCheckpointsBuilder AddS3(this IKonduktorCheckpointsBuilder builder, IConfiguration configuration) => Registration.Add(builder, configuration);

    /// <summary>Like <see cref="AddS3(IKonduktorCheckpointsBuilder)"/>, configuring the options in code.</summary>
    /// <param name="builder">The builder returned by <c>AddKonduktorCheckpoints</c>.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The builder.</returns>
    public static IKonduktorCheckpointsBuilder AddS3(this IKonduktorCheckpointsBuilder builder, Action<S3StoreOptions> configure) => Registration.Add(builder, configure);
}
