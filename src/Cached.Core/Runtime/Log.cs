using Microsoft.Extensions.Logging;

namespace Cached.Runtime;

/// <summary>Every log message of Cached.Core, source-generated so that a disabled level costs a check.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Cache read failed for key '{Key}' of {Method} on cache '{Alias}'; calling the method instead.")]
    public static partial void ReadFailed(ILogger logger, Exception exception, string key, string method, string alias);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Cache write failed for key '{Key}' of {Method} on cache '{Alias}'; the result was returned but not stored.")]
    public static partial void WriteFailed(ILogger logger, Exception exception, string key, string method, string alias);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Stampede lease on key '{Key}' of {Method} on cache '{Alias}' failed; calling the method without it.")]
    public static partial void LeaseFailed(ILogger logger, Exception exception, string key, string method, string alias);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Cache invalidation failed for key '{Key}' of {Method} on cache '{Alias}'; the entry may be stale until it expires.")]
    public static partial void InvalidateFailed(ILogger logger, Exception exception, string key, string method, string alias);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Disposing the replaced instance of cache '{Alias}' failed; it may hold resources until the process ends.")]
    public static partial void ReplacedCacheDisposeFailed(ILogger logger, Exception exception, string alias);
    [LoggerMessage(EventId = 6, Level = LogLevel.Error, Message = "{Method} is not cached on cache '{Alias}': its serializer cannot carry {Type}. The method runs uncached on this cache from now on; give it a serializer that carries the type.")]
    public static partial void TypeRefused(ILogger logger, Exception exception, string method, Type type, string alias);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "The factory of key '{Key}' of {Method} on cache '{Alias}' failed; serving the last value (fail-safe) and trying again after {Throttle}.")]
    public static partial void FailSafeServed(ILogger logger, Exception exception, string key, string method, string alias, TimeSpan throttle);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "The factory of key '{Key}' of {Method} on cache '{Alias}' failed in the background; the cached value stays until it expires.")]
    public static partial void BackgroundFailed(ILogger logger, Exception exception, string key, string method, string alias);

    [LoggerMessage(EventId = 9, Level = LogLevel.Information, Message = "The factory of key '{Key}' of {Method} on cache '{Alias}' did not answer within {Timeout}; {Answer}. It goes on in the background and stores its result.")]
    public static partial void FactoryTimedOut(ILogger logger, string key, string method, string alias, TimeSpan timeout, string answer);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "Cache '{Alias}' cannot be reached; cached methods run their bodies uncached and skip their writes until it answers. Further faults of this outage are counted, not logged.")]
    public static partial void OutageStarted(ILogger logger, Exception exception, string alias);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Cache '{Alias}' answers again after {Lasted}; {Calls} cache reads failed meanwhile and their calls ran uncached.")]
    public static partial void OutageEnded(ILogger logger, string alias, TimeSpan lasted, long calls);

    [LoggerMessage(EventId = 12, Level = LogLevel.Error, Message = "Cache alias '{Alias}' is not configured; the cached methods that use it run uncached until it is.")]
    public static partial void AliasNotConfigured(ILogger logger, Exception exception, string alias);

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "{Problem}")]
    public static partial void AliasesMissing(ILogger logger, string problem);

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning, Message = "{Backend} '{Alias}' did not answer: its circuit breaker is open, and its commands fail at once for {Duration}, then one goes through to try it.")]
    public static partial void CircuitOpened(ILogger logger, Exception exception, string backend, string alias, TimeSpan duration);

    [LoggerMessage(EventId = 15, Level = LogLevel.Information, Message = "{Backend} '{Alias}' answers again: its circuit breaker is closed.")]
    public static partial void CircuitClosed(ILogger logger, string backend, string alias);
}
