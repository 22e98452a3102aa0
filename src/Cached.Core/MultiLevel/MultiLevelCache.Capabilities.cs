using Cached.Capabilities;
using Cached.MultiLevel;
using Cached.Serializers;

namespace Cached;

/// <summary>
/// What generated methods ask of a cache, on two levels: span reads from L1 (a hit allocates nothing, as on
/// <see cref="SimpleMemoryCache"/>), fenced fills into L2 and then L1, and the stampede lease on L2, which every node
/// shares.
/// </summary>
public sealed partial class MultiLevelCache : ISpanReadableCache, ISpanReaderOwner, IFencedFillCache, IAliasedCache
{
    /// <inheritdoc />
    public string? Alias => _alias;

    /// <inheritdoc />
    void IAliasedCache.AssignAlias(string alias)
    {
        if (Interlocked.CompareExchange(ref _alias, alias, null) is null)
        {
            // The levels report under the same alias; their metrics tell them apart by the cache.level tag.
            (L1 as IAliasedCache)?.AssignAlias(alias);
            (L2 as IAliasedCache)?.AssignAlias(alias);
        }
    }

    /// <inheritdoc />
    bool ISpanReaderOwner.TryGetSpanReader(string? @namespace, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ISpanReadableCache? reader, out string? readerNamespace)
    {
        reader = L1 as ISpanReadableCache;
        readerNamespace = L1Space(@namespace);
        return reader is not null;
    }

    /// <inheritdoc />
    bool ISpanReadableCache.CanReadBySpan(string? @namespace, out string? resolvedNamespace)
    {
        resolvedNamespace = null;
        return L1 is ISpanReadableCache reader && reader.CanReadBySpan(L1Space(@namespace), out resolvedNamespace);
    }

    /// <inheritdoc />
    SpanRead ISpanReadableCache.TryReadBySpan(ReadOnlySpan<char> key, string? resolvedNamespace, out object? payload)
    {
        payload = null;
        return L1 is ISpanReadableCache reader ? reader.TryReadBySpan(key, resolvedNamespace, out payload) : SpanRead.Unsupported;
    }

    /// <inheritdoc />
    FillTicket IFencedFillCache.OpenFill(string key, string? @namespace)
    {
        CheckKey(key, @namespace);
        var ticket = PrimaryFills.OpenFill(key, @namespace);
        try
        {
            if (L2 is IFencedFillCache && CanFillL1() && L1 is IFencedFillCache l1)
            {
                ticket.Companion = l1.OpenFill(key, L1Space(@namespace));
            }
        }
        catch
        {
            ticket.Dispose();
            throw;
        }

        return ticket;
    }

