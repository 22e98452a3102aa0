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

/// <summary>What a lock key holds, as <see cref="BaseCache.ProbeLock"/> reads it.</summary>
internal enum LockProbe
{
    /// <summary>Nothing: the lock is free.</summary>
    Free,

    /// <summary>A lock token: someone holds the lock.</summary>
    Held,

    /// <summary>A value that is not a lock token.</summary>
    Other,
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
    /// the server: the attempt then sends the release of its own token before it rethrows, so no lock is left that nobody
    /// holds for the whole lease, which every other process's miss would wait out. The release is a compare-and-delete
    /// sent after the take on the same connection, so it removes the lock only if the take stored it.
    /// </summary>
    public static LockAttempt Try(ILockingCache locks, string key, string? @namespace, string token, TimeSpan lease)
    {
        try
        {
            return Attempt(locks, key, @namespace, token, lease);
        }
        catch (Exception ex) when (ex is not (OutOfMemoryException or CacheBackendException { CircuitOpen: true }))
        {
            // Not after the circuit breaker's refusal: the take never left, and nothing is to reach the backend.
            ReleaseUnwaited(locks, key, @namespace, token);
            throw;
        }
    }

    /// <summary>
    /// Sends the release of <paramref name="token"/> without waiting for it: after a timeout the backend is slow or
    /// gone, and the caller, which goes on without the lock, must not wait a second timeout for a best-effort release.
    /// The release is sent at once, behind the take on the same connection.
    /// </summary>
    private static void ReleaseUnwaited(ILockingCache locks, string key, string? @namespace, string token)
    {
        ValueTask<bool> release;
        try
        {
            // Past the circuit breaker, which the take's own timeout may just have opened.
            release = locks switch
            {
                BaseCache cache => cache.ReleaseLockPastBreakerAsync(key, @namespace, token),
                MultiLevelCache { L2: BaseCache l2 } => l2.ReleaseLockPastBreakerAsync(key, @namespace, token),
                _ => locks.ReleaseLockAsync(key, @namespace, token, CancellationToken.None),
            };
        }
        catch (Exception)
        {
            // Best effort: the lease still ends the lock; the caller must see the attempt's own failure.
            return;
        }

        if (!release.IsCompleted)
        {
            _ = release.AsTask().ContinueWith(static done => _ = done.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        else if (release.IsFaulted)
        {
            _ = release.AsTask().Exception;
        }
    }

    // How many times one attempt takes a lock it saw free and found taken again: past that, a lock this busy is Held,
    // and the caller waits and tries again as for any held lock.
    private const int FreeRetries = 8;

    private static LockAttempt Attempt(ILockingCache locks, string key, string? @namespace, string token, TimeSpan lease)
    {
        if (locks is BaseCache cache)
        {
            // A lock released and taken again between two steps of this attempt is busy, not a value named like a lock:
            // only a value seen there makes the caller go on without the lock.
            for (var retry = 0; retry < FreeRetries; retry++)
            {
                if (locks.TryAcquireLock(key, @namespace, token, lease))
                {
                    return LockAttempt.Taken;
                }

                switch (cache.ProbeLock(key, @namespace))
                {
                    case LockProbe.Held:
                        return LockAttempt.Held;
                    case LockProbe.Other:
                        return LockAttempt.NotALock;
                }
            }

            return LockAttempt.Held;
        }

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
        catch (Exception ex) when (ex is not (OutOfMemoryException or CacheBackendException { CircuitOpen: true }))
        {
            // Not after the circuit breaker's refusal, as in Try. A caller that left by its token leaves at once too: the release is sent before its cancellation is seen,
            // behind the take on the same connection, but not waited for, since it waits its turn behind that take,
            // which may be what the caller stopped waiting for.
            ReleaseUnwaited(locks, key, @namespace, token);
            throw;
        }
    }

    private static async ValueTask<LockAttempt> AttemptAsync(ILockingCache locks, string key, string? @namespace, string token, TimeSpan lease, CancellationToken cancellationToken)
    {
        if (locks is BaseCache cache)
        {
            // As in Attempt: a lock seen free is taken again; only a value seen there is no lock.
            for (var retry = 0; retry < FreeRetries; retry++)
            {
                if (await locks.TryAcquireLockAsync(key, @namespace, token, lease, cancellationToken).ConfigureAwait(false))
                {
                    return LockAttempt.Taken;
                }

                switch (await cache.ProbeLockAsync(key, @namespace, cancellationToken).ConfigureAwait(false))
                {
                    case LockProbe.Held:
                        return LockAttempt.Held;
                    case LockProbe.Other:
                        return LockAttempt.NotALock;
                }
            }

            return LockAttempt.Held;
        }

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
