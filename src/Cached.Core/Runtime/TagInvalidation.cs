using System.ComponentModel;

namespace Cached.Runtime;

/// <summary>
/// <see cref="InvalidateTagsAttribute"/>: the tags invalidated in the caches of the type's tagged methods (each cache
/// once), or in an alias's cache. A fault is logged, not thrown: the method's own work is done by then. Used by generated code.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class TagInvalidation
{
    /// <summary>Invalidates <paramref name="tags"/> in the cache of each of <paramref name="methods"/>, each cache once.</summary>
    public static void Invalidate(string[] tags, params ICachedMethod[] methods)
    {
        ArgumentNullException.ThrowIfNull(tags);
        ArgumentNullException.ThrowIfNull(methods);
        foreach (var cache in DistinctCaches(methods))
        {
            InvalidateIn(cache, tags);
        }
    }

    /// <inheritdoc cref="Invalidate(string[], ICachedMethod[])"/>
    /// <param name="tags">The tags.</param>
    /// <param name="methods">The methods whose caches hold them.</param>
    /// <param name="cancellationToken">The invalidating method's token, which does not stop the invalidation (see <see cref="InvalidateInAsync"/>) but ends the caller's wait for it.</param>
    public static ValueTask InvalidateAsync(string[] tags, ICachedMethod[] methods, CancellationToken cancellationToken)
        => Invalidations.Awaited(InvalidateAllAsync(tags, methods), cancellationToken);

    private static async ValueTask InvalidateAllAsync(string[] tags, ICachedMethod[] methods)
    {
        ArgumentNullException.ThrowIfNull(tags);
        ArgumentNullException.ThrowIfNull(methods);

        // Every cache's invalidation started before any is awaited: in an outage each waits out its cache's timeout,
        // side by side only once.
        var caches = DistinctCaches(methods);
        var invalidations = new Task[caches.Count];
        for (var i = 0; i < invalidations.Length; i++)
        {
            invalidations[i] = InvalidateInAsync(caches[i], tags).AsTask();
        }

        await Task.WhenAll(invalidations).ConfigureAwait(false);
    }

    /// <summary>Invalidates <paramref name="tags"/> in the shared cache of <paramref name="alias"/>.</summary>
    public static void Invalidate(string alias, string[] tags)
    {
        ArgumentNullException.ThrowIfNull(alias);
        ArgumentNullException.ThrowIfNull(tags);
        if (Resolve(alias, tags) is { } cache)
        {
            InvalidateIn(cache, tags);
        }
    }

    /// <inheritdoc cref="Invalidate(string, string[])"/>
    /// <param name="alias">The alias.</param>
    /// <param name="tags">The tags.</param>
    /// <param name="cancellationToken">The invalidating method's token, which does not stop the invalidation (see <see cref="InvalidateInAsync"/>) but ends the caller's wait for it.</param>
    public static ValueTask InvalidateAsync(string alias, string[] tags, CancellationToken cancellationToken)
        => Invalidations.Awaited(InvalidateAliasAsync(alias, tags), cancellationToken);

    private static async ValueTask InvalidateAliasAsync(string alias, string[] tags)
    {
        ArgumentNullException.ThrowIfNull(alias);
        ArgumentNullException.ThrowIfNull(tags);
        if (Resolve(alias, tags) is { } cache)
        {
            await InvalidateInAsync(cache, tags).ConfigureAwait(false);
        }
    }

    private static List<ICache> DistinctCaches(ICachedMethod[] methods)
    {
        var caches = new List<ICache>(methods.Length);
        foreach (var method in methods)
        {
            ICache cache;
            try
            {
                cache = method.CurrentCache;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Log.InvalidateFailed(CachedLogging.Logger, ex, "(tags)", method.GetType().Name, "(unresolved)");
                continue;
            }

            if (!caches.Exists(c => ReferenceEquals(c, cache)))
            {
                caches.Add(cache);
            }
        }

        return caches;
    }

    private static ICache? Resolve(string alias, string[] tags)
    {
        try
        {
            if (alias.Length == 0)
            {
                // The method's work is done: an alias written empty is reported, not thrown after it.
                throw new UnknownCacheAliasException(alias);
            }

            return new CachedMethodOptions { Method = "[InvalidateTags]", Alias = alias }.ResolveCache();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.InvalidateFailed(CachedLogging.Logger, ex, string.Join(", ", tags), "[InvalidateTags]", alias);
            return null;
        }
    }

    private static void InvalidateIn(ICache cache, string[] tags)
    {
        // A template that formats to nothing names no tag: the others are still invalidated.
        if (Tags.TagNames.Lenient(tags) is not { } names)
        {
            return;
        }

        try
        {
            cache.InvalidateTags(names);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException and not ArgumentException)
        {
            Log.InvalidateFailed(CachedLogging.Logger, ex, string.Join(", ", tags), "[InvalidateTags]", Describe(cache));
        }
    }

    /// <remarks>
    /// Without the method's token: its body has made its change by then, and a cancellation that stopped the invalidation
    /// would leave the entries served stale.
    /// </remarks>
    private static async ValueTask InvalidateInAsync(ICache cache, string[] tags)
    {
        if (Tags.TagNames.Lenient(tags) is not { } names)
        {
            return;
        }

        try
        {
            await cache.InvalidateTagsAsync(names, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException and not ArgumentException)
        {
            Log.InvalidateFailed(CachedLogging.Logger, ex, string.Join(", ", tags), "[InvalidateTags]", Describe(cache));
        }
    }

    private static string Describe(ICache cache) => (cache as Capabilities.IAliasedCache)?.Alias ?? cache.GetType().Name;
}
