using System.Diagnostics;
using System.Diagnostics.Metrics;
using Cached.Diagnostics;

namespace Cached.Resilience;

/// <summary>The read-through core's resilience instruments, on Cached's meter, tagged with the cache and the method.</summary>
internal static class ResilienceTelemetry
{
    private static readonly Meter s_meter = new(CachedDiagnostics.MeterName, typeof(ResilienceTelemetry).Assembly.GetName().Version?.ToString());

    private static readonly Counter<long> s_staleServed = s_meter.CreateCounter<long>("cached.resilience.stale_served", "{call}", "Calls answered with a last value past its time to live: the factory failed or timed out.");
    private static readonly Counter<long> s_softTimeouts = s_meter.CreateCounter<long>("cached.resilience.soft_timeouts", "{call}", "Calls that stopped waiting for the factory at the soft timeout.");
    private static readonly Counter<long> s_hardTimeouts = s_meter.CreateCounter<long>("cached.resilience.hard_timeouts", "{call}", "Calls that stopped waiting for the factory at the hard timeout.");
    private static readonly Counter<long> s_eagerRefreshes = s_meter.CreateCounter<long>("cached.resilience.eager_refreshes", "{refresh}", "Background refreshes started by a hit past the eager-refresh point.");
    private static readonly Counter<long> s_backgroundFailures = s_meter.CreateCounter<long>("cached.resilience.background_failures", "{failure}", "Factories that failed in the background (an eager refresh, or a factory that went on after a timeout).");

    public static void StaleServed(string cache, string method) => Count(s_staleServed, cache, method);

    public static void TimedOut(bool soft, string cache, string method) => Count(soft ? s_softTimeouts : s_hardTimeouts, cache, method);

    public static void EagerRefresh(string cache, string method) => Count(s_eagerRefreshes, cache, method);

    public static void BackgroundFailed(string cache, string method) => Count(s_backgroundFailures, cache, method);

    private static void Count(Counter<long> counter, string cache, string method)
    {
        if (counter.Enabled)
        {
            counter.Add(1, new TagList { { "cache.alias", cache }, { "cache.method", method } });
        }
    }
}
