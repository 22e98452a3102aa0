using StackExchange.Redis;

namespace Cached.Redis;

// Whether the server is a cluster, and the commands on several keys of one hash slot, which a cluster may answer with
// TRYAGAIN while the slot moves (TryAgain).
public sealed partial class RedisCache
{
    private int _cluster = -1;

    private bool IsCluster(IDatabase db)
    {
        var known = Volatile.Read(ref _cluster);
        if (known < 0)
        {
            known = RedisSlots.IsCluster(db.Multiplexer) ? 1 : 0;
            Volatile.Write(ref _cluster, known);
        }

        return known == 1;
    }

    /// <summary>
    /// Sends a command on <paramref name="keys"/> of one hash slot; on a cluster, when they are several, again after each
    /// TRYAGAIN while the slot moves (<see cref="TryAgain"/>).
    /// </summary>
    private T OnSlot<TState, T>(IDatabase db, RedisKey[] keys, TState state, Func<IDatabase, TState, T> send)
        => keys.Length > 1 && IsCluster(db) ? TryAgain.Send(db, state, send) : send(db, state);

    /// <summary>
    /// <see cref="OnSlot"/> for a command sent without blocking: sent again within <paramref name="timeout"/> too (the
    /// cache's <see cref="BaseCache.Timeout"/> for an async command, none for a sync one, which the client's
    /// <c>SyncTimeout</c> bounds), and not once <paramref name="cancellationToken"/> is cancelled: by then the pipeline
    /// has stopped waiting for it (<see cref="TryAgain.SendAsync"/>).
    /// </summary>
    private Task<T> OnSlotAsync<TState, T>(IDatabase db, RedisKey[] keys, TState state, Func<IDatabase, TState, Task<T>> send, TimeSpan? timeout, CancellationToken cancellationToken)
        => keys.Length > 1 && IsCluster(db) ? TryAgain.SendAsync(db, state, send, timeout, cancellationToken) : send(db, state);
}
