namespace Cached.Runtime;

/// <summary>
/// The one shared <see cref="SimpleMemoryCache"/> that generated methods use while nothing is configured: no
/// <c>Alias</c>, no <c>Cache</c> type on the attribute, and no "default" alias set up through <see cref="Caches"/>.
/// </summary>
internal static class FallbackCache
{
    public static SimpleMemoryCache Shared { get; } = new();
}
