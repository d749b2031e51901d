using System.Text;

namespace Konduktor.Storage.Testing;

/// <summary>One page of an object listing.</summary>
internal sealed record GcsListPage(IReadOnlyList<GcsStoredObject> Items, IReadOnlyList<string> Prefixes, string? NextPageToken);

/// <summary>What a listing asks for.</summary>
internal sealed record GcsListQuery(string Prefix, string? Delimiter, int MaxResults, string? PageToken, string? StartOffset, string? EndOffset);

/// <summary>
/// The buckets and their live objects, behind one lock held only for lookups and swaps (bytes are hashed and copied
/// outside it). Generations come from one counter, so they are unique across the server as GCS's are.
/// </summary>
internal sealed class GcsBuckets(TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    // GCS generations are microsecond timestamps; a large start catches clients that parse them as 32-bit numbers.
    private long _lastGeneration = 1_700_000_000_000_000;

    public void Create(string name)
    {
        lock (_gate)
        {
            _buckets.TryAdd(name, new Bucket(name, time.GetUtcNow()));
        }
    }

    public DateTimeOffset? Created(string bucket)
    {
        lock (_gate)
        {
            return _buckets.TryGetValue(bucket, out var found) ? found.Created : null;
        }
    }

    public void RequireBucket(string bucket) => _ = Created(bucket) ?? throw GcsError.BucketNotFound(bucket);

    public GcsStoredObject? Find(string bucket, string name)
    {
        lock (_gate)
        {
            return Get(bucket).Objects.GetValueOrDefault(name);
        }
    }

    /// <summary>Stores a new generation if <paramref name="preconditions"/> hold against the live one, atomically.</summary>
    public GcsStoredObject Put(string bucket, GcsObjectProperties properties, GcsContent content, GcsPreconditions preconditions)
    {
        lock (_gate)
        {
            var found = Get(bucket);
            preconditions.CheckWrite(found.Objects.GetValueOrDefault(properties.Name));
            var stored = new GcsStoredObject(bucket, properties, content, ++_lastGeneration, time.GetUtcNow());
            found.Objects[properties.Name] = stored;
            found.Names.Add(properties.Name);
            return stored;
        }
    }

    /// <summary>Deletes the live object if <paramref name="generation"/> (when given) is its generation and <paramref name="preconditions"/> hold.</summary>
    public void Delete(string bucket, string name, long? generation, GcsPreconditions preconditions)
    {
        lock (_gate)
        {
            var found = Get(bucket);
            if (!found.Objects.TryGetValue(name, out var current) || (generation is { } g && g != current.Generation))
            {
                throw GcsError.ObjectNotFound(bucket, name);
            }

            preconditions.CheckWrite(current);
            found.Objects.Remove(name);
            found.Names.Remove(name);
        }
    }

    /// <summary>
    /// One page in UTF-8 byte order. With a delimiter, names that contain it after the prefix are rolled up into one
    /// prefix each; <see cref="GcsListQuery.MaxResults"/> caps items and prefixes together, as GCS documents.
    /// </summary>
    public GcsListPage List(string bucket, GcsListQuery query)
    {
        var resume = PageToken.Parse(query.PageToken);
        var items = new List<GcsStoredObject>();
        var prefixes = new List<string>();
        string? lastPrefix = null;
        PageToken? last = null;
        lock (_gate)
        {
            var found = Get(bucket);
            foreach (var name in found.From(Max(Max(query.Prefix, query.StartOffset), resume?.Key)))
            {
                if (!name.StartsWith(query.Prefix, StringComparison.Ordinal)
                    || (query.EndOffset is { Length: > 0 } end && Utf8OrdinalComparer.Instance.Compare(name, end) >= 0))
                {
                    break;
                }

                if (resume is not null && (resume.IsPrefix ? name.StartsWith(resume.Key, StringComparison.Ordinal) : name == resume.Key))
                {
                    continue;
                }

                var rolledUp = RollUp(name, query);
                if (rolledUp is not null && rolledUp == lastPrefix)
                {
                    continue;
                }

                if (items.Count + prefixes.Count == query.MaxResults)
                {
                    return new GcsListPage(items, prefixes, last!.ToString());
                }

                if (rolledUp is not null)
                {
                    prefixes.Add(rolledUp);
                    lastPrefix = rolledUp;
                    last = new PageToken(rolledUp, IsPrefix: true);
                }
                else
                {
                    items.Add(found.Objects[name]);
                    last = new PageToken(name, IsPrefix: false);
                }
            }
        }

        return new GcsListPage(items, prefixes, null);
    }

    private static string? RollUp(string name, GcsListQuery query)
    {
        if (query.Delimiter is not { Length: > 0 } delimiter)
        {
            return null;
        }

        var at = name.IndexOf(delimiter, query.Prefix.Length, StringComparison.Ordinal);
        return at < 0 ? null : name[..(at + delimiter.Length)];
    }

    private static string Max(string a, string? b) =>
        b is not null && Utf8OrdinalComparer.Instance.Compare(b, a) > 0 ? b : a;

    private Bucket Get(string bucket) =>
        _buckets.TryGetValue(bucket, out var found) ? found : throw GcsError.BucketNotFound(bucket);

    private sealed class Bucket(string name, DateTimeOffset created)
    {
        public string Name { get; } = name;

        public DateTimeOffset Created { get; } = created;

        public Dictionary<string, GcsStoredObject> Objects { get; } = new(StringComparer.Ordinal);

        public SortedSet<string> Names { get; } = new(Utf8OrdinalComparer.Instance);

        /// <summary>Names from <paramref name="first"/> on, without walking the ones before it.</summary>
        public SortedSet<string> From(string first) =>
            Names.Count == 0 || Utf8OrdinalComparer.Instance.Compare(first, Names.Max) > 0 ? [] : Names.GetViewBetween(first, Names.Max!);
    }

    /// <summary>Where the next page starts: after an item, or after every name under a rolled-up prefix.</summary>
    private sealed record PageToken(string Key, bool IsPrefix)
    {
        public static PageToken? Parse(string? token)
        {
            if (string.IsNullOrEmpty(token))
            {
                return null;
            }

            try
            {
                var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
                return text.Length >= 2 && text[1] == ':' && text[0] is 'i' or 'p'
                    ? new PageToken(text[2..], text[0] == 'p')
                    : throw GcsError.BadRequest($"Invalid pageToken '{token}'.");
            }
            catch (FormatException)
            {
                throw GcsError.BadRequest($"Invalid pageToken '{token}'.");
            }
        }

        public override string ToString() => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{(IsPrefix ? 'p' : 'i')}:{Key}"));
    }
}
