namespace Cached.Capabilities;

/// <summary>
/// A cache that can hold a lock entry per key: a random token stored under <c>key-lock</c> with the lease as its time
/// to live, released only by its owner. <see cref="RedLock"/> and the stampede lease of generated methods use it; every
/// <see cref="BaseCache"/> whose backend has the atomic operations implements it.
/// </summary>
public interface ILockingCache
{
    /// <summary>The clock leases are measured on.</summary>
    TimeProvider TimeProvider { get; }

    /// <summary>Stores <paramref name="token"/> under the lock key of <paramref name="key"/> if no lock is held.</summary>
    /// <returns>True when the lock was taken.</returns>
    bool TryAcquireLock(string key, string? @namespace, string token, TimeSpan lease);

    /// <inheritdoc cref="TryAcquireLock"/>
    ValueTask<bool> TryAcquireLockAsync(string key, string? @namespace, string token, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Releases the lock of <paramref name="key"/> only if it still holds <paramref name="token"/>.</summary>
    /// <returns>True when released.</returns>
    bool ReleaseLock(string key, string? @namespace, string token);

    /// <inheritdoc cref="ReleaseLock"/>
    ValueTask<bool> ReleaseLockAsync(string key, string? @namespace, string token, CancellationToken cancellationToken);

    /// <summary>
    /// Tells whether the lock of <paramref name="key"/> is held: its lock key holds a lock token. A value of another
    /// kind stored under that key is not a lock.
    /// </summary>
    bool IsLocked(string key, string? @namespace);

    /// <inheritdoc cref="IsLocked"/>
    ValueTask<bool> IsLockedAsync(string key, string? @namespace, CancellationToken cancellationToken);
}
