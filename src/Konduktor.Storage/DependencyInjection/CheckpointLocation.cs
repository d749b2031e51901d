using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Konduktor.Storage;

/// <summary>
/// A parsed checkpoint location: <c>file:///abs/dir</c>, <c>memory://name</c>, <c>s3://bucket/prefix</c>, <c>gs://bucket/prefix</c>.
/// A plain local path (absolute, or relative to the current directory) means the file-system store.
/// </summary>
/// <remarks>
/// A location is understood exactly or refused. A value that starts like a URI scheme (<c>letters:</c>) is a URI and must
/// be <c>file:///abs/dir</c>, <c>file:/abs/dir</c>, <c>file://localhost/abs/dir</c> or <c>scheme://name[/prefix]</c>: no
/// query or fragment, no empty, <c>.</c> or <c>..</c> segments, every <c>%XX</c> decoded once (an invalid escape, an
/// encoded <c>/</c> or invalid UTF-8 is refused), and for <c>memory://name</c> no path. Anything else is a plain path
/// (a folder whose name contains <c>:</c> is written <c>./name:x</c>). The stores' own constructors parse their URI with
/// this same parser, so a location means the same through dependency injection and in code.
/// </remarks>
public sealed partial class CheckpointLocation
{
    private const string Expected = "a location such as file:///abs/dir, a local path, s3://bucket/prefix or gs://bucket/prefix";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly string _prefix;

    private CheckpointLocation(Uri uri, string scheme, string text, string bucket, string prefix) =>
        (Uri, Scheme, Text, Bucket, _prefix) = (uri, scheme, text, bucket, prefix);

    /// <summary>The location as a URI (a local path becomes <c>file:///…/</c>).</summary>
    public Uri Uri { get; }

    /// <summary>The scheme, lower case: <c>file</c>, <c>memory</c>, <c>s3</c>, <c>gs</c>, …</summary>
    public string Scheme { get; }

    /// <summary>The location as it was configured.</summary>
    public string Text { get; }

    /// <summary>For bucket schemes, the bucket as written (not lower-cased); for <c>memory</c>, the store's name; empty for <c>file</c>.</summary>
    public string Bucket { get; }

    /// <summary>For bucket schemes, the key prefix inside the bucket, percent-decoded, without leading or trailing '/' (may be empty).</summary>
    public string Prefix => _prefix;

    /// <summary>Parses a configured location.</summary>
    /// <param name="location">The configured value.</param>
    /// <param name="key">The configuration key it came from, for the error message.</param>
    /// <exception cref="CheckpointConfigurationException">It is missing, or not a location understood exactly (the message says what is allowed).</exception>
    public static CheckpointLocation Parse(string? location, string key = CheckpointManagerOptions.SectionName + ":Location")
    {
        if (string.IsNullOrWhiteSpace(location))
        {
            throw new CheckpointConfigurationException(key, location, Expected);
        }

        var text = location.Trim();
        var control = text.AsSpan().IndexOfAnyInRange('\0', '\u001f');
        control = control >= 0 ? control : text.AsSpan().IndexOfAnyInRange('\u007f', '\u009f');
        if (control >= 0)
        {
            throw new CheckpointConfigurationException(key, location, $"{Expected}, without control characters (U+{(int)text[control]:X4})");
        }

        var scheme = SchemePrefix().Match(text);
        if (!scheme.Success)
        {
            // A plain path: the embedded file-system store.
            return new CheckpointLocation(FileUri(Path.GetFullPath(text)), "file", location, string.Empty, string.Empty);
        }

        var name = scheme.Groups["scheme"].Value.ToLowerInvariant();
        var rest = text[scheme.Length..];
        if (rest.AsSpan().IndexOfAny('?', '#') >= 0)
        {
            throw new CheckpointConfigurationException(
                key, location, $"{Example(name)} without a query ('?') or fragment ('#'); write %3F or %23 for those characters in a name");
        }

        return name == "file" ? ParseFile(rest, location, key) : ParseNamed(name, rest, text, location, key);
    }

    /// <inheritdoc />
    public override string ToString() => Uri.ToString();

    /// <summary>
    /// Parses a store's location argument by the rules of <see cref="Parse"/>, from the string the URI was made of
    /// (<see cref="System.Uri.OriginalString"/>): <see cref="System.Uri"/> itself lower-cases the host and drops or rewrites
    /// dot segments, which would make <c>s3://MyBucket/a/../b</c> another bucket and prefix.
    /// </summary>
    /// <param name="location">An absolute URI.</param>
    /// <param name="paramName">The argument's name, for the exception.</param>
    /// <returns>The location.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="location"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">It is relative, or not a location understood exactly (the message says why).</exception>
    public static CheckpointLocation FromUri(Uri location, [CallerArgumentExpression(nameof(location))] string? paramName = null)
    {
        ArgumentNullException.ThrowIfNull(location, paramName);
        if (!location.IsAbsoluteUri)
        {
            throw new ArgumentException($"'{location.OriginalString}' is not an absolute URI.", paramName);
        }

        try
        {
            return Parse(location.OriginalString, paramName ?? nameof(location));
        }
        catch (CheckpointConfigurationException e)
        {
            throw new ArgumentException(e.Message, paramName, e);
        }
    }

