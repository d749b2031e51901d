namespace Konduktor.Storage;

/// <summary>
/// A parsed checkpoint location: <c>file:///abs/dir</c>, <c>memory://name</c>, <c>s3://bucket/prefix</c>, <c>gs://bucket/prefix</c>.
/// A plain local path (absolute, or relative to the current directory) means the file-system store.
/// </summary>
public sealed class CheckpointLocation
{
    private CheckpointLocation(Uri uri, string scheme, string text)
    {
        Uri = uri;
        Scheme = scheme;
        Text = text;
    }

    /// <summary>The location as a URI (a local path becomes <c>file:///…</c>).</summary>
    public Uri Uri { get; }

    /// <summary>The scheme, lower case: <c>file</c>, <c>memory</c>, <c>s3</c>, <c>gs</c>, …</summary>
    public string Scheme { get; }

    /// <summary>The location as it was configured.</summary>
    public string Text { get; }

    /// <summary>For bucket schemes, the bucket (the URI's host); for <c>memory</c>, the store's name.</summary>
    public string Bucket => Uri.Host;

    /// <summary>For bucket schemes, the key prefix inside the bucket, without leading or trailing '/' (may be empty).</summary>
    public string Prefix => Uri.UnescapeDataString(Uri.AbsolutePath).Trim('/');

    /// <summary>Parses a configured location.</summary>
    /// <param name="location">The configured value.</param>
    /// <param name="key">The configuration key it came from, for the error message.</param>
    /// <exception cref="CheckpointConfigurationException">It is missing or not a location.</exception>
    public static CheckpointLocation Parse(string? location, string key = CheckpointManagerOptions.SectionName + ":Location")
    {
        const string Expected = "a location such as file:///abs/dir, a local path, s3://bucket/prefix or gs://bucket/prefix";
        if (string.IsNullOrWhiteSpace(location))
        {
            throw new CheckpointConfigurationException(key, location is null ? null : location, Expected);
        }

        var text = location.Trim();
        if (!text.Contains("://", StringComparison.Ordinal))
        {
            // A plain path: the embedded file-system store.
            return new CheckpointLocation(new Uri(Path.GetFullPath(text)), "file", location);
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme.Length == 0)
        {
            throw new CheckpointConfigurationException(key, location, Expected);
        }

        var scheme = uri.Scheme.ToLowerInvariant();
        if (scheme == "file" && (!string.IsNullOrEmpty(uri.Host) || !uri.IsAbsoluteUri))
        {
            throw new CheckpointConfigurationException(key, location, "file:///absolute/dir (three slashes: no host)");
        }

        if (scheme != "file" && string.IsNullOrEmpty(uri.Host))
        {
            throw new CheckpointConfigurationException(key, location, $"{scheme}://name/prefix with a bucket or store name");
        }

        return new CheckpointLocation(uri, scheme, location);
    }

    /// <inheritdoc />
    public override string ToString() => Uri.ToString();
}
