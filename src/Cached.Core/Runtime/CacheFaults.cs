using System.Runtime.CompilerServices;

namespace Cached.Runtime;

/// <summary>
/// How the cache faults that cached methods survive are reported: neither flooding the log nor going unseen. A cache
/// that cannot be reached (a <see cref="CacheBackendException"/> flagged <see cref="CacheBackendException.Unreachable"/>)
/// starts an outage, logged once; while it lasts, methods skip their writes and their faults are only
/// counted; the first command that succeeds ends it, logged once with the count of calls that ran uncached. Other
/// faults are logged per call. With no logger configured, the first fault of each cache is written once to standard
/// error, so that a cache that is not there never looks like a cache that works.
/// </summary>
internal static class CacheFaults
{
    private static readonly ConditionalWeakTable<ICache, Outage> s_outages = new();
    private static readonly ConditionalWeakTable<ICache, object> s_announced = new();

    // Outages in progress, in every cache: while zero, a successful read costs one volatile read here and nothing more.
    private static int s_active;

    /// <summary>Whether any cache is in an outage: only then need a successful read call <see cref="Answered"/>.</summary>
    public static bool AnyOutage => Volatile.Read(ref s_active) > 0;

    /// <summary>
    /// Whether <paramref name="exception"/> says the cache cannot be reached, rather than that it refused or was slow: a
    /// timeout is logged per call and does not stop writes, as a slow server may still take them.
    /// </summary>
    public static bool IsUnreachable(Exception exception) => exception is CacheBackendException { Unreachable: true };

    /// <summary>
    /// Notes a fault of <paramref name="cache"/>; true when the caller is to log it as usual, false when it belongs to an
    /// outage (whose start this call may just have logged).
    /// </summary>
    public static bool Note(ICache cache, Exception exception, string alias)
    {
        if (exception is UnknownCacheAliasException unknown)
        {
            // A fault of configuration, not of a call: said once per alias, and the methods run uncached meanwhile.
            if (s_announced.TryAdd(cache, alias))
            {
                Log.AliasNotConfigured(CachedLogging.Logger, unknown, unknown.Alias);
                WriteToStandardError($"Cached: {unknown.Message} Cached methods that use it run uncached until it is.");
            }

            return false;
        }

        // L2's circuit breaker said so, once, when it opened (event 14): its refusals are not news worth a line per call.
        if (cache is MultiLevelCache && exception is CacheBackendException { CircuitOpen: true })
        {
            return false;
        }

        // A two-level cache has its own outage handling (L1 answers, writes wait for L2), and its L1 hits would end an
        // outage at every call: its faults are logged per call, as any fault that is not an outage.
        if (!IsUnreachable(exception) || cache is MultiLevelCache)
        {
            Announce(cache, exception, alias);
            return true;
        }

        var outage = s_outages.GetValue(cache, static _ => new Outage());
        if (outage.Begin())
        {
            Interlocked.Increment(ref s_active);
            Log.OutageStarted(CachedLogging.Logger, exception, alias);
            Announce(cache, exception, alias);
        }

        return false;
    }

    /// <summary>Whether an outage of <paramref name="cache"/> is in progress: its writes are then skipped.</summary>
    public static bool IsDown(ICache cache)
        => Volatile.Read(ref s_active) > 0 && s_outages.TryGetValue(cache, out var outage) && outage.Active;

    /// <summary>Notes that <paramref name="cache"/> answered: ends its outage, if one is in progress, and logs that.</summary>
    public static void Answered(ICache cache, string alias)
    {
        if (Volatile.Read(ref s_active) == 0 || !s_outages.TryGetValue(cache, out var outage) || !outage.TryEnd(out var lasted, out var calls))
        {
            return;
        }

        Interlocked.Decrement(ref s_active);
        Log.OutageEnded(CachedLogging.Logger, alias, lasted, calls);
    }

    private static void Announce(ICache cache, Exception exception, string alias)
    {
        if (CachedLogging.IsConfigured || !CachedLogging.FirstFaultToStandardError || !s_announced.TryAdd(cache, alias))
        {
            return;
        }

        WriteToStandardError(
            $"Cached: cache '{alias}' failed, and each cached call it fails runs uncached: {exception.GetType().Name}: {exception.Message} " +
            "(printed once per cache; set CachedLogging.LoggerFactory, or call AddCached, to log every fault).");
    }

    /// <summary>A line on standard error, unless a logger is configured or the application turned it off.</summary>
    internal static void WriteToStandardError(string line)
    {
        if (CachedLogging.IsConfigured || !CachedLogging.FirstFaultToStandardError)
        {
            return;
        }

        try
        {
            Console.Error.WriteLine(line);
        }
        catch (IOException)
        {
            // No standard error to write to: nothing else to tell.
        }
    }

    /// <summary>One cache's outage: whether it is in progress, since when, and how many calls it cost.</summary>
    private sealed class Outage
    {
        private int _active;
        private long _since;
        private long _calls;

        // A cache replaced and collected during its outage takes this entry with it: the count of outages in
        // progress must not keep every later read paying for a lookup.
        ~Outage()
        {
            if (Volatile.Read(ref _active) == 1)
            {
                Interlocked.Decrement(ref s_active);
            }
        }

        public bool Active => Volatile.Read(ref _active) == 1;

        /// <summary>Counts a call that met the outage; true for the call that began it.</summary>
        public bool Begin()
        {
            // Counted before the start, so a call racing the one that begins the outage is never lost.
            Interlocked.Increment(ref _calls);
            if (Interlocked.CompareExchange(ref _active, 1, 0) == 0)
            {
                Volatile.Write(ref _since, Environment.TickCount64);
                return true;
            }

            return false;
        }

        public bool TryEnd(out TimeSpan lasted, out long calls)
        {
            if (Interlocked.CompareExchange(ref _active, 0, 1) != 1)
            {
                (lasted, calls) = (default, 0);
                return false;
            }

            lasted = TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref _since));
            calls = Interlocked.Exchange(ref _calls, 0);
            return true;
        }
    }
}
