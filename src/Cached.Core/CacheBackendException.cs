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

    /// <summary>Creates the exception, saying whether the backend could be reached at all.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The client's exception.</param>
    /// <param name="unreachable">True when the backend could not be reached (down, refusing connections, the
    /// connection lost); false when a backend that answered refused or failed the command.</param>
    public CacheBackendException(string message, Exception? innerException, bool unreachable)
        : base(message, innerException)
    {
        Unreachable = unreachable;
    }

    /// <summary>
    /// True when the backend could not be reached at all, so that the same command may succeed once it is back (a
    /// <see cref="MultiLevelCache"/> keeps such writes and retries them); false when the backend answered and refused.
    /// </summary>
    public bool Unreachable { get; }

    /// <summary>
    /// True when the cache did not send the command at all because its circuit breaker is open
    /// (<see cref="BaseCache.CircuitBreakerDuration"/>): the backend did not answer a command shortly before, which is the
    /// inner exception. <see cref="Unreachable"/> is then true too.
    /// </summary>
    public bool CircuitOpen { get; init; }
}
