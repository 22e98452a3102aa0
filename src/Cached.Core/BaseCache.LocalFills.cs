using Cached.Capabilities;
using Cached.Pipeline;
using Cached.Plugins;
using Cached.Runtime;
using Cached.Serializers;

namespace Cached;

/// <summary>
/// The one-key fill of a store that lives in this process: the fence in this process is all it needs, so the ticket
/// is opened and stored without the batch machinery and the backend's fences of <see cref="OpenFillEntries"/> (a
/// generated method's miss is one such fill).
/// </summary>
public abstract partial class BaseCache
{
    /// <summary>
    /// True for a backend whose store lives in this process and that fences nothing in it: it keeps the defaults of
    /// <see cref="OpenFillEntries"/> and <see cref="FillEntries"/>, so a one-key fill takes the short path.
    /// </summary>
    private protected virtual bool FencesInProcessOnly => false;

    /// <summary>Whether a one-key fill of this cache can be opened without a ticket (<see cref="OpenInProcessFill"/>).</summary>
    internal bool OpensFillsInProcess => FencesInProcessOnly;

    /// <summary>
    /// Opens a one-key fill on a store in this process (<see cref="OpensFillsInProcess"/>) as a value, with no ticket
    /// object: a generated method's miss holds it for the length of its body and closes it with
    /// <see cref="CloseInProcessFill"/>, exactly once.
    /// </summary>
    internal InProcessFill OpenInProcessFill(string key, string? @namespace)
    {
        Guard.Key(key);
        var prepared = PrepareKey(key, @namespace);
        return new InProcessFill(_fences.Open(prepared.FullKey), prepared.Key, prepared.Namespace);
    }

    /// <summary>Closes a fill of <see cref="OpenInProcessFill"/>.</summary>
    internal void CloseInProcessFill(in InProcessFill fill) => _fences.Close(fill.Fence);

    private FillTicket OpenLocalFill(string key, string? @namespace)
    {
        var fill = OpenInProcessFill(key, @namespace);
        return new FillTicket(this, _fences, fill.Fence, fill.Key, fill.Namespace, remoteFence: null);
    }

    /// <summary>Stores one fill if its fence has not moved, under the fence's gate; the same checks and hooks as a batch fill.</summary>
    private bool FillLocal<T>(FillTicket ticket, T value, TimeSpan? ttl, ISerializer? serializer)
    {
        CheckTicket(ticket);
        ticket.MarkAttempted();
        return TryFillInProcess(new InProcessFill(ticket.Local, ticket.Key, ticket.Namespace), value, ttl, serializer);
    }

    /// <inheritdoc cref="FillLocal"/>
    private ValueTask<bool> FillLocalAsync<T>(FillTicket ticket, T value, TimeSpan? ttl, ISerializer? serializer, CancellationToken cancellationToken)
    {
        CheckTicket(ticket);
        ticket.MarkAttempted();
        return TryFillInProcessAsync(new InProcessFill(ticket.Local, ticket.Key, ticket.Namespace), value, ttl, serializer, cancellationToken);
    }

    /// <summary>
    /// Stores a write's value through the ticket its write opened as it began (a two-level cache's L1 copy of what it
    /// wrote to L2), if the fence has not moved, and moves the fence in the same hold: a fill opened before it stores
    /// nothing afterwards. A plain fill does not move it, so that concurrent fills of one key do not refuse each other.
    /// </summary>
    internal bool TryWriteThroughInProcess<T>(FillTicket ticket, T value, TimeSpan? ttl)
    {
        CheckTicket(ticket);
        ticket.MarkAttempted();
        var fill = new InProcessFill(ticket.Local, ticket.Key, ticket.Namespace);
        var expiry = ResolveTtl(ttl);
        if (Cache.Disabled)
        {
            return true;
        }

        if (!FillFences.IsCurrent(fill.Fence))
        {
            return false;
        }

        var payload = ToPayload(fill.Key, value, Serializer);
        return Run(
            LocalFillRequest(fill, value, expiry),
            (fill, payload, expiry),
            static (cache, s) => FillFences.StoreIfCurrentThenMove(s.fill.Fence, (cache, s), static x => x.cache.SetEntry(x.s.fill.Fence.FullKey, x.s.fill.Namespace, x.s.payload, x.s.expiry)),
            static stored => new CommandOutcome(stored));
    }

