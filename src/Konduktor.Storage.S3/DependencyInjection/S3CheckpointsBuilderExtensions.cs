using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Konduktor.Storage.S3;

/// <summary>Registers the <c>s3://</c> location scheme with <c>AddKonduktorCheckpoints</c>.</summary>
public static class S3CheckpointsBuilderExtensions
{
    /// <summary>
    /// Makes <c>s3://bucket/prefix</c> locations use <see cref="S3CheckpointStore"/>, with <see cref="S3StoreOptions"/> bound from
    /// the section <c>Konduktor:Checkpoints:S3</c> of the <see cref="IConfiguration"/> registered in the container (if any) and
    /// validated when the host starts.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddKonduktorCheckpoints</c>.</param>
    /// <returns>The builder.</returns>
    public static IKonduktorCheckpointsBuilder AddS3(this IKonduktorCheckpointsBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<S3StoreOptions>()
            .Configure<IServiceProvider>((options, services) => services.GetService<IConfiguration>()?.GetSection(S3StoreOptions.SectionName).Bind(options));
        return builder.AddS3Core();
    }

    /// <summary>Like <see cref="AddS3(IKonduktorCheckpointsBuilder)"/>, binding the options from <paramref name="configuration"/>.</summary>
    /// <param name="builder">The builder returned by <c>AddKonduktorCheckpoints</c>.</param>
    /// <param name="configuration">The configuration root; the section <c>Konduktor:Checkpoints:S3</c> is read.</param>
    /// <returns>The builder.</returns>
    public static IKonduktorCheckpointsBuilder AddS3(this IKonduktorCheckpointsBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        builder.Services.AddOptions<S3StoreOptions>().Bind(configuration.GetSection(S3StoreOptions.SectionName));
        return builder.AddS3Core();
    }

    /// <summary>Like <see cref="AddS3(IKonduktorCheckpointsBuilder)"/>, configuring the options in code.</summary>
    /// <param name="builder">The builder returned by <c>AddKonduktorCheckpoints</c>.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The builder.</returns>
    public static IKonduktorCheckpointsBuilder AddS3(this IKonduktorCheckpointsBuilder builder, Action<S3StoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        return builder.AddS3Core();
    }

    private static IKonduktorCheckpointsBuilder AddS3Core(this IKonduktorCheckpointsBuilder builder)
    {
        builder.Services.AddOptions<S3StoreOptions>().ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<S3StoreOptions>, S3StoreOptionsValidator>());
        return builder.AddStoreScheme("s3", static (services, location) =>
        {
            var logger = services.GetService<ILoggerFactory>()?.CreateLogger<S3CheckpointStore>();
            var time = services.GetService<TimeProvider>() ?? TimeProvider.System;
            var resilience = services.GetService<IOptions<CheckpointManagerOptions>>()?.Value.Resilience ?? new ResilienceOptions();
            return new S3CheckpointStore(
                location.Uri,
                services.GetRequiredService<IOptions<S3StoreOptions>>().Value,
                credentials: null,
                resilience,
                logger,
                time);
        });
    }
}
