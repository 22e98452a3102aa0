using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Cached.Pipeline;

/// <summary>
/// The in-process half of "an invalidation is final": the fences that fills (values computed after a miss) are
/// pending on. Every write, delete, expiry or clear of a key moves its fence; a fill stores only if the fence has not
/// moved since the fill opened, checked and stored under the fence's gate so that no invalidation slips between the
/// check and the store.
/// </summary>
/// <remarks>
/// <para>Two kinds. A store in this process (striped) has a fixed set of fences (<see cref="Stripes"/>), each shared by
/// the keys whose hash picks it, made when a fill first picks it: a miss opens and closes its fill with no lookup, no
/// insert and no allocation. Keys that share a fence only ever refuse more: a write of one makes a fill of the other,
/// pending at that moment, not store, but only when the fence cannot tell the keys apart: it remembers the hashes of
/// its last <see cref="RecentMoves"/> moves, so a fill is refused by a write of its own key, a clear, a key with the
/// same 32-bit hash, or more writes of other keys during the fill than it remembers. The hash is the same in every
/// process (not the randomized string hash), so which keys share a fence never changes between runs. A remote store (keyed) has one fence per key being filled, made by the first fill and retired by the last: its
/// fills hold the gate for a round trip, which must keep only writes of the same key waiting.</para>
/// <para>With no fill open, a write pays one volatile read. A fence moves before its invalidation reaches the store: a
/// fill that stores first is then overwritten or removed, and one that stores after sees the fence moved.</para>
/// </remarks>
/// <param name="striped">True for a store in this process, whose fills hold a gate only for an in-memory write.</param>
internal sealed partial class FillFences(bool striped)
{
    /// <summary>How many fences a striped set has: two keys filled and invalidated at once share one 1 time in 1,024.</summary>
    internal const int Stripes = 1024;

    // Striped: made with the first fill, so a cache that never fills pays nothing for it. Keyed: the open fills' fences.
    private readonly ConcurrentDictionary<string, Fence>? _keyed = striped ? null : new(StringComparer.Ordinal);
    private Fence?[]? _stripes;
    private int _open;
    private long _movesWhileOpen;

    /// <summary>The fills opened and not yet closed.</summary>
    public int OpenCount => Volatile.Read(ref _open);

    /// <summary>
    /// How many moves (writes, deletes, clears of any key) came while a fill was open: unchanged between two readings
    /// taken while a fill stays open means nothing in this process wrote or dropped a key of this cache in between.
    /// </summary>
    public long MovesWhileOpen => Volatile.Read(ref _movesWhileOpen);

    /// <summary>Opens a fill of <paramref name="fullKey"/>: its fence as it stands now.</summary>
    public Ticket Open(string fullKey)
    {
        // Counted before the fence is read, so a write that finds no fill open cannot miss this one's fence: it ran
        // before this fill began, and what the fill computes from now on is newer than that write.
        Interlocked.Increment(ref _open);
        if (_keyed is null)
        {
            var striped = StripeAt(StripeOf(fullKey));
            return new Ticket(fullKey, striped, Volatile.Read(ref striped.Moves));
        }

        while (true)
        {
            var fence = _keyed.GetOrAdd(fullKey, static _ => new Fence(-1));
            if (fence.TryHold())
            {
                // Read after the hold: a move that lands after this read makes the ticket stale, as it must.
                return new Ticket(fullKey, fence, Volatile.Read(ref fence.Moves));
            }

            // A retired fence (its last fill closed it as we found it): put a new one in its place, unless a
            // concurrent open did, and take that.
            _keyed.TryUpdate(fullKey, new Fence(-1), fence);
        }
    }

    /// <summary>How many of a striped fence's last moves it remembers the keys of (by hash): see <see cref="IsCurrent"/>.</summary>
    internal const int RecentMoves = 8;

    /// <summary>A key's hash, the same in every process: FNV-1a over its UTF-16 code units.</summary>
    internal static uint HashOf(string fullKey)
    {
        var hash = 2166136261u;
        foreach (var c in fullKey)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return hash;
    }

