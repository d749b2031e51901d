using Microsoft.Extensions.Logging;

namespace Konduktor.Storage.Testing;

/// <summary>Keeps every log line (message and exception) of every level, for tests that look at what was logged.</summary>
public sealed class CollectingLoggerProvider : ILoggerProvider
{
    private readonly List<string> _lines = [];

    /// <summary>The lines so far: the formatted message, a space, and the exception (if any).</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new Collector(this);

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private sealed class Collector(CollectingLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (owner._lines)
            {
                owner._lines.Add($"{formatter(state, exception)} {exception}");
            }
        }
    }
}
