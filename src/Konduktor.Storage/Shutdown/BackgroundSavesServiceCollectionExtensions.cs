using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

using IConfiguration = Microsoft.Extensions.Configuration.IConfiguration;

namespace Konduktor.Storage;

/// <summary>Registers background saves and the shutdown drain.</summary>
public static class BackgroundSavesServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="BackgroundCheckpointSaver"/> and <see cref="CheckpointShutdown"/> (singletons) and a hosted
    /// service that starts the shutdown clock when the host stops and drains the saves in flight within
    /// <c>Konduktor:Shutdown:GracePeriod</c> minus <c>Margin</c>. Options come from <c>Konduktor:Checkpoints:Background</c>
    /// and <c>Konduktor:Shutdown</c> of <paramref name="configuration"/> (defaults without it), validated at start-up.
    /// Call it before registering the services that save, so that the drain runs after they stop.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddKonduktorCheckpoints</c>.</param>
    /// <param name="configuration">The configuration root; <see langword="null"/> for the defaults.</param>
    /// <returns>The builder.</returns>
    public static IKonduktorCheckpointsBuilder AddBackgroundSaves(this IKonduktorCheckpointsBuilder builder, IConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var background = services.AddValidatedOptions<BackgroundSaveOptions, BackgroundSavesValidator>();
        var shutdown = services.AddValidatedOptions<ShutdownOptions, BackgroundSavesValidator>();
        if (configuration is not null)
        {
            background.Bind(configuration.GetSection(BackgroundSaveOptions.SectionName));
            shutdown.Bind(configuration.GetSection(ShutdownOptions.SectionName));
        }

        services.TryAddSingleton(sp => new BackgroundCheckpointSaver(
            sp.GetRequiredService<CheckpointManager>(),
            sp.GetRequiredService<IOptions<BackgroundSaveOptions>>().Value,
            sp.GetService<Microsoft.Extensions.Logging.ILogger<BackgroundCheckpointSaver>>()));
        services.TryAddSingleton(sp => new CheckpointShutdown(
            sp.GetRequiredService<BackgroundCheckpointSaver>(),
            sp.GetRequiredService<IOptions<ShutdownOptions>>().Value,
            sp.GetService<Microsoft.Extensions.Logging.ILogger<CheckpointShutdown>>(),
            sp.GetService<TimeProvider>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, CheckpointShutdownService>());
        return builder;
    }
}
