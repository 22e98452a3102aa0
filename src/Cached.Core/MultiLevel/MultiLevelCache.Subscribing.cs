using Cached.MultiLevel;

namespace Cached;

/// <summary>The backplane subscription L1 waits for before it takes its first entry.</summary>
public sealed partial class MultiLevelCache
{
    /// <summary>
    /// Subscribes to the backplane before L1 first takes an entry (until then L1 holds nothing a message could make
    /// stale). False while subscribing fails: L1 then takes nothing, and reads go to L2. A caller that finds another
    /// subscribing waits for it, so that the first wave of reads fills L1. On a small machine with many cold callers that
    /// wait holds thread-pool threads while the subscription waits for its connection (an outside check saw 16 cold
    /// callers a node stall 5-10 s on two cores); not waiting would leave the first wave's copies out of L1.
    /// </summary>
    private bool CanFillL1()
    {
        if (Backplane is null || _subscribed)
        {
            return true;
        }

        if (Environment.TickCount64 < Volatile.Read(ref _nextSubscribeAttempt))
        {
            return false;
        }

        Monitor.Enter(_subscribeGate);
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
