using Microsoft.Extensions.Logging;

namespace Konduktor.Storage.Testing;

/// <summary>
/// Sees everything a user of the library could see — every log line at the most verbose level with its structured values and
/// scopes, exception texts (<see cref="Exception.ToString"/>, messages, data), and the <see cref="object.ToString"/> of options and
/// other objects — and asserts that none of it contains a secret. Store-agnostic: pass the secrets of whatever credentials the
/// store was configured with (access keys, secret keys, session tokens, private keys). Add it to a logger factory set to
/// <see cref="LogLevel.Trace"/>.
/// </summary>
public sealed class SecretsWitness : ILoggerProvider
{
    private readonly string[] _secrets;
    private readonly List<string> _texts = [];
    private int _logLines;

    /// <summary>Creates a witness for <paramref name="secrets"/>.</summary>
    /// <param name="secrets">The values that must never be seen; at least one, none empty.</param>
    public SecretsWitness(params string[] secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        if (secrets.Length == 0 || secrets.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("Give at least one secret, and no empty one.", nameof(secrets));
        }

        _secrets = secrets;
    }

    /// <summary>Log lines seen so far.</summary>
    public int LogLines => Volatile.Read(ref _logLines);

    /// <summary>Texts seen so far (log lines, their values, exception texts, object texts).</summary>
    public int Texts
    {
        get
        {
            lock (_texts)
            {
                return _texts.Count;
            }
        }
    }

    /// <summary>Sees <paramref name="value"/>'s text.</summary>
    /// <param name="value">Any object: options, a store, a manager, a result.</param>
    public void See(object? value)
    {
        switch (value)
        {
            case null:
                return;
            case Exception e:
                SeeException(e);
                return;
            default:
                Add(value.ToString());
                return;
        }
    }

    /// <summary>Whether anything seen so far contains <paramref name="value"/> (e.g. a credential file's path that must be logged).</summary>
    /// <param name="value">The text to look for.</param>
    /// <returns><see langword="true"/> when a log line, exception or object text contained it.</returns>
    public bool Saw(string value)
    {
        lock (_texts)
        {
            return _texts.Any(text => text.Contains(value, StringComparison.Ordinal));
        }
    }

    /// <summary>Fails if any secret appeared in anything seen; the failure shows where, with the secret masked.</summary>
    public void AssertNoSecretSeen()
    {
        List<string> texts;
        lock (_texts)
        {
            texts = [.. _texts];
        }

        var leaks = (from text in texts
                     from index in Enumerable.Range(0, _secrets.Length)
                     where text.Contains(_secrets[index], StringComparison.Ordinal)
                     select $"secret #{index + 1} in: {Mask(text)}").ToList();
        Assert.True(leaks.Count == 0, string.Join(Environment.NewLine, leaks));
    }

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new Collector(this);

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private void SeeException(Exception e)
    {
        Add(e.ToString());
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            Add(current.Message);
            foreach (var value in current.Data.Values)
            {
                Add(value?.ToString());
            }

            if (current is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    SeeException(inner);
                }
            }
        }
    }

    private void Add(string? text)
    {
        if (!string.IsNullOrEmpty(text))
        {
            lock (_texts)
            {
                _texts.Add(text);
            }
        }
    }

    private string Mask(string text) => _secrets.Aggregate(text, (t, s) => t.Replace(s, "***", StringComparison.Ordinal));

    private sealed class Collector(SecretsWitness witness) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            witness.Add(state.ToString());
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            Interlocked.Increment(ref witness._logLines);
            witness.Add(formatter(state, exception));

            // The structured values too: a sink may write them even where the message template leaves them out.
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                foreach (var (_, value) in values)
                {
                    witness.Add(value?.ToString());
                }
            }

            if (exception is not null)
            {
                witness.SeeException(exception);
            }
        }
    }
}
