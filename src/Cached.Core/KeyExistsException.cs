namespace Cached;

/// <summary>
/// Thrown by <see cref="ICache.Add{T}"/> when the key already holds a value. The stored value is left as it was.
/// </summary>
public sealed class KeyExistsException : CacheException
{
    /// <summary>Creates the exception for <paramref name="key"/>.</summary>
    public KeyExistsException(string key)
        : base($"Key '{key}' already exists; use Set to replace its value.")
    {
        Key = key;
    }

    /// <summary>The key, as the caller gave it (without the namespace).</summary>
    public string Key { get; }
}
