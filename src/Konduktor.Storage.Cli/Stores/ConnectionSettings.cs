namespace Konduktor.Storage.Cli;

/// <summary>The connection options every command takes, on top of the <c>Konduktor__…</c> configuration from the environment.</summary>
/// <param name="Endpoint">A custom endpoint (S3-compatible server, GCS test server).</param>
/// <param name="Region">The S3 region.</param>
/// <param name="Profile">The AWS profile.</param>
internal sealed record ConnectionSettings(string? Endpoint, string? Region, string? Profile);
