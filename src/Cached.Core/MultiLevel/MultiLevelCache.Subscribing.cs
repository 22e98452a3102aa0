using Cached.MultiLevel;

namespace Cached;

/// <summary>The backplane subscription L1 waits for before it takes its first entry.</summary>
public sealed partial class MultiLevelCache
{
    /// <summary>
    /// Subscribes to the backplane before L1 first takes an entry (until then L1 holds nothing a message could make
    /// stale). False while subscribing fails: L1 then takes nothing, and reads go to L2. False too for a caller that finds
    /// another subscribing: it takes nothing into L1 this time rather than wait. Waiting held a thread-pool thread per
    /// cold caller while the subscription waited for its connection, and on a small machine the starved pool delayed that
    /// very connection: in an outside check 16 cold callers a node stalled 5-10 s, past the connect wait, and ran their
    /// bodies uncached.
    /// </summary>
    private bool CanFillL1()
    {
        if (Backplane is null || _subscribed)
        {
            return true;
        }

        if (Environment.TickCount64 < Volatile.Read(ref _nextSubscribeAttempt) || !Monitor.TryEnter(_subscribeGate))
        {
            return false;
        }

        try
        {
            if (_subscribed || Environment.TickCount64 < _nextSubscribeAttempt)
            {
                return _subscribed;
            }

            try
            {
                _subscription = Backplane.Subscribe(Channel, this);
                _subscribed = true;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Volatile.Write(ref _nextSubscribeAttempt, Environment.TickCount64 + (long)s_subscribeRetry.TotalMilliseconds);
                MultiLevelLog.SubscribeFailed(CachedLogging.Logger, ex, Channel, AliasForLogs);
            }

            return _subscribed;
        }
        finally
        {
            Monitor.Exit(_subscribeGate);
        }
    }
}
