using Cached.Resilience;

namespace Cached.Runtime;

/// <summary><c>Set</c> with <see cref="CacheEntryOptions"/>: a direct write stored as a read-through call with the same options stores it.</summary>
public sealed partial class CachedMethod<TResult>
{
    /// <summary>
    /// <see cref="ICache.Set{T}(string, T, CacheEntryOptions?, string?)"/>: the value stored as a read-through call with
    /// the same options stores it. A direct write is not fail-open: faults reach the caller.
    /// </summary>
    internal bool Set(ICache cache, string key, TResult value, in EntryPolicy policy)
    {
        if (!policy.Stamps)
        {
            return cache.Set(key, value, policy.Ttl, _options.Namespace);
        }

        var host = ReadThroughs.Of(cache);
        var tags = policy.Tags is { } names ? Tags.TagStore.Of(cache).Observe(names) : null;
        var stamped = Stamping.Stamp(cache, host.Clock, in policy, value, tags, out var ttl);
        // A tag invalidated since it was observed: the value is older than the invalidation, and is not stored.
        return (tags is null || Tags.TagStore.Of(cache).Retain(tags, LifeOf(ttl)))
            && cache.Set(key, stamped, ttl, _options.Namespace, StampsFor(cache, host));
    }

    /// <inheritdoc cref="Set"/>
    internal ValueTask<bool> SetAsync(ICache cache, string key, TResult value, in EntryPolicy policy, CancellationToken cancellationToken)
    {
        if (!policy.Stamps)
        {
            return cache.SetAsync(key, value, policy.Ttl, _options.Namespace, null, cancellationToken);
        }

        return policy.Tags is { } names
            ? SetTaggedAsync(cache, key, value, policy, names, cancellationToken)
            : cache.SetAsync(key, Stamping.Stamp(cache, ReadThroughs.Of(cache).Clock, in policy, value, null, out var ttl), ttl, _options.Namespace, StampsFor(cache, ReadThroughs.Of(cache)), cancellationToken);
    }

    private async ValueTask<bool> SetTaggedAsync(ICache cache, string key, TResult value, EntryPolicy policy, string[] names, CancellationToken cancellationToken)
    {
        var host = ReadThroughs.Of(cache);
        var store = Tags.TagStore.Of(cache);
        var tags = await store.ObserveAsync(names, cancellationToken).ConfigureAwait(false);
        var stamped = Stamping.Stamp(cache, host.Clock, in policy, value, tags, out var ttl);
        return await store.RetainAsync(tags, LifeOf(ttl), cancellationToken).ConfigureAwait(false)
            && await cache.SetAsync(key, stamped, ttl, _options.Namespace, StampsFor(cache, host), cancellationToken).ConfigureAwait(false);
    }
}
