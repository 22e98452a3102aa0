namespace Cached;

/// <summary>
/// The base of every fault that comes from a cache rather than from the caller's arguments: a backend that fails, a
/// payload that cannot be read, a key that already exists, a configuration that cannot be used.
/// </summary>
public class CacheException : Exception
{
    /// <summary>Creates an exception with a message.</summary>
    public CacheException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and the fault that caused it.</summary>
    public CacheException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
