namespace Cached;

/// <summary>
/// Thrown when a cache backend cannot do its work: a server that cannot be reached, refuses a command (out of
/// memory, a wrong password) or fails it. The client's own exception is the inner exception.
/// </summary>
public sealed class CacheBackendException : CacheException
{
    /// <summary>Creates the exception with a message and the client's exception.</summary>
    public CacheBackendException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