    /// <inheritdoc />
    async ValueTask<FillTicket> IFencedFillCache.OpenFillAsync(string key, string? @namespace, CancellationToken cancellationToken)
    {
        CheckKey(key, @namespace);
        await WhenSubscribedAsync(cancellationToken).ConfigureAwait(false);
        // L2 on a shared store (Redis): its ticket without the interface method's frame, as a cached method's leader takes it.
        var ticket = L2 is BaseCache { OpensFillsInProcess: false } shared
            ? await shared.OpenSharedFillAsync(key, @namespace, cancellationToken).ConfigureAwait(false)
            : await PrimaryFills.OpenFillAsync(key, @namespace, cancellationToken).ConfigureAwait(false);
        try
        {
            if (L2 is IFencedFillCache && CanFillL1(wait: false) && L1 is IFencedFillCache l1)
            {
                ticket.Companion = await l1.OpenFillAsync(key, L1Space(@namespace), cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            ticket.Dispose();
            throw;
        }

        return ticket;
    }

    /// <summary>
    /// A cached method's read of a sync miss: <see cref="TryGet{T}"/>, opening the key's fill in L2's round trip when the
    /// key is missing everywhere, as <see cref="TryGetOrOpenFillAsync{T}"/> does.
    /// </summary>
    /// <returns>The read, and the open fill when the key was missing everywhere.</returns>
    internal (CacheResult<T> Result, FillTicket? Ticket) TryGetOrOpenFill<T>(string key, string? @namespace)
    {
        ThrowIfDisposed();
        if (L2 is not BaseCache { OpensFillsInProcess: false } shared)
        {
            return (TryGet<T>(key, out var value, @namespace) ? CacheResult<T>.Hit(value!) : CacheResult<T>.Miss, null);
        }

        var space = L1Space(@namespace);
        if (L1.TryGet<T>(key, out var local, space))
        {
            return (CacheResult<T>.Hit(local!), null);
        }

        if (_pending.Drops(@namespace, key))
        {
            // As in TryGet; the leader opens its fill itself.
            return (CacheResult<T>.Miss, null);
        }

        var copy = OpenL1Fill(key, space);
        try
        {
            var (result, remaining, ticket) = shared.TryGetWithTtlOrOpenFill<T>(key, @namespace, serializer: null);
            return (result, Settle(ref copy, ticket, key, result, remaining, space));
        }
        finally
        {
            copy?.Dispose();
        }
    }

    /// <summary>
    /// A cached method's read of an async miss: <see cref="TryGetAsync{T}"/>, except that when L2 is a shared store (Redis)
    /// and does not have the key either, the key's fill is opened in the same round trip as L2's read, and its ticket
    /// returned for the leader to fill through, as <see cref="IFencedFillCache.OpenFillAsync"/> would have opened it. A
    /// read-through miss then costs two round trips (the read, the fill) instead of three.
    /// </summary>
    /// <returns>The read, and the open fill when the key was missing everywhere (null when it was found, or when L2 opened nothing).</returns>
    internal async ValueTask<(CacheResult<T> Result, FillTicket? Ticket)> TryGetOrOpenFillAsync<T>(string key, string? @namespace, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        if (L2 is not BaseCache { OpensFillsInProcess: false } shared)
        {
            return (await TryGetAsync<T>(key, @namespace, serializer: null, cancellationToken).ConfigureAwait(false), null);
        }

        var space = L1Space(@namespace);
        var local = await L1.TryGetAsync<T>(key, space, null, cancellationToken).ConfigureAwait(false);
        if (local.Found)
        {
            return (local, null);
        }

        if (_pending.Drops(@namespace, key))
        {
            return (CacheResult<T>.Miss, null);
        }

        // L1's fence, open before L2's read: for the copy of a value found, or as the companion of the fill opened.
        var copy = await OpenL1FillAsync(key, space, cancellationToken).ConfigureAwait(false);
        try
        {
            var (result, remaining, ticket) = await shared.TryGetWithTtlOrOpenFillAsync<T>(key, @namespace, serializer: null, cancellationToken).ConfigureAwait(false);
            return (result, Settle(ref copy, ticket, key, result, remaining, space));
        }
        finally
        {
            copy?.Dispose();
        }
    }

    /// <summary>
    /// After L2's read: L1's fence becomes the companion of the fill L2 opened (taken out of <paramref name="copy"/>), or
    /// copies the value found into L1.
    /// </summary>
    private FillTicket? Settle<T>(ref FillTicket? copy, FillTicket? ticket, string key, CacheResult<T> result, TimeSpan? remaining, string? space)
    {
        if (ticket is not null)
        {
            ticket.Companion = copy;
            copy = null;
        }
        else if (result.Found)
        {
            FillL1(copy, key, result.Value, remaining, space);
        }

        return ticket;
    }

    /// <inheritdoc />
    IReadOnlyList<FillTicket> IFencedFillCache.OpenFills(IEnumerable<string> keys, string? @namespace)
    {
        var given = CheckKeys(keys, @namespace);
        var tickets = PrimaryFills.OpenFills(given, @namespace);
        try
        {
            if (L2 is IFencedFillCache && CanFillL1() && L1 is IFencedFillCache l1)
            {
                Pair(tickets, l1.OpenFills(given, L1Space(@namespace)));
            }
        }
        catch
        {
            Close(tickets.ToArray());
            throw;
        }

        return tickets;
    }

    /// <inheritdoc />
    async ValueTask<IReadOnlyList<FillTicket>> IFencedFillCache.OpenFillsAsync(IEnumerable<string> keys, string? @namespace, CancellationToken cancellationToken)
    {
        var given = CheckKeys(keys, @namespace);
        await WhenSubscribedAsync(cancellationToken).ConfigureAwait(false);
        var tickets = await PrimaryFills.OpenFillsAsync(given, @namespace, cancellationToken).ConfigureAwait(false);
        try
        {
            if (L2 is IFencedFillCache && CanFillL1(wait: false) && L1 is IFencedFillCache l1)
            {
                Pair(tickets, await l1.OpenFillsAsync(given, L1Space(@namespace), cancellationToken).ConfigureAwait(false));
            }
        }
        catch
        {
            Close(tickets.ToArray());
            throw;
        }

        return tickets;
    }

    /// <inheritdoc />
    bool IFencedFillCache.TryFill<T>(FillTicket ticket, T value, TimeSpan? ttl, ISerializer? serializer)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        bool stored;
        if (L2 is IFencedFillCache l2)
        {
            stored = l2.TryFill(ticket, value, ttl, serializer);
            if (stored && ticket.Companion is { } companion)
            {
                CopyStoredFill(companion, ticket.Key, value, L1Life(ExpiryOf(ttl)), L1Space(ticket.Namespace));
            }
        }
        else
        {
            L2.Set(ticket.Key, value, ttl, ticket.Namespace, serializer);
            stored = CopyStoredFill(ticket, ticket.Key, value, L1LifeOfWrite(ttl), L1Space(ticket.Namespace));
        }

        Publish(BackplaneAction.Set, L1Space(ticket.Namespace), [ticket.Key]);
        return stored;
    }

    /// <inheritdoc />
    async ValueTask<bool> IFencedFillCache.TryFillAsync<T>(FillTicket ticket, T value, TimeSpan? ttl, ISerializer? serializer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        bool stored;
        if (L2 is IFencedFillCache l2)
        {
            stored = l2 is BaseCache { OpensFillsInProcess: false } shared
                ? await shared.FillSharedAsync(ticket, value, ttl, serializer, cancellationToken).ConfigureAwait(false) == 1
                : await l2.TryFillAsync(ticket, value, ttl, serializer, cancellationToken).ConfigureAwait(false);
            if (stored && ticket.Companion is { } companion)
            {
                CopyStoredFill(companion, ticket.Key, value, L1Life(ExpiryOf(ttl)), L1Space(ticket.Namespace));
            }
        }
        else
        {
            await L2.SetAsync(ticket.Key, value, ttl, ticket.Namespace, serializer, cancellationToken).ConfigureAwait(false);
            stored = CopyStoredFill(ticket, ticket.Key, value, L1LifeOfWrite(ttl), L1Space(ticket.Namespace));
        }

        Publish(BackplaneAction.Set, L1Space(ticket.Namespace), [ticket.Key]);
        return stored;
    }

    /// <inheritdoc />
    int IFencedFillCache.TryFillMany<T>(IEnumerable<KeyValuePair<FillTicket, T>> fills, TimeSpan? ttl, ISerializer? serializer)
    {
        ArgumentNullException.ThrowIfNull(fills);
        var given = fills.ToArray();
        int stored;
        if (L2 is IFencedFillCache l2)
        {
            stored = l2.TryFillMany(given, ttl, serializer);
            FillCompanions(l2, given, stored, ttl);
        }
        else
        {
            L2.MultiSet(given.Select(static fill => KeyValuePair.Create(fill.Key.Key, fill.Value)), ttl, given.FirstOrDefault().Key?.Namespace, serializer);
            stored = CopyStoredFills(given, L1LifeOfWrite(ttl));
        }

        PublishFills(given);
        return stored;
    }

    /// <inheritdoc />
    async ValueTask<int> IFencedFillCache.TryFillManyAsync<T>(IEnumerable<KeyValuePair<FillTicket, T>> fills, TimeSpan? ttl, ISerializer? serializer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fills);
        var given = fills.ToArray();
        int stored;
        if (L2 is IFencedFillCache l2)
        {
            stored = await l2.TryFillManyAsync(given, ttl, serializer, cancellationToken).ConfigureAwait(false);
            FillCompanions(l2, given, stored, ttl);
        }
        else
        {
            await L2.MultiSetAsync(given.Select(static fill => KeyValuePair.Create(fill.Key.Key, fill.Value)), ttl, given.FirstOrDefault().Key?.Namespace, serializer, cancellationToken).ConfigureAwait(false);
            stored = CopyStoredFills(given, L1LifeOfWrite(ttl));
        }

        PublishFills(given);
        return stored;
    }

