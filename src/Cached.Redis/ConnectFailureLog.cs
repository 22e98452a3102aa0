using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Cached.Redis;

/// <summary>
/// What one connect of a shared multiplexer met, heard from the client's own log: the client knows within
/// milliseconds that a login was refused or a server refused the connection, but says so in a command's error only
/// once its connect has ended, which may take its whole connect timeout (several attempts, each waited out). Until then
/// a command could only say that the connection is "not reachable yet"; with this, it names the reason. Everything the
/// client logs still reaches the logger factory the configuration gave it, if any.
/// </summary>
internal sealed class ConnectFailureLog(ILoggerFactory? inner) : ILoggerFactory
{
    private readonly ILoggerFactory _inner = inner ?? NullLoggerFactory.Instance;
    private readonly TaskCompletionSource _refused = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile RedisConnectionException? _last;
    private volatile RedisConnectionException? _refusal;

    /// <summary>The last connection failure the client logged, or null.</summary>
    public RedisConnectionException? Last => _last;

    /// <summary>
    /// The last refusal of the connection's login (or of its certificate) the client logged, or null: kept apart from
    /// <see cref="Last"/>, which the connection's reset after it overwrites ("UnableToConnect (0-read)").
    /// </summary>
    public RedisConnectionException? Refusal => _refusal;

    /// <summary>
    /// Completes with the first <see cref="Refusal"/>: one that waiting for the connection will not change, so a
    /// command waiting for it need wait no longer.
    /// </summary>
    public Task Refused => _refused.Task;

    /// <summary>The reason to give in a command's error: the failure's kind and the server's (or socket's) own words.</summary>
    public static string Describe(RedisConnectionException failure)
        => $"{failure.FailureType}: {(failure.InnerException ?? failure).Message}";

    public ILogger CreateLogger(string categoryName) => new Recorder(this, _inner.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider) => _inner.AddProvider(provider);

    // Not the inner factory's to dispose: the configuration that gave it owns it.
    public void Dispose()
    {
    }

    /// <summary>Forgets the refusal once a connection is made: the login or certificate was mended.</summary>
    public void Forget() => _refusal = null;

    private void Note(RedisConnectionException failure)
    {
        _last = failure;
        if (failure.FailureType == ConnectionFailureType.AuthenticationFailure)
        {
            _refusal = failure;
            _refused.TrySetResult();
        }
    }

    /// <summary>One category's logger: notes the failures, and forwards what the inner logger wants.</summary>
    private sealed class Recorder(ConnectFailureLog owner, ILogger forward) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
            => forward.BeginScope(state);

        // Errors are always wanted here (a failure is logged as one); the rest only if the inner logger wants them.
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error || forward.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (exception is RedisConnectionException failure)
            {
                owner.Note(failure);
            }

            if (forward.IsEnabled(logLevel))
            {
                forward.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
