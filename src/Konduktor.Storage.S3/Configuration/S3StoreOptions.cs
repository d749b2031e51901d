using System.ComponentModel;

namespace Konduktor.Storage.S3;

/// <summary>
/// How the S3 store connects and transfers, bound from <c>Konduktor:Checkpoints:S3</c>
/// (so <c>Konduktor__Checkpoints__S3__Endpoint</c> works from the environment).
/// </summary>
public sealed class S3StoreOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Konduktor:Checkpoints:S3";

    /// <summary>The region, e.g. <c>eu-west-1</c>. Default: the SDK's (<c>AWS_REGION</c>, the profile), or <c>us-east-1</c> for a custom endpoint.</summary>
    public string? Region { get; set; }

    /// <summary>
    /// A custom endpoint, e.g. <c>http://rgw.local:7480</c> for Ceph RadosGW or MinIO. Default: none, so the SDK's endpoint
    /// (<c>AWS_ENDPOINT_URL_S3</c>, <c>AWS_ENDPOINT_URL</c>, a profile's <c>endpoint_url</c>, else AWS).
    /// </summary>
    public string? Endpoint { get; set; }

    /// <summary>
    /// The former name of <see cref="Endpoint"/> (key <c>S3:ServiceUrl</c>), still honoured when <see cref="Endpoint"/> is unset;
    /// a store that uses it logs a warning naming the new key.
    /// </summary>
    [Obsolete("Use Endpoint (configuration key Konduktor:Checkpoints:S3:Endpoint).")]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public string? ServiceUrl { get; set; }

    /// <summary>Whether to address buckets by path (<c>host/bucket/key</c>). Default: path style for custom endpoints, virtual-hosted style for AWS.</summary>
    public bool? ForcePathStyle { get; set; }

    /// <summary>How to talk to the server; see <see cref="S3Compatibility"/>. Default: <see cref="S3Compatibility.Auto"/>.</summary>
    public S3Compatibility Compatibility { get; set; } = S3Compatibility.Auto;

    /// <summary>
    /// The size of one multipart part and the largest ranged read, in MiB. 5 to 1024; default 5 (a read of a shorter object is
    /// cut into smaller ranges to use <see cref="Concurrency"/>). The store holds about <see cref="Concurrency"/> + 2 parts per
    /// large file in transfer; small files start in 1 MiB buffers.
    /// </summary>
    public int PartSizeMiB { get; set; } = 5;

    /// <summary>
    /// How many parts are uploaded at once over all of the store's uploads, and read ahead over all of its open parallel reads
    /// (each read keeps at least two); a checkpoint manager moves half as many files at once
    /// (<see cref="StoreCapabilities.ConcurrentFiles"/>) and as many small ones. 1 to 64; default 32: on a remote link each
    /// request pays a round trip and each connection carries a bounded throughput, so a transfer is as fast as the requests it
    /// keeps in flight. The store holds about (this + 2 per large file in transfer) times <see cref="PartSizeMiB"/> of
    /// buffers: about 170 MiB for one large file with the defaults. An object has at most 10,000 parts: 48.8 GiB with
    /// the default part size.
    /// </summary>
    public int Concurrency { get; set; } = 32;

    /// <summary>
    /// Streams up to this many MiB are written with one PUT instead of a multipart upload. 1 to 5120; default: <see cref="PartSizeMiB"/>.
    /// A writer buffers up to this much before its first request.
    /// </summary>
    public int? SinglePutThresholdMiB { get; set; }

    /// <summary>The profile of the shared credentials and config files to use. Default: the SDK's default chain (<c>AWS_PROFILE</c>, else <c>default</c>).</summary>
    public string? Profile { get; set; }

    /// <summary>A shared credentials file to read instead of <c>~/.aws/credentials</c> (its <c>config</c> neighbour is read too). Default: none.</summary>
    public string? CredentialsFile { get; set; }

    /// <summary>
    /// Whether the server honours <c>If-Match</c> on DELETE, so <see cref="ICheckpointStore.DeleteAsync"/> can be conditional.
    /// Default: <see langword="true"/> for AWS, <see langword="false"/> for other servers (Ceph RadosGW honours it; set it to <see langword="true"/> there).
    /// </summary>
    public bool? ConditionalDelete { get; set; }

    /// <summary>The custom endpoint configured, and the name of the option that set it (the former name only when the new one is unset).</summary>
#pragma warning disable CS0618 // the former name is read here, and only here
    internal (string? Url, string Name) ConfiguredEndpoint =>
        Endpoint is not null || ServiceUrl is null ? (Endpoint, nameof(Endpoint)) : (ServiceUrl, nameof(ServiceUrl));

    /// <summary>Whether both the endpoint and its former name are set, to different values.</summary>
    internal bool EndpointSetTwice => Endpoint is not null && ServiceUrl is not null && Endpoint != ServiceUrl;
#pragma warning restore CS0618

    /// <summary>The part size in bytes.</summary>
    internal int PartSizeBytes => PartSizeMiB * 1024 * 1024;

    /// <summary>The single-PUT threshold in bytes.</summary>
    internal long SinglePutThresholdBytes => (long)(SinglePutThresholdMiB ?? PartSizeMiB) * 1024 * 1024;

    /// <summary>A copy, so later changes to the bound instance do not affect a store.</summary>
    internal S3StoreOptions Clone() => (S3StoreOptions)MemberwiseClone();
}

/// <summary>How the S3 store adapts to the server (see the design notes on S3 compatibility).</summary>
public enum S3Compatibility
{
    /// <summary>AWS endpoints use the SDK defaults; any custom endpoint is treated as <see cref="Generic"/>.</summary>
    Auto,

    /// <summary>Amazon S3: SDK defaults (aws-chunked uploads with CRC32 trailers, multi-object deletes, conditional deletes).</summary>
    Aws,

    /// <summary>
    /// S3-compatible servers (Ceph RadosGW, MinIO, R2…): checksums only when an operation requires them, unchunked uploads,
    /// path-style addressing and single-object deletes, which every server accepts.
    /// </summary>
    Generic,
}
