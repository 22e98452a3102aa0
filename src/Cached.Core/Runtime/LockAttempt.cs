using Cached.Capabilities;

namespace Cached.Runtime;

/// <summary>What one attempt to take a lock found.</summary>
internal enum LockAttempt
{
    /// <summary>The lock is ours.</summary>
    Taken,

    /// <summary>Someone holds the lock: wait and try again.</summary>
    Held,

    /// <summary>The lock key holds something that is not a lock token: the lock cannot be taken, and nobody holds it.</summary>
    NotALock,
}

/// <summary>
/// One attempt to take a lock, shared by <see cref="RedLock"/> and the stampede lease. A lock key that holds anything
/// but a lock token (a value stored under <c>sales-lock</c>) is not a lock: the attempt says so at once, so callers
/// go on without the lock instead of waiting out the lease, and the value is left as it is.
/// </summary>
internal static class LockAttempts
{
    /// <summary>
    /// One attempt. A take that fails after it was sent (a timeout, a connection lost) may still have stored the lock on
    /// the server: the attempt then releases its own token before it rethrows, so no lock is left that nobody holds for
    /// the whole lease, which every other process's miss would wait out. The release is a compare-and-delete sent after
    /// the take on the same connection, so it removes the lock only if the take stored it.
    /// </summary>
    public static LockAttempt Try(ILockingCache locks, string key, string? @namespace, string token, TimeSpan lease)
    {
        try
        {
            return Attempt(locks, key, @namespace, token, lease);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            try
            {
                locks.ReleaseLock(key, @namespace, token);
            }
            catch (Exception)
            {
                // Best effort: the lease still ends the lock; the caller must see the attempt's own failure.
            }

            throw;
        }
    }

    private static LockAttempt Attempt(ILockingCache locks, string key, string? @namespace, string token, TimeSpan lease)
    {
        if (locks.TryAcquireLock(key, @namespace, token, lease))
        {
            return LockAttempt.Taken;
        }

        if (locks.IsLocked(key, @namespace))
        {
            return LockAttempt.Held;
        }

        // No token there: a value named like a lock, or a lock released or expired since the first try.
        if (locks.TryAcquireLock(key, @namespace, token, lease))
        {
            return LockAttempt.Taken;
        }

        return locks.IsLocked(key, @namespace) ? LockAttempt.Held : LockAttempt.NotALock;
    }

    /// <summary>
    /// The async attempt. A cancellation, a timeout or a lost connection may arrive after the backend took the lock but
    /// before its answer did (the <c>SET NX PX</c> ran): the attempt then releases its own token before it rethrows, as
    /// <see cref="Try"/> does.
    /// </summary>
    public static async ValueTask<LockAttempt> TryAsync(ILockingCache locks, string key, string? @namespace, string token, TimeSpan lease, CancellationToken cancellationToken)
    {
        try
        {
            return await AttemptAsync(locks, key, @namespace, token, lease, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            try
            {
                await locks.ReleaseLockAsync(key, @namespace, token, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Best effort: the lease still ends the lock; the caller must see the attempt's own failure.
            }

            throw;
        }
    }

    private static async ValueTask<LockAttempt> AttemptAsync(ILockingCache locks, string key, string? @namespace, string token, TimeSpan lease, CancellationToken cancellationToken)
    {
        if (await locks.TryAcquireLockAsync(key, @namespace, token, lease, cancellationToken).ConfigureAwait(false))
        {
            return LockAttempt.Taken;
        }

        if (await locks.IsLockedAsync(key, @namespace, cancellationToken).ConfigureAwait(false))
        {
            return LockAttempt.Held;
        }

        if (await locks.TryAcquireLockAsync(key, @namespace, token, lease, cancellationToken).ConfigureAwait(false))
        {
            return LockAttempt.Taken;
        }

        return await locks.IsLockedAsync(key, @namespace, cancellationToken).ConfigureAwait(false) ? LockAttempt.Held : LockAttempt.NotALock;
    }
}
