namespace Konduktor.Storage.S3;

/// <summary>S3's bucket naming rules.</summary>
internal static class S3BucketName
{
    /// <summary>Why <paramref name="bucket"/> breaks S3's naming rules, or <see langword="null"/> when it keeps them.</summary>
    public static string? Problem(string bucket)
    {
        if (bucket.Length is < 3 or > 63)
        {
            return $"it has {bucket.Length} characters, not 3 to 63";
        }

        if (bucket.FirstOrDefault(c => c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '-')) is var bad and not '\0')
        {
            return $"it contains '{bad}' (only lowercase letters, digits, '.' and '-' are allowed)";
        }

        if (!char.IsAsciiLetterOrDigit(bucket[0]) || !char.IsAsciiLetterOrDigit(bucket[^1]))
        {
            return "it must begin and end with a letter or a digit";
        }

        if (bucket.Contains("..", StringComparison.Ordinal))
        {
            return "it contains two adjacent periods";
        }

        return System.Net.IPAddress.TryParse(bucket, out _) && bucket.Count(c => c == '.') == 3 ? "it is formatted as an IP address" : null;
    }
}
