using Cached.Capabilities;
using Cached.Pipeline;
using Cached.Plugins;
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

    private FillTicket OpenLocalFill(string key, string? @namespace)
    {
        var prepared = PrepareKey(key, @namespace);
        return new FillTicket(this, _fences, _fences.Open(prepared.FullKey), prepared.Key, prepared.Namespace, remoteFence: null);
    }

    /// <summary>Stores one fill if its fence has not moved, under the fence's gate; the same checks and hooks as a batch fill.</summary>
    private bool FillLocal<T>(FillTicket ticket, T value, TimeSpan? ttl, ISerializer? serializer)
    {
        var expiry = ResolveTtl(ttl);
        CheckTicket(ticket);
        if (Cache.Disabled)
        {
            // Caching is switched off: a write answers true, as every write then does.
            return true;
        }

        if (!FillFences.IsCurrent(ticket.Local))
        {
            return false;
        }

        var payload = ToPayload(ticket.Key, value, serializer ?? Serializer);
        ticket.MarkAttempted();
        return Run(
            LocalFillRequest(ticket, value, expiry),
            (ticket, payload, expiry),
            static (cache, s) => FillFences.StoreIfCurrent(s.ticket.Local, (cache, s), static x => x.cache.SetEntry(x.s.ticket.FullKey, x.s.ticket.Namespace, x.s.payload, x.s.expiry)),
            static stored => new CommandOutcome(stored));
    }

    /// <inheritdoc cref="FillLocal"/>
    private ValueTask<bool> FillLocalAsync<T>(FillTicket ticket, T value, TimeSpan? ttl, ISerializer? serializer, CancellationToken cancellationToken)
    {
        var expiry = ResolveTtl(ttl);
        cancellationToken.ThrowIfCancellationRequested();
        CheckTicket(ticket);
        if (Cache.Disabled)
        {
            return new(true);
        }

        if (!FillFences.IsCurrent(ticket.Local))
        {
            return new(false);
        }

        var payload = ToPayload(ticket.Key, value, serializer ?? Serializer);
        ticket.MarkAttempted();
        // The store is in this process and never waits, so the gate is taken synchronously, as a local write takes it.
        return RunAsync(
            LocalFillRequest(ticket, value, expiry),
            (ticket, payload, expiry),
            static (cache, s, _) => new ValueTask<bool>(FillFences.StoreIfCurrent(s.ticket.Local, (cache, s), static x => x.cache.SetEntry(x.s.ticket.FullKey, x.s.ticket.Namespace, x.s.payload, x.s.expiry))),
            cancellationToken,
            static stored => new CommandOutcome(stored));
    }

    private static CommandRequest LocalFillRequest<T>(FillTicket ticket, T value, TimeSpan? expiry)
        => new(CacheCommand.Set, ticket.Key, Namespace: ticket.Namespace, Subject: ticket.FullKey, Value: value, Ttl: expiry);
}
