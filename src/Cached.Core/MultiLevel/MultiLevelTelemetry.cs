using System.Diagnostics;
using System.Diagnostics.Metrics;
using Cached.Diagnostics;

namespace Cached.MultiLevel;

/// <summary>The two-level cache's own instruments, on Cached's meter, tagged with the cache's alias and the action.</summary>
internal static class MultiLevelTelemetry
{
    private static readonly Meter s_meter = new(CachedDiagnostics.MeterName, typeof(MultiLevelTelemetry).Assembly.GetName().Version?.ToString());

    private static readonly Counter<long> s_published = s_meter.CreateCounter<long>("cached.backplane.published", "{message}", "Backplane messages a two-level cache sent.");
    private static readonly Counter<long> s_received = s_meter.CreateCounter<long>("cached.backplane.received", "{message}", "Backplane messages from other nodes a two-level cache applied to its L1.");
    private static readonly Counter<long> s_deferred = s_meter.CreateCounter<long>("cached.l2.deferred_writes", "{write}", "Writes that could not reach L2 and were queued for a retry.");
    private static readonly Counter<long> s_dropped = s_meter.CreateCounter<long>("cached.l2.dropped_writes", "{write}", "Queued writes dropped because the queue was full or L2 refused them.");

    public static void Published(MultiLevelCache cache, BackplaneAction action) => Count(s_published, cache, action.ToString());

    public static void Received(MultiLevelCache cache, BackplaneAction action) => Count(s_received, cache, action.ToString());

    public static void Deferred(MultiLevelCache cache, string action) => Count(s_deferred, cache, action);

    public static void Dropped(MultiLevelCache cache, string action) => Count(s_dropped, cache, action);

    private static void Count(Counter<long> counter, MultiLevelCache cache, string action)
    {
        if (counter.Enabled)
        {
            counter.Add(1, new TagList { { "cache.alias", cache.AliasForLogs }, { "cache.action", action } });
        }
    }
}