    /// <summary>The fence <paramref name="fullKey"/> shares: its hash folded to a stripe.</summary>
    internal static int StripeOf(string fullKey) => StripeOf(HashOf(fullKey));

    private static int StripeOf(uint hash) => (int)((hash ^ (hash >> 16)) & (Stripes - 1));

    private Fence StripeAt(int stripe)
    {
        var fences = Volatile.Read(ref _stripes);
        if (fences is null)
        {
            var made = new Fence?[Stripes];
            fences = Interlocked.CompareExchange(ref _stripes, made, null) ?? made;
        }

        var fence = Volatile.Read(ref fences[stripe]);
        if (fence is null)
        {
            var made = new Fence(stripe);
            fence = Interlocked.CompareExchange(ref fences[stripe], made, null) ?? made;
        }

        return fence;
    }

    /// <summary>Moves the fence of <paramref name="fullKey"/>, if a fill is pending on it: that fill will not store.</summary>
    public void Move(string fullKey)
    {
        if (Volatile.Read(ref _open) == 0)
        {
            return;
        }

        Interlocked.Increment(ref _movesWhileOpen);

        // A fence not made yet has no fill pending on it: one opening now reads its moves after this write's store.
        if (_keyed is not null)
        {
            if (_keyed.TryGetValue(fullKey, out var keyed))
            {
                MoveUnderGate(keyed, keyHash: 0);
            }

            return;
        }

        // The key's hash picks the stripe and is what the stripe remembers: computed once.
        var hash = HashOf(fullKey);
        if (Volatile.Read(ref _stripes) is { } fences && Volatile.Read(ref fences[StripeOf(hash)]) is { } striped)
        {
            MoveUnderGate(striped, hash);
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

        Interlocked.Increment(ref _movesWhileOpen);

        var fences = _keyed is not null ? _keyed.Values.ToArray() : Volatile.Read(ref _stripes) ?? [];
        foreach (var fence in fences)
        {
            if (fence is not null)
            {
                fence.Enter();
                fence.NoteMoveOfEveryKey();
                fence.Exit();
            }
        }
    }

    /// <summary>
    /// Whether nothing invalidated the ticket's key since it opened (in this process). A striped fence that moved since
    /// still counts as current if it moved fewer than <see cref="RecentMoves"/> times, each for a key of another hash: a
    /// write of a key that shares the fence then refuses no fill of this one, unless a clear moved it, or so many writes
    /// that it no longer knows whose they were. Exact under the fence's gate, where fills check it; outside it (whether
    /// a flight was overtaken) a move landing during the check can only make it answer false.
    /// </summary>
    public static bool IsCurrent(Ticket ticket)
    {
        var fence = ticket.Fence;
        var moves = Volatile.Read(ref fence.Moves);
        if (moves == ticket.Moves)
        {
            return true;
        }

        // Fewer than RecentMoves: the move being written now (into the slot of RecentMoves ago) is outside the range read.
        if (fence.Stripe < 0 || moves - ticket.Moves >= RecentMoves)
        {
            return false;
        }

        var hash = HashOf(ticket.FullKey);
        for (var move = ticket.Moves; move < moves; move++)
        {
            if (fence.KeyHashOfMove(move) == hash)
            {
                return false;
            }
        }

        return Volatile.Read(ref fence.Moves) == moves;
    }

    /// <summary>
    /// Runs <paramref name="store"/> with which of the tickets are current, every invalidation of their keys held off
    /// meanwhile: it must store exactly the current ones. The gates are taken in stripe order, so two batches never
    /// wait for each other.
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
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // awaited once, by the pipeline that runs the fill
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
    /// The one-ticket <see cref="StoreCurrentAsync"/>: runs <paramref name="store"/> if <paramref name="ticket"/> is
    /// current, every invalidation of its key held off meanwhile; 0 (nothing stored), without running it, when the
    /// fence moved. A miss's fill, without a batch's gates and flags.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // awaited once, by the pipeline that runs the fill
    public static async ValueTask<int> StoreIfCurrentAsync<TState>(Ticket ticket, TState state, Func<TState, CancellationToken, ValueTask<int>> store, CancellationToken cancellationToken)
    {
        var fence = ticket.Fence;
        await fence.EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return IsCurrent(ticket) ? await store(state, cancellationToken).ConfigureAwait(false) : 0;
        }
        finally
        {
            fence.Exit();
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

    /// <summary>
    /// <see cref="StoreIfCurrent"/> for a write's own value rather than a fill's: once stored, the fence moves in the
    /// same hold, so that no fill opened before it (which may carry an older value) stores over it afterwards.
    /// </summary>
    public static bool StoreIfCurrentThenMove<TState>(Ticket ticket, TState state, Func<TState, bool> store)
    {
        var fence = ticket.Fence;
        fence.Enter();
        try
        {
            if (!IsCurrent(ticket) || !store(state))
            {
                return false;
            }

            // A keyed fence remembers no hashes and ignores it.
            fence.NoteMove(HashOf(ticket.FullKey));
            return true;
        }
        finally
        {
            fence.Exit();
        }
    }

    /// <summary>
    /// <see cref="StoreIfCurrentThenMove"/> for a batch of writes: every ticket is checked under all their gates (taken
    /// in stripe order) before the batch moves any fence, then <paramref name="store"/> stores the current ones and
    /// their fences move. Checked one after another, each key's move came before the next key's check, and a striped
    /// fence shared by more than <see cref="RecentMoves"/> keys of the batch refused the rest: it could no longer tell
    /// the batch's own moves from other writes.
    /// </summary>
    /// <returns>Which tickets were current, hence stored.</returns>
    public static bool[] StoreCurrentThenMove<TState>(Ticket[] tickets, TState state, Action<TState, bool[]> store)
        => StoreCurrent(tickets, (tickets, state, store), static (s, current) =>
        {
            s.store(s.state, current);
            for (var i = 0; i < s.tickets.Length; i++)
            {
                if (current[i])
                {
                    s.tickets[i].Fence.NoteMove(HashOf(s.tickets[i].FullKey));
                }
            }

            return current;
        });

    private static Fence[] GatesInOrder(Ticket[] tickets)
    {
        if (tickets.Length == 1)
        {
            return [tickets[0].Fence];
        }

        // One gate per fence (keys of a batch may share one), in the one order every batch uses: by stripe, or by key
        // for keyed fences (each serves one key).
        return tickets
            .GroupBy(static ticket => ticket.Fence)
            .Select(static group => group.First())
            .OrderBy(static ticket => ticket.Fence.Stripe)
            .ThenBy(static ticket => ticket.FullKey, StringComparer.Ordinal)
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

    /// <summary>Closes a fill: the last one on a keyed fence retires it; once none is open, writes stop moving fences.</summary>
    public void Close(Ticket ticket)
    {
        if (_keyed is not null && ticket.Fence.LetGo())
        {
            _keyed.TryRemove(new KeyValuePair<string, Fence>(ticket.FullKey, ticket.Fence));
        }

        Interlocked.Decrement(ref _open);
    }

    // A move takes the fence's gate: it waits out a fill that is storing right now, so that the store lands before this
    // invalidation does, and the keys a striped fence remembers are written by one party at a time.
    /// <summary>
    /// Moves the fence <paramref name="ticket"/> was opened on, for its key: that fill, and any other opened before
    /// now, will not store (a newer computation of the key has taken over from it).
    /// </summary>
    public static void Supersede(Ticket ticket) => MoveUnderGate(ticket.Fence, HashOf(ticket.FullKey));

    private static void MoveUnderGate(Fence fence, uint keyHash)
    {
        fence.Enter();
        fence.NoteMove(keyHash);
        fence.Exit();
    }

    /// <summary>What a fill saw when it opened.</summary>
    internal readonly record struct Ticket(string FullKey, Fence Fence, long Moves);
}
