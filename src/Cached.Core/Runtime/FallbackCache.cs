using Cached.Capabilities;

namespace Cached.Runtime;

/// <summary>
/// The <c>"default"</c> alias while nothing configured it: one shared <see cref="SimpleMemoryCache"/>, keeping
/// references, that generated methods without <c>Alias</c> or <c>Cache</c> use and <c>Caches.Get("default")</c>
/// returns, so a hand-made <c>Delete</c> reaches the entries those methods stored.
/// </summary>
internal static class FallbackCache
{
    public static SimpleMemoryCache Shared { get; } = Named(new SimpleMemoryCache());

    private static SimpleMemoryCache Named(SimpleMemoryCache cache)
    {
        ((IAliasedCache)cache).AssignAlias(Caches.DefaultAlias);
        return cache;
    }
}