    private static CheckpointLocation ParseFile(string rest, string location, string key)
    {
        const string Absolute = "file:///absolute/dir";
        string path;
        if (rest.StartsWith("///", StringComparison.Ordinal))
        {
            path = rest[2..];
        }
        else if (rest.StartsWith("//localhost/", StringComparison.OrdinalIgnoreCase))
        {
            path = rest["//localhost".Length..];
        }
        else if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            throw new CheckpointConfigurationException(key, location, $"{Absolute} (three slashes: file://host/… names another machine)");
        }
        else if (rest.StartsWith('/'))
        {
            // RFC 8089's short form: file:/abs/dir is the absolute path /abs/dir.
            path = rest;
        }
        else
        {
            throw new CheckpointConfigurationException(key, location, $"{Absolute} (a relative path is written without 'file:')");
        }

        var decoded = Decode(path, location, key, Absolute);
        if (SegmentProblem(decoded) is { } problem)
        {
            throw new CheckpointConfigurationException(key, location, $"{Absolute} with a plain path ({problem})");
        }

        return new CheckpointLocation(FileUri(decoded), "file", location, string.Empty, decoded.Trim('/'));
    }

    private static CheckpointLocation ParseNamed(string scheme, string rest, string text, string location, string key)
    {
        var example = Example(scheme);
        if (!rest.StartsWith("//", StringComparison.Ordinal))
        {
            throw new CheckpointConfigurationException(
                key, location, $"{example} (two slashes after '{scheme}:'); a local folder whose name contains ':' is written ./{text}");
        }

        var slash = rest.IndexOf('/', 2);
        var authority = slash < 0 ? rest[2..] : rest[2..slash];
        var path = slash < 0 ? string.Empty : rest[slash..];
        if (authority.Length == 0)
        {
            throw new CheckpointConfigurationException(key, location, $"{example} with a {(scheme == "memory" ? "store name" : "bucket")}");
        }

        if (authority.AsSpan().IndexOfAny("@:%\\") >= 0)
        {
            throw new CheckpointConfigurationException(key, location, $"{example}: a plain name after '{scheme}://', without '@', ':', '%' or '\\'");
        }

        var decoded = Decode(path, location, key, example);
        if (SegmentProblem(decoded) is { } problem)
        {
            throw new CheckpointConfigurationException(key, location, $"{example} with a valid key prefix ({problem})");
        }

        var prefix = decoded.Trim('/');
        if (scheme == "memory" && prefix.Length > 0)
        {
            throw new CheckpointConfigurationException(key, location, "memory://name with no path after the name");
        }

        return Uri.TryCreate(text, UriKind.Absolute, out var uri)
            ? new CheckpointLocation(uri, scheme, location, authority, prefix)
            : throw new CheckpointConfigurationException(key, location, example);
    }

    /// <summary>Why a decoded path ('/' or empty, or '/' + a key, optionally + '/') is not exact, or null.</summary>
    private static string? SegmentProblem(string path)
    {
        if (path.Length <= 1)
        {
            return null;
        }

        var body = path[1..];
        return ObjectKey.Check(body[^1] == '/' ? body[..^1] : body);
    }

    /// <summary>Decodes every <c>%XX</c> once; refuses an invalid escape, an encoded '/' and bytes that are not UTF-8.</summary>
    private static string Decode(string path, string location, string key, string example)
    {
        if (!path.Contains('%', StringComparison.Ordinal))
        {
            return path;
        }

        var bytes = new List<byte>(path.Length);
        for (var i = 0; i < path.Length;)
        {
            if (path[i] != '%')
            {
                var length = char.IsHighSurrogate(path[i]) && i + 1 < path.Length ? 2 : 1;
                bytes.AddRange(Encoding.UTF8.GetBytes(path.Substring(i, length)));
                i += length;
                continue;
            }

            if (i + 2 >= path.Length || !char.IsAsciiHexDigit(path[i + 1]) || !char.IsAsciiHexDigit(path[i + 2]))
            {
                throw new CheckpointConfigurationException(key, location, $"{example} where every '%' starts an escape of two hex digits (write %25 for '%')");
            }

            var value = Convert.ToByte(path.Substring(i + 1, 2), 16);
            if (value == '/')
            {
                throw new CheckpointConfigurationException(key, location, $"{example} without an encoded '/' (%2F): write '/'");
            }

            bytes.Add(value);
            i += 3;
        }

        try
        {
            return StrictUtf8.GetString([.. bytes]);
        }
        catch (DecoderFallbackException)
        {
            throw new CheckpointConfigurationException(key, location, $"{example} whose %XX escapes are UTF-8");
        }
    }

    private static string Example(string scheme) => scheme switch
    {
        "file" => "file:///absolute/dir",
        "memory" => "memory://name",
        _ => $"{scheme}://bucket/prefix",
    };

    private static Uri FileUri(string path) =>
        new UriBuilder(Uri.UriSchemeFile, string.Empty) { Path = path.EndsWith('/') ? path : path + "/" }.Uri;

    // RFC 3986: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ':'.
    [GeneratedRegex("^(?<scheme>[A-Za-z][A-Za-z0-9+.-]*):", RegexOptions.CultureInvariant)]
    private static partial Regex SchemePrefix();
}
