using Microsoft.Extensions.Logging;

namespace Cached.MultiLevel;

/// <summary>The log messages of <see cref="MultiLevelCache"/> and its backplanes, source-generated.</summary>
internal static partial class MultiLevelLog
{
    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "Cache '{Alias}' could not subscribe to backplane channel '{Channel}'; L1 takes no entries until it can.")]
    public static partial void SubscribeFailed(ILogger logger, Exception exception, string channel, string alias);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "Cache '{Alias}' could not publish a {Action} on its backplane; other nodes keep their L1 copies until L1Ttl or their next reconnect.")]
    public static partial void PublishFailed(ILogger logger, Exception exception, string action, string alias);

    [LoggerMessage(EventId = 22, Level = LogLevel.Warning, Message = "Cache '{Alias}' could not apply a backplane message ({Message}).")]
    public static partial void ApplyFailed(ILogger logger, Exception exception, string message, string alias);

    [LoggerMessage(EventId = 23, Level = LogLevel.Information, Message = "Cache '{Alias}' emptied its L1: backplane messages may have been lost.")]
    public static partial void L1Flushed(ILogger logger, string alias);

    [LoggerMessage(EventId = 24, Level = LogLevel.Warning, Message = "Cache '{Alias}' could not write key '{Key}' to its L1.")]
    public static partial void L1WriteFailed(ILogger logger, Exception exception, string key, string alias);

    [LoggerMessage(EventId = 25, Level = LogLevel.Warning, Message = "Cache '{Alias}' could not reach L2 for a {Action}; it is kept and retried when L2 returns.")]
    public static partial void WriteDeferred(ILogger logger, Exception exception, string action, string alias);

    [LoggerMessage(EventId = 26, Level = LogLevel.Error, Message = "Cache '{Alias}' dropped a {Action} that waited for L2: more than {Limit} writes were waiting.")]
    public static partial void PendingWriteDropped(ILogger logger, string action, int limit, string alias);

    [LoggerMessage(EventId = 27, Level = LogLevel.Error, Message = "Cache '{Alias}' dropped a {Action} that waited for L2: L2 refused it.")]
    public static partial void PendingWriteRefused(ILogger logger, Exception exception, string action, string alias);

    [LoggerMessage(EventId = 29, Level = LogLevel.Error, Message = "Cache '{Alias}' was disposed with {Count} write(s) still waiting for L2; they are lost.")]
    public static partial void PendingWritesAbandoned(ILogger logger, int count, string alias);

    [LoggerMessage(EventId = 30, Level = LogLevel.Warning, Message = "Cache '{Alias}' could not read key '{Key}' from L2; its stale L1 copy is offered as the last value for fail-safe.")]
    public static partial void ServedFromL1(ILogger logger, Exception exception, string key, string alias);

    [LoggerMessage(EventId = 28, Level = LogLevel.Information, Message = "Cache '{Alias}' wrote {Count} waiting write(s) to L2.")]
    public static partial void PendingWritesDone(ILogger logger, int count, string alias);

}
