using System.Collections.Concurrent;
using System.Text.RegularExpressions;

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Konduktor.Storage;

/// <summary>Registers Konduktor.Storage in a service collection.</summary>
public static partial class KonduktorCheckpointsServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="JobContext"/> (from the environment), the <see cref="ICheckpointStore"/> chosen by the
    /// <c>Location</c> scheme, and <see cref="CheckpointManager"/>, all singletons, with <see cref="CheckpointManagerOptions"/>
    /// bound from the section <c>Konduktor:Checkpoints</c> of <paramref name="configuration"/> (so the environment variable
    /// <c>Konduktor__Checkpoints__Location</c> works) and validated when the host starts.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration root.</param>
    /// <returns>A builder to add store schemes (<c>.AddS3()</c>, <c>.AddGcs()</c>).</returns>
    public static IKonduktorCheckpointsBuilder AddKonduktorCheckpoints(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var builder = services.AddKonduktorCheckpointsCore();
        services.AddOptions<CheckpointManagerOptions>().Bind(configuration.GetSection(CheckpointManagerOptions.SectionName));
        return builder;
    }

    /// <summary>Like <see cref="AddKonduktorCheckpoints(IServiceCollection, IConfiguration)"/>, configuring the options in code.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options (at least <see cref="CheckpointManagerOptions.Location"/>).</param>
    /// <returns>A builder to add store schemes.</returns>
    public static IKonduktorCheckpointsBuilder AddKonduktorCheckpoints(this IServiceCollection services, Action<CheckpointManagerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var builder = services.AddKonduktorCheckpointsCore();
        services.Configure(configure);
        return builder;
    }

    private static KonduktorCheckpointsBuilder AddKonduktorCheckpointsCore(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddValidatedOptions<CheckpointManagerOptions, CheckpointManagerOptionsValidator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CheckpointManagerOptions>, LocationValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(_ => JobContext.FromEnvironment());
        services.TryAddSingleton(CreateStore);
        services.TryAddSingleton(sp => new CheckpointManager(
            sp.GetRequiredService<ICheckpointStore>(),
            sp.GetRequiredService<JobContext>(),
            BoundOptions(sp),
            sp.GetService<ILogger<CheckpointManager>>(),
            sp.GetRequiredService<TimeProvider>()));

        var builder = new KonduktorCheckpointsBuilder(services);
        if (!services.Any(d => d.ServiceType == typeof(BuiltInSchemes)))
        {
            services.AddSingleton<BuiltInSchemes>();
            builder.AddStoreScheme("file", (_, location) => new FileSystemCheckpointStore(location.Uri));
            builder.AddStoreScheme("memory", (sp, location) => sp.GetRequiredService<BuiltInSchemes>().Memory(location.Bucket));
        }

        return builder;
    }

    private static ICheckpointStore CreateStore(IServiceProvider services)
    {
        var location = CheckpointLocation.Parse(BoundOptions(services).Location);
        var registration = services.GetServices<CheckpointStoreRegistration>().LastOrDefault(r => r.Scheme == location.Scheme)
            ?? throw LocationValidator.Unsupported(location, services.GetServices<CheckpointStoreRegistration>());
        try
        {
            return registration.Factory(services, location);
        }
        catch (ArgumentException e)
        {
            throw new CheckpointConfigurationException($"{CheckpointManagerOptions.SectionName}:Location", location.Text, $"a usable location ({e.Message})");
        }
    }

    /// <summary>The options, with a value the binder cannot convert reported like every other invalid value.</summary>
    private static CheckpointManagerOptions BoundOptions(IServiceProvider services)
    {
        try
        {
            return services.GetRequiredService<IOptions<CheckpointManagerOptions>>().Value;
        }
        catch (InvalidOperationException e) when (BinderFailure().Match(e.Message) is { Success: true } match)
        {
            throw new CheckpointConfigurationException(match.Groups["key"].Value, match.Groups["value"].Value, Expected(match.Groups["type"].Value));
        }
    }

    /// <summary>What a key of <paramref name="type"/> accepts: an enum's names (e.g. <c>Mode</c>: Collective, PerRank), else the type.</summary>
    private static string Expected(string type) =>
        new[] { typeof(CheckpointMode), typeof(SymbolicLinkPolicy), typeof(BestMode) }.FirstOrDefault(e => type.Contains(e.FullName!, StringComparison.Ordinal)) is { } known
            ? $"one of {string.Join(", ", Enum.GetNames(known))} (a value of type {type})"
            : $"a value of type {type}";

    // "Failed to convert configuration value 'abc' at 'Konduktor:Checkpoints:BufferSize' to type 'System.Int32'."
    [GeneratedRegex("value '(?<value>.*)' at '(?<key>[^']*)' to type '(?<type>[^']*)'", RegexOptions.CultureInvariant)]
    private static partial Regex BinderFailure();

    private sealed class KonduktorCheckpointsBuilder(IServiceCollection services) : IKonduktorCheckpointsBuilder
    {
        public IServiceCollection Services => services;

        public IKonduktorCheckpointsBuilder AddStoreScheme(string scheme, Func<IServiceProvider, CheckpointLocation, ICheckpointStore> factory)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(scheme);
            ArgumentNullException.ThrowIfNull(factory);
            services.AddSingleton(new CheckpointStoreRegistration(scheme.ToLowerInvariant(), factory));
            return this;
        }
    }

    /// <summary>The in-memory stores of one service provider, by name.</summary>
    private sealed class BuiltInSchemes
    {
        private readonly ConcurrentDictionary<string, InMemoryCheckpointStore> _memory = new(StringComparer.Ordinal);

        public InMemoryCheckpointStore Memory(string name) => _memory.GetOrAdd(name, n => new InMemoryCheckpointStore(n));
    }
}

/// <summary>Checks at start-up that the location parses and that a package handles its scheme.</summary>
internal sealed class LocationValidator(IEnumerable<CheckpointStoreRegistration> registrations) : IValidateOptions<CheckpointManagerOptions>
{
    // Schemes whose store lives in a package of its own, so the error can say which one to add.
    private static readonly Dictionary<string, string> KnownPackages = new(StringComparer.Ordinal)
    {
        ["s3"] = "the Konduktor.Storage.S3 package, registered with .AddS3()",
        ["gs"] = "the Konduktor.Storage.Gcs package, registered with .AddGcs()",
    };

    public ValidateOptionsResult Validate(string? name, CheckpointManagerOptions options)
    {
        try
        {
            var location = CheckpointLocation.Parse(options.Location);
            return registrations.Any(r => r.Scheme == location.Scheme)
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(Unsupported(location, registrations).Message);
        }
        catch (CheckpointConfigurationException e)
        {
            return ValidateOptionsResult.Fail(e.Message);
        }
    }

    public static CheckpointConfigurationException Unsupported(CheckpointLocation location, IEnumerable<CheckpointStoreRegistration> registrations)
    {
        var supported = string.Join(", ", registrations.Select(r => r.Scheme + "://").Distinct().Order(StringComparer.Ordinal));
        return new CheckpointConfigurationException(
            $"{CheckpointManagerOptions.SectionName}:Location",
            location.Text,
            KnownPackages.TryGetValue(location.Scheme, out var package)
                ? $"a registered scheme: {location.Scheme}:// needs {package}; registered: {supported}"
                : $"a supported scheme ({supported})");
    }
}
