using Cached.Capabilities;
using Cached.Pipeline;
using Cached.Plugins;
using Cached.Runtime;
using Cached.Serializers;
using System.Runtime.CompilerServices;

namespace Cached;

/// <summary>
/// Fenced fills (<see cref="IFencedFillCache"/>): a value computed after a miss is stored only if nothing invalidated
/// its key since the fill opened. Every write, delete, expiry and clear moves the key's fence in this process before it
/// reaches the backend; a backend shared across processes also fences in the store (<see cref="OpenFillEntries"/>,
/// <see cref="FillEntries"/>), as <c>RedisCache</c> does.
/// </summary>
public abstract partial class BaseCache : IFencedFillCache
{
    private readonly FillFences _fences;

    /// <summary>Sets up what every cache shares: its fences, striped for a store in this process.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2214:Do not call overridable methods in constructors", Justification = "FencesInProcessOnly is private protected and every override returns a constant.")]
    protected BaseCache()
    {
        _fences = new FillFences(striped: FencesInProcessOnly);
    }

    /// <summary>The fills open on this cache now: 0 once every ticket is closed (a ticket left open keeps writes checking fences).</summary>
    internal int OpenFills => _fences.OpenCount;

    /// <summary>The moves of this cache's fences while a fill was open (<see cref="FillFences.MovesWhileOpen"/>).</summary>
    internal long FenceMovesWhileOpen => _fences.MovesWhileOpen;

    /// <inheritdoc />
    FillTicket IFencedFillCache.OpenFill(string key, string? @namespace)
    {
        CheckKey(key, @namespace);
        return FencesInProcessOnly ? OpenLocalFill(key, @namespace) : Open(PrepareKeys([key], @namespace))[0];
    }

    /// <inheritdoc />
    async ValueTask<FillTicket> IFencedFillCache.OpenFillAsync(string key, string? @namespace, CancellationToken cancellationToken)
    {
        CheckKey(key, @namespace);
        if (FencesInProcessOnly)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return OpenLocalFill(key, @namespace);
        }

