using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Konduktor.Storage.Stores;

/// <summary>
/// The rules every object key and every checkpoint file name follows, so that a key means the same on every store
/// and can never escape a folder: relative, '/'-separated, no empty, "." or ".." segments, no backslashes,
/// no control characters, valid UTF-16, at most <see cref="MaxUtf8Bytes"/> bytes of UTF-8.
/// </summary>
public static class ObjectKey
{
    /// <summary>The longest key in UTF-8 bytes (S3's and GCS's limit).</summary>
    public const int MaxUtf8Bytes = 1024;

    /// <summary>Returns why <paramref name="key"/> is not a valid key, or <see langword="null"/> when it is.</summary>
    /// <param name="key">The key to check.</param>
    internal static string? Check(string? key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return "it is empty";
        }

        if (key[0] == '/')
        {
            return "it starts with '/' (keys are relative)";
        }

        if (key[^1] == '/')
        {
            return "it ends with '/'";
        }

        for (var i = 0; i < key.Length; i++)
        {
            var c = key[i];
            if (char.IsControl(c))
            {
                return $"it contains the control character U+{(int)c:X4} at index {i}";
            }

            if (c == '\\')
            {
                return $"it contains a backslash at index {i} (the separator is '/')";
            }

            if (char.IsHighSurrogate(c) && (i + 1 == key.Length || !char.IsLowSurrogate(key[i + 1])))
            {
                return $"it contains an unpaired surrogate at index {i}";
            }

            if (char.IsLowSurrogate(c) && (i == 0 || !char.IsHighSurrogate(key[i - 1])))
            {
                return $"it contains an unpaired surrogate at index {i}";
            }
        }

        foreach (var segment in key.Split('/'))
        {
            switch (segment)
            {
                case "":
                    return "it has an empty segment ('//')";
                case ".":
                case "..":
                    return $"it has a '{segment}' segment";
            }
        }

        var bytes = Encoding.UTF8.GetByteCount(key);
        return bytes > MaxUtf8Bytes ? $"it is {bytes} bytes of UTF-8, more than the limit of {MaxUtf8Bytes}" : null;
    }

    /// <summary>Throws unless <paramref name="key"/> is a valid key.</summary>
    /// <param name="key">The key to check.</param>
    /// <param name="paramName">The argument's name, for the exception.</param>
    /// <exception cref="ArgumentException">The key is not valid; the message says why.</exception>
    public static void Validate(string? key, [CallerArgumentExpression(nameof(key))] string? paramName = null)
    {
        if (Check(key) is { } reason)
        {
            throw new ArgumentException($"'{Printable(key)}' is not a valid object key: {reason}.", paramName);
        }
    }

    /// <summary>Throws unless <paramref name="prefix"/> is empty, or a valid key optionally followed by '/'.</summary>
    /// <param name="prefix">The prefix to check.</param>
    /// <param name="paramName">The argument's name, for the exception.</param>
    /// <exception cref="ArgumentException">The prefix is not valid; the message says why.</exception>
    public static void ValidatePrefix(string? prefix, [CallerArgumentExpression(nameof(prefix))] string? paramName = null)
    {
        ArgumentNullException.ThrowIfNull(prefix, paramName);
        if (prefix.Length == 0)
        {
            return;
        }

        var trimmed = prefix[^1] == '/' ? prefix[..^1] : prefix;
        if (Check(trimmed) is { } reason)
        {
            throw new ArgumentException($"'{Printable(prefix)}' is not a valid key prefix: {reason}.", paramName);
        }
    }

    /// <summary>Renders a key for a message, with control characters escaped.</summary>
    internal static string Printable(string? key)
    {
        if (key is null)
        {
            return "(null)";
        }

        var builder = new StringBuilder(key.Length);
        foreach (var c in key.Length > 200 ? key[..200] + "…" : key)
        {
            _ = char.IsControl(c) ? builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}") : builder.Append(c);
        }

        return builder.ToString();
    }
}
