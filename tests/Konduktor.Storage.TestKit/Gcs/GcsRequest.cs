using System.Globalization;

using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;

namespace Konduktor.Storage.Testing;

/// <summary>What the server routes on: the raw path split into segments (so <c>%2F</c> inside an object name survives) and the query.</summary>
internal sealed class GcsRequest
{
    /// <summary>Parameters every Google API accepts that change nothing this server answers (<c>fields</c> only trims a response).</summary>
    private static readonly HashSet<string> SystemParameters = new(StringComparer.Ordinal)
    {
        "alt", "fields", "key", "oauth_token", "access_token", "prettyPrint", "quotaUser", "userIp", "userProject", "upload_protocol", "$.xgafv", "projection",
    };

    private readonly Dictionary<string, string> _query;

    private GcsRequest(HttpContext context, string path, Dictionary<string, string> query)
    {
        Context = context;
        Path = path;
        Segments = path.Split('/', StringSplitOptions.None)[1..];
        _query = query;
    }

    public HttpContext Context { get; }

    public string Method => Context.Request.Method;

    /// <summary>The path as sent, still percent-encoded.</summary>
    public string Path { get; }

    /// <summary>The raw path's segments after the leading slash, still percent-encoded.</summary>
    public string[] Segments { get; }

    public static GcsRequest Parse(HttpContext context)
    {
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "/";
        var question = target.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? target : target[..question];
        var query = new Dictionary<string, string>(StringComparer.Ordinal);
        if (question >= 0)
        {
            foreach (var (key, values) in QueryHelpers.ParseQuery(target[question..]))
            {
                if (values.Count != 1)
                {
                    throw GcsError.BadRequest($"The query parameter '{key}' is given {values.Count} times.");
                }

                query[key] = values[0]!;
            }
        }

        return new GcsRequest(context, path, query);
    }

    public string? String(string name) => _query.GetValueOrDefault(name);

    public string RequiredString(string name) =>
        String(name) is { Length: > 0 } value ? value : throw new GcsError(400, "required", $"Required parameter: {name}.");

    public long? Int64(string name)
    {
        if (String(name) is not { } text)
        {
            return null;
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw GcsError.BadRequest($"Invalid value for '{name}': '{text}' is not a non-negative integer.");
    }

    /// <summary>Answers 501 naming the first query parameter the endpoint does not implement, so gaps in this server are loud.</summary>
    public void AllowOnly(string endpoint, params IEnumerable<string> parameters)
    {
        var allowed = parameters.ToHashSet(StringComparer.Ordinal);
        foreach (var key in _query.Keys)
        {
            if (!allowed.Contains(key) && !SystemParameters.Contains(key))
            {
                throw GcsError.NotImplemented($"the query parameter '{key}' on {endpoint}");
            }
        }
    }

    /// <summary>Answers 501 for a boolean parameter this server only implements as false (e.g. <c>versions</c>).</summary>
    public void RequireFalseOrAbsent(string name)
    {
        if (String(name) is { } value && !value.Equals("false", StringComparison.OrdinalIgnoreCase))
        {
            throw GcsError.NotImplemented($"{name}={value}");
        }
    }

    public string Header(string name) => Context.Request.Headers[name].ToString();

    /// <summary>A path segment, percent-decoded.</summary>
    public static string Decode(string segment) => Uri.UnescapeDataString(segment);
}
