namespace Cached;

/// <summary>Thrown by <see cref="OptimisticLock.Cas{T}"/> when the key changed since the lock was taken; nothing is written.</summary>
public sealed class OptimisticLockException : CacheException
{
    /// <summary>Creates the exception for <paramref name="key"/>.</summary>
    public OptimisticLockException(string key)
        : base($"The value of '{key}' has changed since the lock started; nothing was written.")
    {
        Key = key;
    }

    /// <summary>The key, as the caller gave it.</summary>
    public string Key { get; }
}
