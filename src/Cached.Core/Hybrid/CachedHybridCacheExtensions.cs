using Microsoft.Extensions.Caching.Hybrid;

namespace Cached.Hybrid;

/// <summary>Serves a Cached cache to code written against Microsoft's <see cref="HybridCache"/>.</summary>
public static class CachedHybridCacheExtensions
{
    /// <summary>This cache as a <see cref="HybridCache"/> (see <see cref="CachedHybridCache"/>).</summary>
    /// <param name="cache">The cache the entries live in.</param>
    /// <param name="defaultEntryOptions">The options of every entry before a call's own; <c>null</c> for the cache's defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="cache"/> is null.</exception>
    public static HybridCache AsHybridCache(this ICache cache, CacheEntryOptions? defaultEntryOptions = null)
        => new CachedHybridCache(cache, defaultEntryOptions);
}