    /// <summary>
    /// <see cref="TryWriteThroughInProcess"/> for a batch of writes (a two-level cache's <c>MultiSet</c>): every ticket
    /// is checked before the batch moves any fence, then the current ones are stored and their fences moved, all under
    /// their gates (<see cref="FillFences.StoreCurrentThenMove"/>).
    /// </summary>
    /// <returns>Which of <paramref name="writes"/> were stored; the caller drops the others.</returns>
    internal bool[] TryWriteThroughAllInProcess<T>(KeyValuePair<FillTicket, T>[] writes, TimeSpan? ttl)
    {
        var expiry = ResolveTtl(ttl);
        if (CheckFills(writes))
        {
            // Caching is switched off: a write answers true, as every write then does.
            return Enumerable.Repeat(true, writes.Length).ToArray();
        }

        if (PrepareFill(writes, serializer: null) is not { } batch)
        {
            return new bool[writes.Length];
        }

        return Run(
            FillRequest(CacheCommand.MultiSet, batch, writes, expiry),
            (batch, expiry),
            static (cache, s) => FillFences.StoreCurrentThenMove(s.batch.Locals, (cache, s.batch, s.expiry), static (x, current) =>
            {
                var (entries, fences) = x.batch.Current(current);
                if (entries.Length > 0)
                {
                    x.cache.FillEntries(entries, fences, x.batch.Namespace, x.expiry);
                }
            }),
            static current => new CommandOutcome(Array.IndexOf(current, true) >= 0));
    }

    /// <summary>Stores a fill of <see cref="OpenInProcessFill"/> if its fence has not moved, under the fence's gate.</summary>
    internal bool TryFillInProcess<T>(in InProcessFill fill, T value, TimeSpan? ttl, ISerializer? serializer)
    {
        var expiry = ResolveTtl(ttl);
        if (Cache.Disabled)
        {
            // Caching is switched off: a write answers true, as every write then does.
            return true;
        }

        if (!FillFences.IsCurrent(fill.Fence))
        {
            return false;
        }

        var payload = ToPayload(fill.Key, value, serializer ?? Serializer);
        return Run(
            LocalFillRequest(fill, value, expiry),
            (fill, payload, expiry),
            static (cache, s) => FillFences.StoreIfCurrent(s.fill.Fence, (cache, s), static x => x.cache.SetEntry(x.s.fill.Fence.FullKey, x.s.fill.Namespace, x.s.payload, x.s.expiry)),
            static stored => new CommandOutcome(stored));
    }

    /// <inheritdoc cref="TryFillInProcess"/>
    internal ValueTask<bool> TryFillInProcessAsync<T>(InProcessFill fill, T value, TimeSpan? ttl, ISerializer? serializer, CancellationToken cancellationToken)
    {
        var expiry = ResolveTtl(ttl);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        if (Cache.Disabled)
        {
            return new(true);
        }

        if (!FillFences.IsCurrent(fill.Fence))
        {
            return new(false);
        }

        var payload = ToPayload(fill.Key, value, serializer ?? Serializer);
        // The store is in this process and never waits, so the gate is taken synchronously, as a local write takes it.
        return RunAsync(
            LocalFillRequest(fill, value, expiry),
            (fill, payload, expiry),
            static (cache, s, _) => new ValueTask<bool>(FillFences.StoreIfCurrent(s.fill.Fence, (cache, s), static x => x.cache.SetEntry(x.s.fill.Fence.FullKey, x.s.fill.Namespace, x.s.payload, x.s.expiry))),
            cancellationToken,
            static stored => new CommandOutcome(stored));
    }

    private static CommandRequest LocalFillRequest<T>(in InProcessFill fill, T value, TimeSpan? expiry)
        => new(CacheCommand.Set, fill.Key, Namespace: fill.Namespace, Subject: fill.Fence.FullKey, Value: value, Ttl: expiry);
}
