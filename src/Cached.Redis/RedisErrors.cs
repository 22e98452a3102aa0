using Cached.Plugins;
using StackExchange.Redis;

namespace Cached.Redis;

/// <summary>Turns StackExchange.Redis exceptions into Cached's: the caller sees one exception family for every backend.</summary>
internal static class RedisErrors
{
    /// <summary>The exception to throw instead of <paramref name="exception"/>, or null to let it through unchanged.</summary>
    /// <param name="exception">What StackExchange.Redis threw.</param>
    /// <param name="key">The key (or subject) of the command, for the message.</param>
    /// <param name="command">The command, which decides what some server errors mean.</param>
    /// <param name="refusal">
    /// The refusal of the connection's login or certificate that the client logged and no connection has mended since,
    /// if any: named where the client's own message does not (it says "Operation canceled" of a refused certificate).
    /// </param>
    public static Exception? Translate(Exception exception, string key, CacheCommand command = CacheCommand.Get, RedisConnectionException? refusal = null) => exception switch
    {
        // INCRBY on a list, a hash or a set: the key holds something that is not an integer, as ICache.Increment documents.
        RedisServerException server when command == CacheCommand.Increment && server.Message.StartsWith("WRONGTYPE", StringComparison.Ordinal)
            => new CacheValueNotIntegerException(key, server),
        // Timeouts stay TimeoutException (RedisTimeoutException is one), one that waited in the client's backlog too: the
        // client also queues there while its connection is busy, so it does not prove the server unreachable, and an
        // unreachable fault would pause the whole cache's writes (CacheFaults), keys of healthy cluster primaries included.
        // Cancellations and our own errors pass as they are.
        TimeoutException or OperationCanceledException or CacheException or ObjectDisposedException => null,
        RedisServerException server when server.Message.Contains("not an integer", StringComparison.OrdinalIgnoreCase)
            => new CacheValueNotIntegerException(key, server),
        RedisServerException server when server.Message.Contains("overflow", StringComparison.OrdinalIgnoreCase)
            => new OverflowException($"Incrementing '{key}' would overflow a 64-bit integer; the value is left as it was.", server),
        RedisServerException server when server.Message.StartsWith("OOM", StringComparison.Ordinal)
            => new CacheBackendException($"Redis is out of memory and refused to write '{key}': {server.Message}", server),
        RedisCommandException refused
            => new CacheBackendException($"The Redis client refused a command on '{key}': {refused.Message}", refused),
        RedisConnectionException connection
            => new CacheBackendException($"Redis is unreachable ({connection.FailureType}) for '{key}': {connection.Message}{Naming(refusal, connection)}", connection, unreachable: true),
        RedisException redis
            => new CacheBackendException($"Redis failed a command on '{key}': {redis.Message}", redis),
        _ => null,
    };

    private static string Naming(RedisConnectionException? refusal, RedisConnectionException connection)
        => refusal is null || connection.Message.Contains((refusal.InnerException ?? refusal).Message, StringComparison.Ordinal)
            ? string.Empty
            : $" The server refused the connection's login: {ConnectFailureLog.Describe(refusal)}.";
}
