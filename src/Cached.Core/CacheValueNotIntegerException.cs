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

    private CacheValueNotIntegerException(string key, string message, Exception? innerException)
        : base(message, innerException)
    {
        Key = key;
    }

    /// <summary>
    /// The refusal of an increment of a key that holds an entry written with entry options: its stamp (fail-safe's
    /// lives, eager refresh, tags) comes before the value, in the bytes or around the object, so it is no counter
    /// even when its value is an integer. Said so, rather than "not an integer" of a key whose every read answers one.
    /// </summary>
    internal static CacheValueNotIntegerException OfStamped(string key, Exception innerException)
        => new(key, $"Key '{key}' holds an entry written with entry options (FailSafe, EagerRefresh or Tags), which Increment cannot change even when its value is an integer: keep a counter in an entry written without options.", innerException);

    /// <summary>The backend key (namespace applied) that holds a value that is not an integer.</summary>
    public string Key { get; }
}
