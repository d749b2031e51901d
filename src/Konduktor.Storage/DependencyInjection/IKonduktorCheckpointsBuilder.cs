namespace Konduktor.Storage;

/// <summary>Configures Konduktor.Storage in a service collection; returned by <c>AddKonduktorCheckpoints</c>.</summary>
public interface IKonduktorCheckpointsBuilder
{
    /// <summary>The service collection being configured.</summary>
    Microsoft.Extensions.DependencyInjection.IServiceCollection Services { get; }

    /// <summary>Registers the store for a location scheme (a later registration of the same scheme wins).</summary>
    /// <param name="scheme">The scheme, e.g. <c>s3</c>.</param>
    /// <param name="factory">Creates the store for a parsed location.</param>
    /// <returns>This builder.</returns>
    IKonduktorCheckpointsBuilder AddStoreScheme(string scheme, Func<IServiceProvider, CheckpointLocation, ICheckpointStore> factory);
}
