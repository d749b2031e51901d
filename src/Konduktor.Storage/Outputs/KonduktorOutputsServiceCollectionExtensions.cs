using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Konduktor.Storage;

/// <summary>Registers the runtime-outputs sync in a service collection.</summary>
public static class KonduktorOutputsServiceCollectionExtensions
{
    /// <summary>
    /// Registers the output sync as a hosted service, with <see cref="OutputSyncOptions"/> bound from the section
    /// <c>Konduktor:Outputs</c> of <paramref name="configuration"/> and validated when the host starts, plus
    /// <see cref="OutputSync"/> and the run's <see cref="RunOutputs"/> as singletons. Call it after
    /// <c>AddKonduktorCheckpoints</c>: the sync takes its store (unless <c>Location</c> is set), run and scope from there,
    /// and syncs before every checkpoint commit.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration root.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddKonduktorOutputs(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddKonduktorOutputsCore().Bind(configuration.GetSection(OutputSyncOptions.SectionName));
        return services;
    }

    /// <summary>Like <see cref="AddKonduktorOutputs(IServiceCollection, IConfiguration)"/>, configuring the options in code.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddKonduktorOutputs(this IServiceCollection services, Action<OutputSyncOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.AddKonduktorOutputsCore().Configure(configure);
        return services;
    }

    private static OptionsBuilder<OutputSyncOptions> AddKonduktorOutputsCore(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddValidatedOptions<OutputSyncOptions, OutputSyncOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(_ => JobContext.FromEnvironment());
        services.TryAddSingleton(CreateSync);
        services.TryAddSingleton(sp => sp.GetRequiredService<OutputSync>().Outputs);
        services.AddHostedService(sp => new OutputSyncService(
            sp.GetRequiredService<OutputSync>(),
            sp.GetService<CheckpointManager>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILogger<OutputSyncService>>()));
        return options;
    }

    private static OutputSync CreateSync(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<OutputSyncOptions>>().Value;
        OutputSyncOptionsValidator.ThrowIfInvalid(options);
        var job = services.GetRequiredService<JobContext>();
        var manager = options.RunId is null || options.Scope is null || options.Location is null ? services.GetService<CheckpointManager>() : null;
        var run = options.RunId ?? manager?.RunId
            ?? throw new CheckpointConfigurationException($"{OutputSyncOptions.SectionName}:RunId", null, "a run id, or AddKonduktorCheckpoints registered first to take its run");
        var scope = options.Scope ?? manager?.Scope
            ?? throw new CheckpointConfigurationException($"{OutputSyncOptions.SectionName}:Scope", null, "a scope name, or AddKonduktorCheckpoints registered first to take its scope");
        var store = options.Location is { } location
            ? CreateStore(services, CheckpointLocation.Parse(location, $"{OutputSyncOptions.SectionName}:Location"))
            : services.GetService<ICheckpointStore>()
                ?? throw new CheckpointConfigurationException($"{OutputSyncOptions.SectionName}:Location", null, "a location URI, or AddKonduktorCheckpoints registered first to use its store");
        // Named by where it came from, so an error points at the setting to fix.
        var directoryKey = options.LocalDirectory is not null ? $"{OutputSyncOptions.SectionName}:LocalDirectory"
            : job.OutputDirectory is not null ? "KONDUKTOR_OUTPUT_DIR" : $"{OutputSyncOptions.SectionName}:LocalDirectory";
        var directory = Path.GetFullPath(options.LocalDirectory ?? job.OutputDirectory ?? "outputs");
        if (!Directory.Exists(directory))
        {
            if (File.Exists(directory))
            {
                throw new CheckpointConfigurationException(directoryKey, directory, "a directory (a file has that path)");
            }

            if (!options.CreateLocalDirectory)
            {
                throw new CheckpointConfigurationException(
                    directoryKey, directory, $"an existing directory (it does not exist, and {OutputSyncOptions.SectionName}:CreateLocalDirectory is false)");
            }

            try
            {
                Directory.CreateDirectory(directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CheckpointConfigurationException(directoryKey, directory, $"a directory that can be created ({e.Message})");
            }
        }

        return new OutputSync(store, run, scope, directory, options, services.GetService<ILogger<OutputSync>>(), services.GetRequiredService<TimeProvider>());
    }

    private static ICheckpointStore CreateStore(IServiceProvider services, CheckpointLocation location)
    {
        var registrations = services.GetServices<CheckpointStoreRegistration>().ToList();
        var registration = registrations.LastOrDefault(r => r.Scheme == location.Scheme)
            ?? throw new CheckpointConfigurationException(
                $"{OutputSyncOptions.SectionName}:Location", location.Text,
                $"a registered scheme ({string.Join(", ", registrations.Select(r => r.Scheme + "://").Distinct())}; s3:// and gs:// need AddKonduktorCheckpoints(...).AddS3() or .AddGcs())");
        return registration.Factory(services, location);
    }
}
