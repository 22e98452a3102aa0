using System.Collections.Concurrent;

namespace Cached.Pipeline;

/// <summary>
/// The in-process half of "an invalidation is final": one fence per key that a fill (a value computed after a miss)
/// is pending on. Every write, delete, expiry or clear of the key moves its fence; a fill stores only if the fence has
/// not moved since the fill opened, checked and stored under the fence's gate so that no invalidation slips between
/// the check and the store.
/// </summary>
/// <remarks>
/// Fences exist only while fills are pending, so a cache with no fill open pays one volatile read per write. A fence
/// moves before its invalidation reaches the store: a fill that stores first is then overwritten or removed, and one
/// that stores after sees the fence moved.
/// </remarks>
internal sealed partial class FillFences
{
    private readonly ConcurrentDictionary<string, Fence> _fences = new(StringComparer.Ordinal);
    private int _open;

    /// <summary>Opens a fill of <paramref name="fullKey"/>: the fence as it stands now.</summary>
    public Ticket Open(string fullKey)
    {
        // Counted before the fence is looked up, so a write that finds no fill open cannot miss this one's fence:
        // it ran before this fill began, and what the fill computes from now on is newer than that write.
        Interlocked.Increment(ref _open);
        while (true)
        {
            var fence = _fences.GetOrAdd(fullKey, static _ => new Fence());
            if (fence.TryHold())
            {
                // Read after the hold: a move that lands after this read makes the ticket stale, as it must.
                return new Ticket(fullKey, fence, Volatile.Read(ref fence.Moves));
            }

            // A retired fence (its last fill closed it as we found it): put a new one in its place, unless a
            // concurrent open did, and take that.
            _fences.TryUpdate(fullKey, new Fence(), fence);
        }
    }

    /// <summary>Moves the fence of <paramref name="fullKey"/>, if a fill is pending on it: that fill will not store.</summary>
    public void Move(string fullKey)
    {
        if (Volatile.Read(ref _open) != 0 && _fences.TryGetValue(fullKey, out var fence))
        {
            MoveUnderGate(fence);
        }
    }

    /// <summary>Moves the fences of a batch write's keys.</summary>
    public void Move(KeyValuePair<string, object?>[] entries)
    {
        if (Volatile.Read(ref _open) == 0)
        {
            return;
        }

        foreach (var entry in entries)
        {
            Move(entry.Key);
        }
    }

    /// <summary>Moves every fence (a clear): no fill pending now will store.</summary>
    public void MoveAll()
    {
        if (Volatile.Read(ref _open) == 0)
        {
            return;
        }

        foreach (var fence in _fences.Values)
        {
            MoveUnderGate(fence);
        }
    }

    /// <summary>Whether nothing invalidated the ticket's key since it opened (in this process).</summary>
    public static bool IsCurrent(Ticket ticket) => Volatile.Read(ref ticket.Fence.Moves) == ticket.Moves;

    /// <summary>
    /// Runs <paramref name="store"/> with which of the tickets are current, every invalidation of their keys held off
    /// meanwhile: it must store exactly the current ones. The gates are taken in key order, so two batches never wait
    /// for each other.
    /// </summary>
    public static TResult StoreCurrent<TState, TResult>(Ticket[] tickets, TState state, Func<TState, bool[], TResult> store)
    {
        var gates = GatesInOrder(tickets);
        var taken = 0;
        try
        {
            for (; taken < gates.Length; taken++)
            {
                gates[taken].Enter();
            }

            return store(state, Currents(tickets));
        }
        finally
        {
            Release(gates, taken);
        }
    }

    /// <inheritdoc cref="StoreCurrent{TState, TResult}"/>
    public static async ValueTask<TResult> StoreCurrentAsync<TState, TResult>(Ticket[] tickets, TState state, Func<TState, bool[], CancellationToken, ValueTask<TResult>> store, CancellationToken cancellationToken)
    {
        var gates = GatesInOrder(tickets);
        var taken = 0;
        try
        {
            for (; taken < gates.Length; taken++)
            {
                await gates[taken].EnterAsync(cancellationToken).ConfigureAwait(false);
            }

            return await store(state, Currents(tickets), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Release(gates, taken);
        }
    }

    /// <summary>
    /// Runs <paramref name="store"/> if <paramref name="ticket"/> is current, every invalidation of its key held off
    /// meanwhile; false, without running it, when the fence moved. The one-ticket <see cref="StoreCurrent"/>, for a
    /// store that never waits.
    /// </summary>
    public static bool StoreIfCurrent<TState>(Ticket ticket, TState state, Func<TState, bool> store)
    {
        var fence = ticket.Fence;
        fence.Enter();
        try
        {
            return IsCurrent(ticket) && store(state);
        }
        finally
        {
            fence.Exit();
        }
    }

    private static Fence[] GatesInOrder(Ticket[] tickets)
    {
        if (tickets.Length == 1)
        {
            return [tickets[0].Fence];
        }

        // One gate per fence (a batch may hold two tickets of one key), in key order.
        return tickets
            .GroupBy(static ticket => ticket.Fence)
            .Select(static group => group.First())
            .OrderBy(static ticket => ticket.FullKey, StringComparer.Ordinal)
            .Select(static ticket => ticket.Fence)
            .ToArray();
    }

    private static bool[] Currents(Ticket[] tickets)
    {
        var current = new bool[tickets.Length];
        for (var i = 0; i < tickets.Length; i++)
        {
            current[i] = IsCurrent(tickets[i]);
        }

        return current;
    }

    private static void Release(Fence[] gates, int taken)
    {
        for (var i = 0; i < taken; i++)
        {
            gates[i].Exit();
        }
    }

    /// <summary>Closes a fill; the last one pending on a fence retires it.</summary>
    public void Close(Ticket ticket)
    {
        if (ticket.Fence.LetGo())
        {
            _fences.TryRemove(new KeyValuePair<string, Fence>(ticket.FullKey, ticket.Fence));
        }

        Interlocked.Decrement(ref _open);
    }

    private static void MoveUnderGate(Fence fence)
    {
        // The gate waits out a fill that is storing right now, so that store lands before this invalidation does.
        fence.Enter();
        Interlocked.Increment(ref fence.Moves);
        fence.Exit();
    }

    /// <summary>What a fill saw when it opened.</summary>
    internal readonly record struct Ticket(string FullKey, Fence Fence, long Moves);
}