        return await OpenSharedFillAsync(key, @namespace, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// <see cref="IFencedFillCache.OpenFillAsync"/> on a store shared across processes (not <see cref="OpensFillsInProcess"/>):
    /// a miss's leader, which awaits it anyway, takes the ticket without the interface method's async frame (one of
    /// about fifteen a miss on Redis paid). One key, so none of a batch's arrays but the one the backend reads.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // awaited once, by each caller
    internal async ValueTask<FillTicket> OpenSharedFillAsync(string key, string? @namespace, CancellationToken cancellationToken)
    {
        Guard.Key(key);
        cancellationToken.ThrowIfCancellationRequested();
        var read = PrepareKey(key, @namespace);
        var local = _fences.Open(read.FullKey);
        try
        {
            var remote = Cache.Disabled
                ? null
                : await RunAsync(FillRequest(read), read, static (cache, r, ct) => cache.OpenFillEntriesAsync([r.FullKey], r.Namespace, ct), cancellationToken, awaitedOnce: true).ConfigureAwait(false);
            return new FillTicket(this, _fences, local, key, read.Namespace, remote is null ? null : OneFence(remote));
        }
        catch
        {
            _fences.Close(local);
            throw;
        }
    }

    /// <inheritdoc />
    IReadOnlyList<FillTicket> IFencedFillCache.OpenFills(IEnumerable<string> keys, string? @namespace)
        => Open(PrepareKeys(MaterializeKeys(keys), @namespace));

    /// <inheritdoc />
    async ValueTask<IReadOnlyList<FillTicket>> IFencedFillCache.OpenFillsAsync(IEnumerable<string> keys, string? @namespace, CancellationToken cancellationToken)
        => await OpenAsync(PrepareKeys(MaterializeKeys(keys), @namespace), cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    bool IFencedFillCache.TryFill<T>(FillTicket ticket, T value, TimeSpan? ttl, ISerializer? serializer)
        => FencesInProcessOnly ? FillLocal(ticket, value, ttl, serializer) : Fill<T>(CacheCommand.Set, [new(ticket, value)], ttl, serializer) == 1;

    /// <inheritdoc />
    ValueTask<bool> IFencedFillCache.TryFillAsync<T>(FillTicket ticket, T value, TimeSpan? ttl, ISerializer? serializer, CancellationToken cancellationToken)
        => FencesInProcessOnly ? FillLocalAsync(ticket, value, ttl, serializer, cancellationToken) : FillOneAsync(ticket, value, ttl, serializer, cancellationToken);

    private async ValueTask<bool> FillOneAsync<T>(FillTicket ticket, T value, TimeSpan? ttl, ISerializer? serializer, CancellationToken cancellationToken)
        => await FillSharedAsync(ticket, value, ttl, serializer, cancellationToken).ConfigureAwait(false) == 1;

    /// <summary>
    /// <see cref="IFencedFillCache.TryFillAsync"/> of one ticket on a store shared across processes (not
    /// <see cref="OpensFillsInProcess"/>), as the number of entries stored: 1, or 0 when the fence refused it. A miss's
    /// leader compares it itself, without the frame that turns it into a <see cref="bool"/>. Every caller awaits it
    /// exactly once, so a fill still running completes in a frame from a pool.
    /// </summary>
    /// <remarks>
    /// <see cref="FillAsync{T}"/> for one ticket, in the same steps, without a batch's arrays and their records: a
    /// miss's fill stores through its key's fence alone (<see cref="FillFences.StoreIfCurrentAsync"/>).
    /// </remarks>
    internal ValueTask<int> FillSharedAsync<T>(FillTicket ticket, T value, TimeSpan? ttl, ISerializer? serializer, CancellationToken cancellationToken)
    {
        try
        {
            var expiry = ResolveTtl(ttl);
            cancellationToken.ThrowIfCancellationRequested();
            CheckTicket(ticket);
            if (Cache.Disabled)
            {
                // Caching is switched off: a write answers true, as every write then does.
                return new ValueTask<int>(1);
            }

            if (!FillFences.IsCurrent(ticket.Local))
            {
                return new ValueTask<int>(0);
            }

            var entry = new KeyValuePair<string, object?>(ticket.FullKey, ToPayload(ticket.Key, value, serializer ?? Serializer));
            ticket.MarkAttempted();
            return RunAsync(
                new CommandRequest(CacheCommand.Set, ticket.Key, Namespace: ticket.Namespace, Subject: ticket.FullKey, Value: value, Ttl: expiry),
                (ticket, entry, expiry),
                static (cache, s, ct) => FillFences.StoreIfCurrentAsync(s.ticket.Local, (cache, s), static (x, ct) =>
                    x.cache.FillEntriesAsync([x.s.entry], [x.s.ticket.RemoteFence], x.s.ticket.Namespace, x.s.expiry, ct), ct),
                cancellationToken,
                static stored => new CommandOutcome(stored > 0, Stored: stored),
                awaitedOnce: true);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }
        catch (Exception ex)
        {
            return ValueTask.FromException<int>(ex);
        }
    }

    /// <inheritdoc />
    int IFencedFillCache.TryFillMany<T>(IEnumerable<KeyValuePair<FillTicket, T>> fills, TimeSpan? ttl, ISerializer? serializer)
    {
        ArgumentNullException.ThrowIfNull(fills);
        return Fill(CacheCommand.MultiSet, fills.ToArray(), ttl, serializer);
    }

    /// <inheritdoc />
    ValueTask<int> IFencedFillCache.TryFillManyAsync<T>(IEnumerable<KeyValuePair<FillTicket, T>> fills, TimeSpan? ttl, ISerializer? serializer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fills);
        return FillAsync(CacheCommand.MultiSet, fills.ToArray(), ttl, serializer, awaitedOnce: false, cancellationToken);
    }

    /// <inheritdoc />
    bool IFencedFillCache.IsCurrent(FillTicket ticket)
    {
        CheckTicket(ticket);
        return FillFences.IsCurrent(ticket.Local);
    }

    /// <summary>
    /// Notes the backend's own fences of <paramref name="fullKeys"/> as their fills open, for a store shared across
    /// processes; <see cref="FillEntries"/> receives what this returns, one per key. By default nothing: the fence in
    /// this process is enough for a store that lives in it.
    /// </summary>
    /// <param name="fullKeys">The keys as stored.</param>
    /// <param name="namespace">The namespace the keys are in.</param>
    protected virtual object?[] OpenFillEntries(string[] fullKeys, string? @namespace) => new object?[fullKeys.Length];

    /// <inheritdoc cref="OpenFillEntries"/>
    protected virtual ValueTask<object?[]> OpenFillEntriesAsync(string[] fullKeys, string? @namespace, CancellationToken cancellationToken)
        => new(OpenFillEntries(fullKeys, @namespace));

    /// <summary>
    /// Stores fills that are current in this process, called while no invalidation of their keys in this process can
    /// run. A backend shared across processes stores each only if its own fence still reads what
    /// <see cref="OpenFillEntries"/> noted (<paramref name="fences"/>, in the same order), atomically; by default, a
    /// batch set.
    /// </summary>
    /// <returns>How many entries were stored.</returns>
    protected virtual int FillEntries(KeyValuePair<string, object?>[] entries, object?[] fences, string? @namespace, TimeSpan? ttl)
        => SetEntries(entries, @namespace, ttl) ? entries.Length : 0;

    /// <inheritdoc cref="FillEntries"/>
    protected virtual async ValueTask<int> FillEntriesAsync(KeyValuePair<string, object?>[] entries, object?[] fences, string? @namespace, TimeSpan? ttl, CancellationToken cancellationToken)
        => await SetEntriesAsync(entries, @namespace, ttl, cancellationToken).ConfigureAwait(false) ? entries.Length : 0;

    /// <summary>
    /// Lets the backend release the fence a fill opened and never stored through (a body that threw, a result not to
    /// be stored). A fill that stored, or was refused, has settled its fence already. By default nothing.
    /// </summary>
    /// <param name="fullKey">The key as stored.</param>
    /// <param name="fence">What <see cref="OpenFillEntries"/> noted for it.</param>
    protected virtual void ReleaseFillEntry(string fullKey, object? fence)
    {
    }

    /// <summary>Releases an abandoned fill's fence, from <see cref="FillTicket.Dispose"/>.</summary>
    internal void ReleaseFill(FillTicket ticket)
    {
        try
        {
            ReleaseFillEntry(ticket.FullKey, ticket.RemoteFence);
        }
        catch (Exception ex) when (ex is CacheException or TimeoutException or ObjectDisposedException or InvalidOperationException)
        {
            // Best effort from Dispose, which must not throw: a fence left behind expires by itself, and only makes a
            // concurrent fill of the same key not store.
        }
    }

    private FillTicket[] Open(PreparedBatch batch)
    {
        var locals = OpenLocal(batch);
        try
        {
            var remote = Cache.Disabled || batch.FullKeys.Length == 0
                ? new object?[batch.FullKeys.Length]
                : Run(FillRequest(batch), batch, static (cache, b) => cache.OpenFillEntries(b.FullKeys, b.Namespace));
            return Tickets(batch, locals, remote);
        }
        catch
        {
            CloseLocal(locals);
            throw;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // awaited once, by OpenFillsAsync
    private async ValueTask<FillTicket[]> OpenAsync(PreparedBatch batch, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var locals = OpenLocal(batch);
        try
        {
            var remote = Cache.Disabled || batch.FullKeys.Length == 0
                ? new object?[batch.FullKeys.Length]
                : await RunAsync(FillRequest(batch), batch, static (cache, b, ct) => cache.OpenFillEntriesAsync(b.FullKeys, b.Namespace, ct), cancellationToken, awaitedOnce: true).ConfigureAwait(false);
            return Tickets(batch, locals, remote);
        }
        catch
        {
            CloseLocal(locals);
            throw;
        }
    }

    private FillFences.Ticket[] OpenLocal(PreparedBatch batch)
    {
        var locals = new FillFences.Ticket[batch.FullKeys.Length];
        for (var i = 0; i < locals.Length; i++)
        {
            locals[i] = _fences.Open(batch.FullKeys[i]);
        }

        return locals;
    }

    private void CloseLocal(FillFences.Ticket[] locals)
    {
        foreach (var local in locals)
        {
            _fences.Close(local);
        }
    }

    private FillTicket[] Tickets(PreparedBatch batch, FillFences.Ticket[] locals, object?[] remote)
    {
        if (remote.Length != locals.Length)
        {
            throw new CacheException($"The backend noted {remote.Length} fences for {locals.Length} keys.");
        }

        var tickets = new FillTicket[locals.Length];
        for (var i = 0; i < tickets.Length; i++)
        {
            tickets[i] = new FillTicket(this, _fences, locals[i], batch.Keys[i], batch.Namespace, remote[i]);
        }

        return tickets;
    }

    private int Fill<T>(CacheCommand command, KeyValuePair<FillTicket, T>[] fills, TimeSpan? ttl, ISerializer? serializer)
    {
        var expiry = ResolveTtl(ttl);
        if (CheckFills(fills))
        {
            // Caching is switched off: a write answers true, as every write then does.
            return fills.Length;
        }

        if (PrepareFill(fills, serializer) is not { } batch)
        {
            return 0;
        }

        return Run(
            FillRequest(command, batch, fills, expiry),
            (batch, expiry),
            static (cache, s) => FillFences.StoreCurrent(s.batch.Locals, (cache, s.batch, s.expiry), static (x, current) =>
            {
                var (entries, fences) = x.batch.Current(current);
                return entries.Length == 0 ? 0 : x.cache.FillEntries(entries, fences, x.batch.Namespace, x.expiry);
            }),
            static stored => new CommandOutcome(stored > 0, Stored: stored));
    }

    /// <remarks>
    /// Not an async method: it prepares the batch and hands back the pipeline's own task, so that a miss's fill does not
    /// pay a frame here too. What the preparation throws comes back in the task, as from an async method.
    /// </remarks>
    private ValueTask<int> FillAsync<T>(CacheCommand command, KeyValuePair<FillTicket, T>[] fills, TimeSpan? ttl, ISerializer? serializer, bool awaitedOnce, CancellationToken cancellationToken)
    {
        try
        {
            var expiry = ResolveTtl(ttl);
            cancellationToken.ThrowIfCancellationRequested();
            if (CheckFills(fills))
            {
                return new ValueTask<int>(fills.Length);
            }

            if (PrepareFill(fills, serializer) is not { } batch)
            {
                return new ValueTask<int>(0);
            }

            return RunAsync(
                FillRequest(command, batch, fills, expiry),
                (batch, expiry),
                static (cache, s, ct) => FillFences.StoreCurrentAsync(s.batch.Locals, (cache, s.batch, s.expiry), static (x, current, ct) =>
                {
                    var (entries, fences) = x.batch.Current(current);
                    return entries.Length == 0 ? new ValueTask<int>(0) : x.cache.FillEntriesAsync(entries, fences, x.batch.Namespace, x.expiry, ct);
                }, ct),
                cancellationToken,
                static stored => new CommandOutcome(stored > 0, Stored: stored),
                awaitedOnce);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }
        catch (Exception ex)
        {
            return ValueTask.FromException<int>(ex);
        }
    }

    /// <summary>Checks the tickets: each of this cache, all of one namespace. True when caching is switched off.</summary>
    private bool CheckFills<T>(KeyValuePair<FillTicket, T>[] fills)
    {
        for (var i = 0; i < fills.Length; i++)
        {
            CheckTicket(fills[i].Key);
            if (i > 0 && !string.Equals(fills[i].Key.Namespace, fills[0].Key.Namespace, StringComparison.Ordinal))
            {
                throw new ArgumentException("Fills stored together must share a namespace.", nameof(fills));
            }
        }

        return Cache.Disabled;
    }

    /// <summary>Serializes every value of checked tickets; null when none is current.</summary>
    private PreparedFills? PrepareFill<T>(KeyValuePair<FillTicket, T>[] fills, ISerializer? serializer)
    {
        if (fills.Length == 0 || fills.All(static fill => !FillFences.IsCurrent(fill.Key.Local)))
        {
            return null;
        }

        var @namespace = fills[0].Key.Namespace;

        var effective = serializer ?? Serializer;
        var entries = new KeyValuePair<string, object?>[fills.Length];
        var locals = new FillFences.Ticket[fills.Length];
        var fences = new object?[fills.Length];
        for (var i = 0; i < fills.Length; i++)
        {
            var ticket = fills[i].Key;
            entries[i] = new(ticket.FullKey, ToPayload(ticket.Key, fills[i].Value, effective));
            ticket.MarkAttempted();
            locals[i] = ticket.Local;
            fences[i] = ticket.RemoteFence;
        }

        return new PreparedFills(entries, locals, fences, @namespace);
    }

    private static CommandRequest FillRequest<T>(CacheCommand command, PreparedFills batch, KeyValuePair<FillTicket, T>[] fills, TimeSpan? expiry)
        => command == CacheCommand.Set
            ? new CommandRequest(command, fills[0].Key.Key, Namespace: batch.Namespace, Subject: batch.Entries[0].Key, Value: fills[0].Value, Ttl: expiry)
            : new CommandRequest(command, null, fills.Select(static fill => fill.Key.Key).ToArray(), batch.Namespace, fills.Select(static fill => fill.Value).ToArray(), expiry, Subject: batch.Entries[0].Key);

    // Opening a fill is plumbing, unseen by plugins and telemetry, like lock traffic.
    private static CommandRequest FillRequest(PreparedBatch batch) => new(CacheCommand.Get, batch.Keys[0], Subject: batch.FullKeys[0], Observed: false);

    private static CommandRequest FillRequest(PreparedKey read) => new(CacheCommand.Get, read.Key, Subject: read.FullKey, Observed: false);

    /// <summary>The backend's fence of a one-key open, checked as <see cref="Tickets"/> checks a batch's.</summary>
    private static object? OneFence(object?[] remote)
        => remote.Length == 1 ? remote[0] : throw new CacheException($"The backend noted {remote.Length} fences for one key.");

    private void CheckTicket(FillTicket ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        if (!ticket.IsFrom(_fences))
        {
            throw new ArgumentException("The fill ticket was opened by another cache.", nameof(ticket));
        }
    }

    /// <summary>A batch of fills ready to store: payloads, fences in this process and the backend's, in one order.</summary>
    private sealed record PreparedFills(KeyValuePair<string, object?>[] Entries, FillFences.Ticket[] Locals, object?[] Fences, string? Namespace)
    {
        /// <summary>The entries (and the backend's fences) that are current.</summary>
        public (KeyValuePair<string, object?>[] Entries, object?[] Fences) Current(bool[] current)
        {
            // Nearly always all of them (a one-key miss's fill is current unless invalidated): no copy then.
            if (Array.TrueForAll(current, static isCurrent => isCurrent))
            {
                return (Entries, Fences);
            }

            var entries = new List<KeyValuePair<string, object?>>(Entries.Length);
            var fences = new List<object?>(Entries.Length);
            for (var i = 0; i < Entries.Length; i++)
            {
                if (current[i])
                {
                    entries.Add(Entries[i]);
                    fences.Add(Fences[i]);
                }
            }

            return (entries.ToArray(), fences.ToArray());
        }
    }
}
