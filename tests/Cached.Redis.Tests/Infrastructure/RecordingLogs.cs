using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Cached.Redis.Tests.Infrastructure;

/// <summary>A logger factory that keeps every entry (event id, message, exception), for tests of what a user sees logged.</summary>
internal sealed class RecordingLogs : ILoggerFactory, ILogger
{
    private readonly ConcurrentQueue<(int Id, string Message, Exception? Exception)> _entries = new();

    public int[] Ids => _entries.Select(static e => e.Id).ToArray();

    public string[] Messages => _entries.Select(static e => e.Message).ToArray();

    public Exception[] Exceptions => _entries.Select(static e => e.Exception).OfType<Exception>().ToArray();

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        => _entries.Enqueue((eventId.Id, formatter(state, exception), exception));
}
