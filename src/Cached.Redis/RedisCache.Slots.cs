using Cached.Plugins;
using StackExchange.Redis;

namespace Cached.Redis;

// Whether the server is a cluster, and the commands on several keys of one hash slot, which a cluster may answer with
// TRYAGAIN while the slot moves (TryAgain).
public sealed partial class RedisCache
{
    private int _cluster = -1;

    /// <inheritdoc />
    // On a cluster, the node that serves the key's slot in the client's last map of the cluster (not the node the client
    // would send to now: for a slot whose primary is disconnected it picks another): a primary that hangs opens the
    // circuit breaker, and one that answers does not close it while the hung one still hangs. None for a command on
    // several nodes or every one (a batch, a clear, tags, a raw command), nor before the client has a connection.
    protected override object? FaultDomainOf(CacheCommand command, string subject)
    {
        if (command is CacheCommand.Clear or CacheCommand.Raw or CacheCommand.MultiGet or CacheCommand.MultiSet or CacheCommand.InvalidateTags
            || (Connection ?? _lease?.Connected) is not { IsConnected: true } multiplexer
            || !IsCluster(multiplexer))
        {
            return null;
        }

        var slot = multiplexer.HashSlot(subject);
        foreach (var server in multiplexer.GetServers())
        {
            if (server.ClusterConfiguration?.GetBySlot(slot) is { } node)
            {
                return node.EndPoint;
            }
        }

        return null;
    }

    private bool IsCluster(IDatabase db) => IsCluster(db.Multiplexer);

    private bool IsCluster(IConnectionMultiplexer multiplexer)
    {
        var known = Volatile.Read(ref _cluster);
        if (known < 0)
        {
            known = RedisSlots.IsCluster(multiplexer) ? 1 : 0;
            // Kept once a server has answered: before that every server reads as standalone.
            if (multiplexer.IsConnected)
            {
                Volatile.Write(ref _cluster, known);
            }
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
    /// <see cref="OnSlot"/> for a command sent without blocking: sent again until <paramref name="deadline"/> too
    /// (<see cref="CallDeadline"/> for an async call, none for a sync one, which the client's <c>SyncTimeout</c>
    /// bounds), and not once <paramref name="cancellationToken"/> is cancelled: by then the pipeline has stopped waiting
    /// for it (<see cref="TryAgain.SendAsync"/>).
    /// </summary>
    private Task<T> OnSlotAsync<TState, T>(IDatabase db, RedisKey[] keys, TState state, Func<IDatabase, TState, Task<T>> send, long? deadline, CancellationToken cancellationToken)
        => keys.Length > 1 && IsCluster(db) ? TryAgain.SendAsync(db, state, send, deadline, cancellationToken) : send(db, state);

    /// <summary>
    /// When an async call that starts now ends by <see cref="BaseCache.Timeout"/> (an <see cref="Environment.TickCount64"/>
    /// instant), taken once as the call begins, so that its commands sent one after another share it; null without one.
    /// </summary>
    private long? CallDeadline() => Timeout is { } timeout ? Environment.TickCount64 + (long)timeout.TotalMilliseconds : null;

    /// <summary>
    /// Stops an async call that sends page after page (a clear) once its caller has stopped waiting for it, at its
    /// <paramref name="deadline"/> or its token: a delete sent after that would remove what the caller wrote next.
    /// </summary>
    private static void ThrowIfAbandoned(long? deadline, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (deadline < Environment.TickCount64)
        {
            throw new TimeoutException("The clear was still running when its timeout passed; it sends nothing more.");
        }
    }
}
