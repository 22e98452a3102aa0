using Microsoft.Extensions.Caching.Distributed;

namespace Cached.Distributed;

/// <summary>Serves a Cached cache to code written against <see cref="IDistributedCache"/>.</summary>
public static class DistributedCacheExtensions
{
    /// <summary>
    /// This cache as an <see cref="IDistributedCache"/> (see <see cref="CacheDistributedCache"/>), for ASP.NET Core's
    /// session middleware and every library written against the interface.
    /// </summary>
    /// <param name="cache">The cache the entries live in.</param>
    /// <param name="namespace">The namespace of the entries; <c>null</c> for the cache's own.</param>
    /// <exception cref="ArgumentNullException"><paramref name="cache"/> is null.</exception>
    public static IDistributedCache AsDistributedCache(this ICache cache, string? @namespace = null)
        => new CacheDistributedCache(cache, @namespace);
}
