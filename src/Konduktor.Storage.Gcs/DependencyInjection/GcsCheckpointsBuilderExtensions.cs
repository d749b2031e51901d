using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Konduktor.Storage.Gcs;

/// <summary>Registers the <c>gs://</c> location scheme with <c>AddKonduktorCheckpoints</c>.</summary>
public static class GcsCheckpointsBuilderExtensions
{
    /// <summary>
    /// Makes <c>gs://bucket/prefix</c> locations use <see cref="GcsCheckpointStore"/>, with <see cref="GcsStoreOptions"/> bound from
    /// the section <c>Konduktor:Checkpoints:Gcs</c> of the <see cref="IConfiguration"/> registered in the container (if any) and
    /// validated when the host starts.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddKonduktorCheckpoints</c>.</param>
    /// <returns>The builder.</returns>
    public static IKonduktorCheckpointsBuilder AddGcs(this IKonduktorCheckpointsBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<GcsStoreOptions>()
            .Configure<IServiceProvider>((options, services) => services.GetService<IConfiguration>()?.GetSection(GcsStoreOptions.SectionName).Bind(options));
        return builder.AddGcsCore();
    }

    /// <summary>Like <see cref="AddGcs(IKonduktorCheckpointsBuilder)"/>, binding the options from <paramref name="configuration"/>.</summary>
    /// <param name="builder">The builder returned by <c>AddKonduktorCheckpoints</c>.</param>
    /// <param name="configuration">The configuration root; the section <c>Konduktor:Checkpoints:Gcs</c> is read.</param>
    /// <returns>The builder.</returns>
    public static IKonduktorCheckpointsBuilder AddGcs(this IKonduktorCheckpointsBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        builder.Services.AddOptions<GcsStoreOptions>().Bind(configuration.GetSection(GcsStoreOptions.SectionName));
        return builder.AddGcsCore();
    }

    /// <summary>Like <see cref="AddGcs(IKonduktorCheckpointsBuilder)"/>, configuring the options in code.</summary>
    /// <param name="builder">The builder returned by <c>AddKonduktorCheckpoints</c>.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The builder.</returns>
    public static IKonduktorCheckpointsBuilder AddGcs(this IKonduktorCheckpointsBuilder builder, Action<GcsStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        return builder.AddGcsCore();
    }

    private static IKonduktorCheckpointsBuilder AddGcsCore(this IKonduktorCheckpointsBuilder builder)
    {
        builder.Services.AddOptions<GcsStoreOptions>().ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GcsStoreOptions>, GcsStoreOptionsValidator>());
        return builder.AddStoreScheme("gs", static (services, location) =>
        {
            var logger = services.GetService<ILoggerFactory>()?.CreateLogger<GcsCheckpointStore>();
            var time = services.GetService<TimeProvider>() ?? TimeProvider.System;
            var resilience = services.GetService<IOptions<CheckpointManagerOptions>>()?.Value.Resilience ?? new ResilienceOptions();
            return new GcsCheckpointStore(
                location.Uri,
                services.GetRequiredService<IOptions<GcsStoreOptions>>().Value,
                credential: null,
                resilience,
                logger,
                time);
        });
    }
}