    /// <inheritdoc />
    bool IFencedFillCache.IsCurrent(FillTicket ticket) => PrimaryFills.IsCurrent(ticket);

    /// <summary>The level whose fences guard a fill: L2 when it has them (the shared truth), else L1.</summary>
    private IFencedFillCache PrimaryFills
        => L2 as IFencedFillCache ?? L1 as IFencedFillCache
            ?? throw new NotSupportedException($"Neither level of this MultiLevelCache ({L1.GetType().Name}, {L2.GetType().Name}) supports fenced fills; derive one from BaseCache.");

    private static void Pair(IReadOnlyList<FillTicket> tickets, IReadOnlyList<FillTicket> companions)
    {
        for (var i = 0; i < tickets.Count; i++)
        {
            tickets[i].Companion = companions[i];
        }
    }

    private void PublishFills<T>(KeyValuePair<FillTicket, T>[] fills)
    {
        foreach (var group in fills.GroupBy(fill => L1Space(fill.Key.Namespace)))
        {
            Publish(BackplaneAction.Set, group.Key, group.Select(static fill => fill.Key.Key).ToArray());
        }
    }

    /// <summary>
    /// Copies into L1 the fills L2 took. L2 tells how many it took, not which: a ticket L2 no longer holds current in this
    /// process is skipped, and when L2 took fewer than were current, none is copied; a companion whose key changed since
    /// (here, or by a message from another node) is refused, and the key is dropped (<see cref="CopyStoredFill"/>).
    /// </summary>
    private void FillCompanions<T>(IFencedFillCache l2, KeyValuePair<FillTicket, T>[] fills, int stored, TimeSpan? ttl)
    {
        // L2 answers how many it stored, not which: a fill it refused (another node's invalidation moved the key's fence
        // in L2 while the body ran) looks current here. When it stored fewer than were current, no copy is taken and the
        // batch's keys are dropped, so that this node reads them from L2 rather than serve a value L2 refused.
        var current = 0;
        foreach (var fill in fills)
        {
            current += l2.IsCurrent(fill.Key) ? 1 : 0;
        }

        var allTaken = stored >= current;
        foreach (var fill in fills)
        {
            if (fill.Key.Companion is not { } companion)
            {
                continue;
            }

            if (allTaken && l2.IsCurrent(fill.Key))
            {
                CopyStoredFill(companion, fill.Key.Key, fill.Value, L1Life(ExpiryOf(ttl)), L1Space(fill.Key.Namespace));
            }
            else if (!allTaken)
            {
                DropL1(fill.Key.Key, L1Space(fill.Key.Namespace));
            }
        }
    }

