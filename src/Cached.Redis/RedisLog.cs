using System.Net;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Cached.Redis;

/// <summary>The log messages of Cached.Redis, source-generated, written to <see cref="CachedLogging.Logger"/>.</summary>
internal static partial class RedisLog
{
    [LoggerMessage(EventId = 40, Level = LogLevel.Warning, Message = "Backplane channel '{Channel}' is not subscribed yet ({Reason}); the client subscribes when the connection comes, and what was published until then counts as lost.")]
    public static partial void SubscribeDeferred(ILogger logger, string channel, string reason);

    [LoggerMessage(EventId = 41, Level = LogLevel.Warning, Message = "Backplane connection to {EndPoint} lost ({ConnectionType}, {FailureType}); messages published meanwhile will be missed.")]
    public static partial void ConnectionLost(ILogger logger, EndPoint? endPoint, ConnectionType connectionType, ConnectionFailureType failureType);

    [LoggerMessage(EventId = 42, Level = LogLevel.Information, Message = "Backplane connection to {EndPoint} restored ({ConnectionType}); every subscriber drops what it may have missed.")]
    public static partial void ConnectionRestored(ILogger logger, EndPoint? endPoint, ConnectionType connectionType);

    [LoggerMessage(EventId = 43, Level = LogLevel.Warning, Message = "Backplane channel '{Channel}' lost its sharded subscription (its hash slot moved to another primary) and the client did not subscribe again; subscribing again, and every subscriber drops what it may have missed.")]
    public static partial void SubscriptionLost(ILogger logger, string channel);

    [LoggerMessage(EventId = 44, Level = LogLevel.Information, Message = "Backplane channel '{Channel}' is subscribed again, on {New} (before: {Old}, none when it lived on no server); every subscriber drops what it may have missed meanwhile.")]
    public static partial void SubscriptionMoved(ILogger logger, string channel, EndPoint? old, EndPoint @new);

    [LoggerMessage(EventId = 45, Level = LogLevel.Warning, Message = "Checking backplane channel '{Channel}' failed; the next check tries again.")]
    public static partial void SubscriptionCheckFailed(ILogger logger, Exception exception, string channel);
}
