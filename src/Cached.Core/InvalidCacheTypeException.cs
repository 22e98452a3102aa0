namespace Cached;

/// <summary>
/// Thrown when a cache type or URL scheme is not a cache that Cached knows
/// (aiocache's <c>InvalidCacheType</c>). The message lists the known schemes.
/// </summary>
public sealed class InvalidCacheTypeException : CacheConfigurationException
{
    /// <summary>Creates the exception for the entry at <paramref name="path"/>.</summary>
    public InvalidCacheTypeException(string path, string message)
        : base(path, message)
    {
    }
}
