using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Konduktor.Storage;

/// <summary>
/// Registers a bucket store's location scheme with <c>AddKonduktorCheckpoints</c>: its options (bound from a configuration
/// section, or set in code) validated when the host starts, and a store made per location with the container's logger, clock
/// and resilience settings. The three public <c>AddS3</c>/<c>AddGcs</c> overloads are calls of this. A source file shared by the
/// store packages, compiled into each of them.
/// </summary>
/// <typeparam name="TStore">The store; also the category of its logger.</typeparam>
/// <typeparam name="TOptions">The store's options.</typeparam>
/// <typeparam name="TValidator">Validates <typeparamref name="TOptions"/> at start-up.</typeparam>
/// <param name="scheme">The location scheme, e.g. <c>s3</c>.</param>
/// <param name="sectionName">The options' configuration section, e.g. <c>Konduktor:Checkpoints:S3</c>.</param>
/// <param name="create">Makes the store for a location, with the options, resilience settings, logger and clock.</param>
internal sealed class BucketStoreRegistration<TStore, TOptions, TValidator>(
    string scheme,
    string sectionName,
    Func<Uri, TOptions, ResilienceOptions, ILogger?, TimeProvider, TStore> create)
    where TStore : ICheckpointStore
    where TOptions : class
    where TValidator : class, IValidateOptions<TOptions>
{
    /// <summary>Binds the options from the section of the <see cref="IConfiguration"/> registered in the container (if any).</summary>
    public IKonduktorCheckpointsBuilder Add(IKonduktorCheckpointsBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<TOptions>()
            .Configure<IServiceProvider>((options, services) => services.GetService<IConfiguration>()?.GetSection(sectionName).Bind(options));
        return AddScheme(builder);
    }

    /// <summary>Binds the options from the section of <paramref name="configuration"/>.</summary>
    public IKonduktorCheckpointsBuilder Add(IKonduktorCheckpointsBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        builder.Services.AddOptions<TOptions>().Bind(configuration.GetSection(sectionName));
        return AddScheme(builder);
    }

    /// <summary>Sets the options in code.</summary>
    public IKonduktorCheckpointsBuilder Add(IKonduktorCheckpointsBuilder builder, Action<TOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        return AddScheme(builder);
    }

    private IKonduktorCheckpointsBuilder AddScheme(IKonduktorCheckpointsBuilder builder)
    {
        builder.Services.AddValidatedOptions<TOptions, TValidator>();
        return builder.AddStoreScheme(scheme, (services, location) =>
        {
            var logger = services.GetService<ILoggerFactory>()?.CreateLogger<TStore>();
            var time = services.GetService<TimeProvider>() ?? TimeProvider.System;
            var resilience = services.GetService<IOptions<CheckpointManagerOptions>>()?.Value.Resilience ?? new ResilienceOptions();
            return create(location.Uri, services.GetRequiredService<IOptions<TOptions>>().Value, resilience, logger, time);
        });
    }
}
