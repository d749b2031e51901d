namespace Konduktor.Storage.Gcs;

/// <summary>
/// How the GCS store connects and transfers, bound from <c>Konduktor:Checkpoints:Gcs</c>
/// (so <c>Konduktor__Checkpoints__Gcs__BaseUri</c> works from the environment).
/// </summary>
public sealed class GcsStoreOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Konduktor:Checkpoints:Gcs";

    /// <summary>
    /// The project billed for the requests (sent as the quota project, <c>x-goog-user-project</c>), e.g. for requester-pays buckets.
    /// Default: none, so the bucket's own project.
    /// </summary>
    public string? ProjectId { get; set; }

    /// <summary>
    /// The size of one resumable-upload chunk and of one ranged read, in MiB: a multiple of 0.25 (GCS's 256 KiB chunk unit)
    /// from 0.25 to 1024; default 16.
    /// </summary>
    public double ChunkSizeMiB { get; set; } = 16;

    /// <summary>
    /// How many ranged reads run ahead of the reader, shared by all of the store's open reads (each keeps at least two). 1 to 64;
    /// default 4. Reads hold at most this (or two per open read, if more) times <see cref="ChunkSizeMiB"/>; an upload holds at
    /// most two chunks (one being sent, one being filled).
    /// </summary>
    public int Concurrency { get; set; } = 4;

    /// <summary>
    /// A credentials JSON file (service account or authorized user) to use instead of Application Default Credentials.
    /// Default: none, so <c>GOOGLE_APPLICATION_CREDENTIALS</c>, gcloud's well-known file, gcloud's legacy
    /// <c>adc.json</c>, then the metadata server.
    /// </summary>
    public string? CredentialsFile { get; set; }

    /// <summary>
    /// The JSON API's base URI, e.g. <c>http://127.0.0.1:4443/storage/v1/</c> for an emulator or test server. An <c>http://</c>
    /// URI is used without credentials (tokens never travel in clear text). Default: <c>STORAGE_EMULATOR_HOST</c> when set
    /// (as Google's libraries do), else Google Cloud Storage.
    /// </summary>
    public string? BaseUri { get; set; }

    /// <summary>The chunk size in bytes.</summary>
    internal int ChunkSizeBytes => (int)(ChunkSizeMiB * 1024 * 1024);

    /// <summary>A copy, so later changes to the bound instance do not affect a store.</summary>
    internal GcsStoreOptions Clone() => (GcsStoreOptions)MemberwiseClone();
}
