namespace Konduktor.Storage.Cli;

/// <summary>The options every command takes (recursive options of the root command).</summary>
internal sealed class GlobalOptions
{
    public Option<bool> Json { get; } = new("--json") { Description = "Write one JSON document to stdout (stable field names, see the README).", Recursive = true };

    public Option<bool> Quiet { get; } = new("--quiet", "-q") { Description = "Write nothing but errors (and --json output).", Recursive = true };

    public Option<string?> Endpoint { get; } = new("--endpoint")
    {
        Description = "A custom endpoint: an S3-compatible server (http://host:port) or a GCS test server. Default: AWS_ENDPOINT_URL_S3 / the profile, or STORAGE_EMULATOR_HOST.",
        Recursive = true,
    };

    public Option<string?> Region { get; } = new("--region") { Description = "The S3 region. Default: AWS_REGION or the profile's.", Recursive = true };

    public Option<string?> Profile { get; } = new("--profile") { Description = "The AWS profile of the shared config and credentials files. Default: AWS_PROFILE, else default.", Recursive = true };

    public void AddTo(RootCommand root)
    {
        root.Options.Add(Json);
        root.Options.Add(Quiet);
        root.Options.Add(Endpoint);
        root.Options.Add(Region);
        root.Options.Add(Profile);
    }
}
