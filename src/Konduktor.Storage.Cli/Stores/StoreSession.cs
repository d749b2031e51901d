using Konduktor.Storage.Gcs;
using Konduktor.Storage.S3;

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Konduktor.Storage.Cli;

/// <summary>
/// One location opened the way the library opens it: configuration from the environment (<c>Konduktor__…</c>) with the
/// command's options on top, the store chosen by the scheme through <c>AddKonduktorCheckpoints().AddS3().AddGcs()</c>, and
/// the library's retries around it (a <see cref="CheckpointManager"/> per run and scope).
/// </summary>
/// <param name="services">The container that owns the store (disposed with the session).</param>
/// <param name="location">The location.</param>
/// <param name="rawStore">The store without the library's retries: each manager wraps it in its own.</param>
/// <param name="configured">The manager options read from configuration and the command's options.</param>
internal sealed class StoreSession(ServiceProvider services, CheckpointLocation location, ICheckpointStore rawStore, CheckpointManagerOptions configured)
    : IAsyncDisposable
{
    // Any valid run name: the manager made for a listing of runs only lends its retrying store.
    private const string ListingRun = "konduktor-storage";

    /// <summary>The folder of a run that holds its collective steps (<c>{run}/job/step-N/rank-R/…</c>).</summary>
    public const string CollectiveFolder = "job";

    /// <summary>The folder of a run that holds its runtime outputs (<c>{run}/outputs/…</c>).</summary>
    public const string OutputsFolder = "outputs";

    /// <summary>The location.</summary>
    public CheckpointLocation Location { get; } = location;

    /// <summary>The store with the library's retries.</summary>
    public ICheckpointStore Store => field ??= Manager(ListingRun, "rank-00000").Store;

    /// <summary>Opens <paramref name="location"/>.</summary>
    /// <exception cref="CliException">An option does not apply to the location's scheme.</exception>
    /// <exception cref="CheckpointConfigurationException">The location or a configured value is invalid.</exception>
    /// <exception cref="OptionsValidationException">A store option is invalid.</exception>
    public static StoreSession Open(string location, ConnectionSettings settings, IReadOnlyDictionary<string, string?> environment)
    {
        var parsed = CheckpointLocation.Parse(location, "LOCATION");
        if (parsed.Scheme is not ("file" or "s3" or "gs"))
        {
            throw CliException.Usage(
                $"LOCATION '{location}' has the scheme '{parsed.Scheme}://', which this tool does not handle: use a local path, file:///abs/dir, s3://bucket/prefix or gs://bucket/prefix");
        }

        // Every command reads a location: a mistyped local path must not look like an empty store.
        if (parsed.Scheme == "file" && !Directory.Exists(parsed.Uri.LocalPath))
        {
            throw CliException.Usage(File.Exists(parsed.Uri.LocalPath)
                ? $"LOCATION '{location}' is a file, not a directory of checkpoints"
                : $"LOCATION '{location}' does not exist (no directory {parsed.Uri.LocalPath})");
        }

        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(FromEnvironment(environment))
            .AddInMemoryCollection(Overrides(parsed, settings))
            .Build();
        var services = new ServiceCollection();
        services.AddKonduktorCheckpoints(configuration).AddS3(configuration).AddGcs(configuration);
        var provider = services.BuildServiceProvider();
        try
        {
            var store = provider.GetRequiredService<ICheckpointStore>();
            var options = provider.GetRequiredService<IOptions<CheckpointManagerOptions>>().Value;
            return new StoreSession(provider, parsed, store, options);
        }
        catch
        {
            provider.Dispose();
            throw;
        }
    }

    /// <summary>A manager of one run and scope, with the configured resilience and retention; <paramref name="keepLast"/> overrides retention's.</summary>
    public CheckpointManager Manager(string run, string scope, int? keepLast = null)
    {
        var retention = new RetentionOptions
        {
            KeepLast = keepLast ?? configured.Retention.KeepLast,
            KeepEvery = keepLast is null ? configured.Retention.KeepEvery : null,
            KeepBest = keepLast is null ? configured.Retention.KeepBest : null,
            BestMetric = configured.Retention.BestMetric,
            BestMode = configured.Retention.BestMode,
        };
        if (keepLast is null)
        {
            foreach (var pinned in configured.Retention.Pinned)
            {
                retention.Pinned.Add(pinned);
            }
        }

        var options = new CheckpointManagerOptions
        {
            Location = Location.Text,
            RunId = run,
            Scope = scope,
            Resilience = configured.Resilience,
            GarbageGracePeriod = configured.GarbageGracePeriod,
            BufferSize = configured.BufferSize,
            Retention = retention,
        };
        return new CheckpointManager(rawStore, JobContext.Create(jobName: run), options);
    }

    /// <summary>
    /// The per-rank scopes of <paramref name="run"/>, or just <paramref name="scope"/> when one is given. The run's other
    /// folders are not scopes: <c>job</c> holds collective steps, <c>outputs</c> the runtime outputs (see the README's layout).
    /// </summary>
    /// <exception cref="CliException">The run has no folder at the location, or the scope is not one of its scopes.</exception>
    public async Task<IReadOnlyList<string>> ScopesAsync(string run, string? scope, CancellationToken cancellationToken)
    {
        var folders = await RunFoldersAsync(run, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<string> scopes = [.. folders.Where(f => f is not (CollectiveFolder or OutputsFolder))];
        if (scope is null)
        {
            return scopes.Count > 0
                ? scopes
                : throw CliException.Usage($"run '{run}' has no per-rank checkpoints at {Location.Text} (it holds: {Names(folders)}); 'ls --run {run}' shows collective steps");
        }

        return scopes.Contains(scope, StringComparer.Ordinal)
            ? [scope]
            : throw CliException.Usage($"run '{run}' has no scope '{scope}' at {Location.Text} (its scopes: {Names(scopes)})");
    }

    /// <summary>The one scope a command works on: the one given, or the run's only scope.</summary>
    /// <exception cref="CliException">No scope was given and the run has several.</exception>
    public async Task<string> SingleScopeAsync(string run, string? scope, CancellationToken cancellationToken)
    {
        var scopes = await ScopesAsync(run, scope, cancellationToken).ConfigureAwait(false);
        return scopes.Count == 1
            ? scopes[0]
            : throw CliException.Usage($"run '{run}' has {scopes.Count} scopes ({Names(scopes)}): choose one with --scope");
    }

    /// <summary>The folders of <paramref name="run"/>: its scopes, and <c>job</c> and <c>outputs</c> when it has them.</summary>
    /// <exception cref="CliException">The run has no folder at the location.</exception>
    public async Task<IReadOnlyList<string>> RunFoldersAsync(string run, CancellationToken cancellationToken)
    {
        var folders = await CheckpointCatalog.ListScopesAsync(Store, run, cancellationToken).ConfigureAwait(false);
        if (folders.Count == 0)
        {
            var runs = await CheckpointCatalog.ListRunsAsync(Store, cancellationToken).ConfigureAwait(false);
            throw CliException.Usage($"there is no run '{run}' at {Location.Text} (runs there: {Names(runs)})");
        }

        return folders;
    }

    public async ValueTask DisposeAsync() => await services.DisposeAsync().ConfigureAwait(false);

    private static string Names(IReadOnlyList<string> names) => names.Count == 0 ? "none" : string.Join(", ", names);

    /// <summary>The <c>Konduktor__…</c> variables as configuration keys, as the .NET environment-variable provider reads them.</summary>
    private static IEnumerable<KeyValuePair<string, string?>> FromEnvironment(IReadOnlyDictionary<string, string?> environment) =>
        environment
            .Where(v => v.Key.StartsWith("Konduktor__", StringComparison.OrdinalIgnoreCase))
            .Select(v => KeyValuePair.Create(v.Key.Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal), v.Value));

    /// <summary>The location and the connection options, as the configuration keys the stores read.</summary>
    private static Dictionary<string, string?> Overrides(CheckpointLocation location, ConnectionSettings settings)
    {
        var values = new Dictionary<string, string?> { [$"{CheckpointManagerOptions.SectionName}:Location"] = location.Text };
        if (settings.Endpoint is { } endpoint)
        {
            values[location.Scheme switch
            {
                "s3" => $"{S3StoreOptions.SectionName}:Endpoint",
                "gs" => $"{GcsStoreOptions.SectionName}:Endpoint",
                _ => throw CliException.Usage($"--endpoint applies to s3:// and gs:// locations, not to {location.Scheme}:// ({location.Text})"),
            }] = endpoint;
        }

        foreach (var (option, name, value) in new[] { ("--region", "Region", settings.Region), ("--profile", "Profile", settings.Profile) })
        {
            if (value is not null)
            {
                values[location.Scheme == "s3"
                    ? $"{S3StoreOptions.SectionName}:{name}"
                    : throw CliException.Usage($"{option} applies to s3:// locations, not to {location.Scheme}:// ({location.Text})")] = value;
            }
        }

        return values;
    }
}
