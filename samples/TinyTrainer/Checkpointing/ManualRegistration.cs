using Konduktor.Storage;

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TinyTrainer.Checkpointing;

/// <summary>Registers the checkpoint manager by hand, for as long as the library has no AddKonduktorCheckpoints.</summary>
internal static class ManualRegistration
{
    public static IServiceCollection AddKonduktorCheckpoints(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(_ => JobContext.FromEnvironment());
        services.AddSingleton(sp =>
        {
            var section = configuration.GetSection("Konduktor:Checkpoints");
            var location = section["Location"];
            var options = section.Get<CheckpointManagerOptions>() ?? new CheckpointManagerOptions();
            var job = sp.GetRequiredService<JobContext>();
            return new CheckpointManager(StoreFor(location), job, options, sp.GetRequiredService<ILogger<CheckpointManager>>());
        });
        return services;
    }

    private static FileSystemCheckpointStore StoreFor(string? location)
    {
        const string Key = "Konduktor:Checkpoints:Location";
        if (string.IsNullOrWhiteSpace(location))
        {
            throw new CheckpointConfigurationException(Key, location, "file:///abs/dir or a directory path");
        }

        if (Uri.TryCreate(location, UriKind.Absolute, out var uri) && !Path.IsPathFullyQualified(location))
        {
            return uri.Scheme == Uri.UriSchemeFile
                ? new FileSystemCheckpointStore(uri)
                : throw new CheckpointConfigurationException(Key, location, "file:///abs/dir or a directory path");
        }

        return new FileSystemCheckpointStore(Path.GetFullPath(location));
    }
}