    /// <summary>
    /// Copies into L1 a fill that L2 took, as a write's value goes in (<see cref="WriteThroughL1"/>): L2 now holds this
    /// value, so a copy another write or read put in L1 meanwhile is stale, and when the ticket is refused the key is
    /// dropped rather than left as it is; and a read that opened its ticket alongside cannot put an older value in
    /// afterwards.
    /// </summary>
    /// <returns>Whether L1 took the value.</returns>
    private bool CopyStoredFill<T>(FillTicket ticket, string key, T value, TimeSpan? life, string? space)
    {
        try
        {
            Track(space);
            if (life is not { Ticks: <= 0 } && ReadyForL1(ref value, life) && WriteThroughL1(ticket, value, life))
            {
                return true;
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            MultiLevelLog.L1WriteFailed(CachedLogging.Logger, ex, key, AliasForLogs);
        }
        finally
        {
            Track(space);
        }

        DropL1(key, space);
        return false;
    }

    private int CopyStoredFills<T>(KeyValuePair<FillTicket, T>[] fills, TimeSpan? life)
    {
        var stored = 0;
        foreach (var fill in fills)
        {
            stored += CopyStoredFill(fill.Key, fill.Key.Key, fill.Value, life, L1Space(fill.Key.Namespace)) ? 1 : 0;
        }

        return stored;
    }
}
