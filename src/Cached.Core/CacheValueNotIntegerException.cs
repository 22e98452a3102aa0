namespace Cached;

/// <summary>
/// Thrown by <see cref="ICache.Increment"/> when the key holds something that is not an integer
/// (aiocache raises <c>TypeError("Value is not an integer")</c>). The stored value is left as it was.
/// </summary>
public sealed class CacheValueNotIntegerException : CacheException
{
    /// <summary>Creates the exception for <paramref name="key"/>.</summary>
    public CacheValueNotIntegerException(string key, Exception? innerException = null)
        : base($"Key '{key}' does not hold an integer, so it cannot be incremented.", innerException)
    {
        Key = key;
    }

    /// <summary>The backend key (namespace applied) that holds a value that is not an integer.</summary>
    public string Key { get; }
}
