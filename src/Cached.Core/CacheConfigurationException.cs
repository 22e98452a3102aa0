namespace Cached;

/// <summary>
/// Thrown when a named cache, a URL or a configuration entry cannot be turned into a cache: an unknown alias, an
/// unknown or unsuitable type, an unknown or malformed setting. <see cref="Path"/> names the offending entry.
/// </summary>
public class CacheConfigurationException : CacheException
{
    /// <summary>Creates the exception for the configuration entry at <paramref name="path"/>.</summary>
    public CacheConfigurationException(string path, string message, Exception? innerException = null)
        : base($"{path}: {message}", innerException)
    {
        Path = path;
    }

    /// <summary>Where the problem is, e.g. <c>redis_alt</c>, <c>redis_alt:Serializer:Class</c> or <c>redis_alt:Port</c>.</summary>
    public string Path { get; }
}
