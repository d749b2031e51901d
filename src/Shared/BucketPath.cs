using System.Runtime.CompilerServices;
using System.Text;

namespace Konduktor.Storage;

/// <summary>
/// Where a bucket store's keys live: the bucket, the key prefix, the location URI, and the mapping between a store key and
/// the object name in the bucket (with its length check). Locations are parsed by the core's one parser
/// (<see cref="CheckpointLocation.FromUri"/>). A source file shared by the store packages, compiled into each of them.
/// </summary>
internal sealed class BucketPath
{
    private readonly string _keyPrefix;
    private readonly string _service;

    private BucketPath(string scheme, string service, string bucket, string prefix)
    {
        _service = service;
        Bucket = bucket;
        Prefix = prefix;
        _keyPrefix = prefix.Length == 0 ? string.Empty : prefix + "/";
        Location = new Uri($"{scheme}://{bucket}/{string.Join('/', prefix.Split('/').Select(Uri.EscapeDataString))}{(prefix.Length == 0 ? string.Empty : "/")}");
    }

    /// <summary>The bucket.</summary>
    public string Bucket { get; }

    /// <summary>The key prefix inside the bucket, without leading or trailing '/' (may be empty).</summary>
    public string Prefix { get; }

    /// <summary>The store's location, <c>scheme://bucket/prefix/</c>, with the prefix's segments escaped.</summary>
    public Uri Location { get; }

    /// <summary>Parses a store location of <paramref name="scheme"/>.</summary>
    /// <param name="location">The location given to the store.</param>
    /// <param name="scheme">The scheme the store serves, e.g. <c>s3</c>.</param>
    /// <param name="service">The service's name in messages, e.g. <c>S3</c>.</param>
    /// <param name="bucketProblem">Why a bucket name breaks the service's rules, or <see langword="null"/> when it keeps them; none to accept any.</param>
    /// <exception cref="ArgumentException">The location is not of the scheme, or its bucket or prefix is not valid.</exception>
    public static BucketPath Parse(Uri location, string scheme, string service, Func<string, string?>? bucketProblem = null)
    {
        // The one location parser of the core, on the string the URI was made of: Uri itself would lower-case the bucket
        // and silently rewrite dot segments, so "MyBucket" or "a/../b" would become another bucket or prefix.
        var parsed = CheckpointLocation.FromUri(location);
        if (parsed.Scheme != scheme)
        {
            throw new ArgumentException(
                $"'{location.OriginalString}' is not {("AEFHILMNORSX".Contains(service[0], StringComparison.Ordinal) ? "an" : "a")} {service} location (expected {scheme}://bucket or {scheme}://bucket/prefix).",
                nameof(location));
        }

        if (bucketProblem?.Invoke(parsed.Bucket) is { } problem)
        {
            throw new ArgumentException($"'{parsed.Bucket}' in '{location.OriginalString}' is not a valid {service} bucket name: {problem}.", nameof(location));
        }

        return new BucketPath(scheme, service, parsed.Bucket, parsed.Prefix);
    }

    /// <summary>The object name in the bucket of a store key (or key prefix).</summary>
    public string FullKey(string key) => _keyPrefix + key;

    /// <summary>The store key of an object name in the bucket, or <see langword="null"/> when it is outside the store's prefix.</summary>
    public string? KeyOf(string? fullKey) =>
        fullKey is not null && fullKey.StartsWith(_keyPrefix, StringComparison.Ordinal) ? fullKey[_keyPrefix.Length..] : null;

    /// <summary>Checks a key, and that with the store's prefix it stays within the service's name length.</summary>
    /// <exception cref="ArgumentException">The key is not valid, or too long with the prefix.</exception>
    public void ValidateKey(string key, [CallerArgumentExpression(nameof(key))] string? paramName = null)
    {
        ObjectKey.Validate(key, paramName);

        // Some servers answer an over-long key before reading the body and then misread that body as the next request.
        var bytes = Encoding.UTF8.GetByteCount(_keyPrefix) + Encoding.UTF8.GetByteCount(key);
        if (bytes > ObjectKey.MaxUtf8Bytes)
        {
            throw new ArgumentException(
                $"The key is {bytes - Encoding.UTF8.GetByteCount(_keyPrefix)} bytes of UTF-8; with the prefix '{Prefix}/' of {Location} it is {bytes}, more than {_service}'s limit of {ObjectKey.MaxUtf8Bytes}.",
                paramName);
        }
    }
}
