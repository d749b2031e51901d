using System.ComponentModel;

namespace Konduktor.Storage.Gcs;

/// <summary>
/// How the GCS store connects and transfers, bound from <c>Konduktor:Checkpoints:Gcs</c>
/// (so <c>Konduktor__Checkpoints__Gcs__Endpoint</c> works from the environment).
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
    public double PartSizeMiB { get; set; } = DefaultPartSizeMiB;

    /// <summary>
    /// The former name of <see cref="PartSizeMiB"/> (key <c>Gcs:ChunkSizeMiB</c>), still honoured when <see cref="PartSizeMiB"/> is
    /// left at its default; a store that uses it logs a warning naming the new key.
    /// </summary>
    [Obsolete("Use PartSizeMiB (configuration key Konduktor:Checkpoints:Gcs:PartSizeMiB).")]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public double? ChunkSizeMiB { get; set; }

    /// <summary>
    /// How many ranged reads run ahead of the reader, shared by all of the store's open reads (each keeps at least two). 1 to 64;
    /// default 16: on a remote link each request pays a round trip and each connection carries a bounded throughput, so a read
    /// is as fast as the requests it keeps in flight. Reads hold at most this (or two per open read, if more) times
    /// <see cref="PartSizeMiB"/>; an upload holds at most two chunks (one being sent, one being filled; small objects start in a
    /// 1 MiB buffer). A checkpoint manager moves a quarter of this many files at once (at least one:
    /// <see cref="StoreCapabilities.ConcurrentFiles"/>), which bounds the chunks of uploads in transfer.
    /// </summary>
    public int Concurrency { get; set; } = 16;

    /// <summary>
    /// A credentials JSON file (service account or authorized user) to use instead of Application Default Credentials.
    /// Default: none, so <c>GOOGLE_APPLICATION_CREDENTIALS</c>, gcloud's well-known file, gcloud's legacy
    /// <c>adc.json</c>, then the metadata server.
    /// </summary>
    public string? CredentialsFile { get; set; }

    /// <summary>
    /// A custom endpoint: a server's root (<c>http://127.0.0.1:4443</c>, the JSON API then being under <c>/storage/v1/</c>) or
    /// the JSON API's base URI itself (<c>http://127.0.0.1:4443/storage/v1/</c>), for an emulator or test server. An
    /// <c>http://</c> endpoint is used without credentials (tokens never travel in clear text). Default:
    /// <c>STORAGE_EMULATOR_HOST</c> when set (as Google's libraries do), else Google Cloud Storage.
    /// </summary>
    public string? Endpoint { get; set; }

    /// <summary>
    /// The former name of <see cref="Endpoint"/> (key <c>Gcs:BaseUri</c>), still honoured when <see cref="Endpoint"/> is unset; a
    /// store that uses it logs a warning naming the new key.
    /// </summary>
    [Obsolete("Use Endpoint (configuration key Konduktor:Checkpoints:Gcs:Endpoint).")]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public string? BaseUri { get; set; }

    /// <summary>The default of <see cref="PartSizeMiB"/>.</summary>
    internal const double DefaultPartSizeMiB = 16;

#pragma warning disable CS0618 // the former names are read here, and only here
    /// <summary>The part size configured, and the name of the option that set it.</summary>
    internal (double MiB, string Name) ConfiguredPartSize =>
        ChunkSizeMiB is { } former && PartSizeMiB == DefaultPartSizeMiB ? (former, nameof(ChunkSizeMiB)) : (PartSizeMiB, nameof(PartSizeMiB));

    /// <summary>The endpoint configured, and the name of the option that set it.</summary>
    internal (string? Value, string Name) ConfiguredEndpoint =>
        Endpoint is not null || BaseUri is null ? (Endpoint, nameof(Endpoint)) : (BaseUri, nameof(BaseUri));

    /// <summary>The former names set to values their new names contradict, as (former name, value, new name).</summary>
    internal IEnumerable<(string Former, string Value, string Current)> Contradictions()
    {
        if (ChunkSizeMiB is { } chunk && PartSizeMiB != DefaultPartSizeMiB && chunk != PartSizeMiB)
        {
            yield return (nameof(ChunkSizeMiB), chunk.ToString(System.Globalization.CultureInfo.InvariantCulture), nameof(PartSizeMiB));
        }

        if (BaseUri is { } baseUri && Endpoint is not null && baseUri != Endpoint)
        {
            yield return (nameof(BaseUri), baseUri, nameof(Endpoint));
        }
    }

    /// <summary>The former names in use (each took effect because its new name was left unset).</summary>
    internal IEnumerable<(string Former, string Current)> FormerNamesInUse()
    {
        if (ConfiguredPartSize.Name == nameof(ChunkSizeMiB))
        {
            yield return (nameof(ChunkSizeMiB), nameof(PartSizeMiB));
        }

        if (ConfiguredEndpoint.Name == nameof(BaseUri))
        {
            yield return (nameof(BaseUri), nameof(Endpoint));
        }
    }
#pragma warning restore CS0618

    /// <summary>The part size in bytes.</summary>
    internal int ChunkSizeBytes => (int)(ConfiguredPartSize.MiB * 1024 * 1024);

    /// <summary>A copy, so later changes to the bound instance do not affect a store.</summary>
    internal GcsStoreOptions Clone() => (GcsStoreOptions)MemberwiseClone();
}
