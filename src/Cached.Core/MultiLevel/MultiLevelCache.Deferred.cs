using Cached.MultiLevel;
using Cached.Serializers;

namespace Cached;

/// <summary>
/// Writes kept for L2 (<see cref="PendingWrites"/>): while L2 cannot be reached, and while an older kept write that a
/// direct write must not overtake still waits. The order L2 sees is the order the callers made their writes in: a
/// write of a key replaces a kept write of it, a clear replaces every kept write of its namespace, and anything else
/// that meets an older kept write goes into the queue behind it.
/// </summary>
public sealed partial class MultiLevelCache
{
    /// <summary>
    /// Keeps a write of <paramref name="key"/> for L2: L1 holds the value meanwhile, and the other nodes learn of it when
    /// it lands. <paramref name="cause"/> is the fault that kept it, or <c>null</c> when it follows an older kept write.
    /// </summary>
    private bool DeferSet<T>(string key, T value, TimeSpan? ttl, string? @namespace, ISerializer? serializer, string? space, Exception? cause)
    {
        KeepInL1(key, value, ttl, space);
        _pending.Set(key, value, ttl, @namespace, serializer, cause);
        return true;
    }

    /// <inheritdoc cref="DeferSet"/>
    private bool DeferSets<T>(KeyValuePair<string, T>[] pairs, TimeSpan? ttl, string? @namespace, ISerializer? serializer, string? space, Exception? cause)
    {
        foreach (var pair in pairs)
        {
            DeferSet(pair.Key, pair.Value, ttl, @namespace, serializer, space, cause);
        }

        return true;
    }

    /// <summary>Keeps a delete of <paramref name="key"/> for L2; answers what L1 deleted.</summary>
    private int DeferDelete(string key, string? @namespace, string? space, Exception? cause)
    {
        _pending.Delete(key, @namespace, cause);
        return L1.Delete(key, space);
    }

    /// <summary>Keeps an expiry of <paramref name="key"/> for L2; L1's copy goes, so that the next read takes the new life.</summary>
    private bool DeferExpire(string key, TimeSpan? ttl, string? @namespace, string? space, Exception? cause)
    {
        _pending.Expire(key, ttl, @namespace, cause);
        DropL1(key, space);
        return true;
    }

    /// <summary>
    /// Whether an expiry of <paramref name="key"/> must wait behind a kept write of the key or a kept clear of its
    /// namespace: sent now, it would change the life of the value L2 is about to lose, and the kept write would land
    /// after it with its own.
    /// </summary>
    private bool ExpiryMustFollow(string key, string? @namespace) => _pending.HoldsUp(@namespace, key);

    /// <summary>
    /// <c>Add</c> and <c>Increment</c> act on the value L2 holds: while a write of the key made during an outage (or a
    /// clear of its namespace) still waits to be written, L2 holds an older state, and the waiting write would land
    /// after the command and undo it. They fail instead, as while L2 is unreachable, and the write is retried at once.
    /// (They cannot wait in the queue: their caller needs L2's answer.)
    /// </summary>
    private void ThrowIfHeldUp(string command, string key, string? @namespace)
    {
        if (_pending.HoldsUp(@namespace, key))
        {
            throw new CacheBackendException(
                $"{command} of '{key}' must follow a write of it made while L2 was unreachable, which is still waiting to be written; it is being retried now, and {command} can be retried once PendingWriteCount drops.",
                null,
                unreachable: true);
        }
    }

    /// <summary>
    /// An async write whose caller cancelled has landed in L2 after all: as when its caller waits, the kept writes it
    /// replaces are dropped (an expiry replaces none), before its turn ends and lets the retry loop look at them.
    /// </summary>
    private void LandedAfterCaller(BackplaneAction action, string? space, IReadOnlyList<string> keys)
    {
        if (action == BackplaneAction.Clear)
        {
            _pending.Cleared(space);
            return;
        }

        if (action is BackplaneAction.Set or BackplaneAction.Delete)
        {
            foreach (var key in keys)
            {
                _pending.Written(space, key);
            }
        }
    }
}
