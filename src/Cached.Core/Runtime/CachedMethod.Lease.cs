using Cached.Capabilities;

namespace Cached.Runtime;

/// <summary>The stampede lease across processes (<see cref="CachedMethodOptions.Lease"/>), through the cache's <see cref="ILockingCache"/>.</summary>
public sealed partial class CachedMethod<TResult>
{
    /// <summary>
    /// Takes the stampede lease, or waits while another process holds it: until the value appears (returned), the
    /// lock is released (taken then), or the lease has run out (the caller goes on without the lock, as aiocache's). A
    /// lock key that holds a value rather than a lock token is no lock: the caller goes on at once without one.
    /// Polling backs off from 5 ms to 100 ms, so waiters never hammer the backend. A call that skips the read
    /// (<see cref="CacheScope.SkipRead"/>) reads nothing while it waits: it takes the lease (or outlasts it) and runs its body.
    /// A resilient <paramref name="call"/> reads as it read before its miss (<see cref="TryReadResilient"/>), so an entry
    /// it cannot answer (one without the tags it has, <see cref="CanAnswer"/>) is absent here too, not the value found.
    /// </summary>
    private (bool Found, TResult? Value, string? Token) WaitForLease(ICache cache, ILockingCache locks, string key, TimeSpan lease, ResilientCall? call)
    {
        if (CacheFaults.IsDown(cache))
        {
            // No lease through a cache that cannot be reached: the attempt would only fail again, one round trip later.
            return (false, default, null);
        }

        var token = Guid.NewGuid().ToString("N");
        var deadline = locks.TimeProvider.GetTimestamp() + (long)(lease.TotalSeconds * locks.TimeProvider.TimestampFrequency);
        var pause = s_firstLeasePoll;
        try
        {
            while (true)
            {
                var attempt = LockAttempts.Try(locks, key, _options.Namespace, token, lease);
                if (attempt == LockAttempt.NotALock)
                {
                    // A value named like this key's lock: not a lock, so nobody holds it; go on without one.
                    return (false, default, null);
                }

                if (attempt == LockAttempt.Taken)
                {
                    // Someone may have stored the value between our read and our lock.
                    if (!CacheScope.IsReadSkipped && TryReadWhileLeasing(cache, key, call, out var stored))
                    {
                        // A release that fails is logged and survived: the value found is still the answer.
                        Release(locks, key, token);
                        return (true, stored, null);
                    }

                    return (false, default, token);
                }

                if (!CacheScope.IsReadSkipped && TryReadWhileLeasing(cache, key, call, out var value))
                {
                    return (true, value, null);
                }

                if (locks.TimeProvider.GetTimestamp() >= deadline)
                {
                    return (false, default, null);
                }

                Thread.Sleep(pause);
                pause = pause * 2 < s_lastLeasePoll ? pause * 2 : s_lastLeasePoll;
            }
        }
        catch (Exception ex) when (IsFault(ex, CancellationToken.None))
        {
            LeaseFailed(cache, ex, key);
            return (false, default, null);
        }
    }

    private async ValueTask<(bool Found, TResult? Value, string? Token)> WaitForLeaseAsync(ICache cache, ILockingCache locks, string key, TimeSpan lease, ResilientCall? call, CancellationToken cancellationToken)
    {
        if (CacheFaults.IsDown(cache))
        {
            return (false, default, null);
        }

        var token = Guid.NewGuid().ToString("N");
        var deadline = locks.TimeProvider.GetTimestamp() + (long)(lease.TotalSeconds * locks.TimeProvider.TimestampFrequency);
        var pause = s_firstLeasePoll;
        try
        {
            while (true)
            {
                var attempt = await LockAttempts.TryAsync(locks, key, _options.Namespace, token, lease, cancellationToken).ConfigureAwait(false);
                if (attempt == LockAttempt.NotALock)
                {
                    return (false, default, null);
                }

                if (attempt == LockAttempt.Taken)
                {
                    if (CacheScope.IsReadSkipped)
                    {
                        return (false, default, token);
                    }

                    // From here we own the lock: every way out either hands the token on or releases it.
                    CacheResult<TResult> recheck;
                    try
                    {
                        recheck = call is null
                            ? await StartRead(cache, key, cancellationToken).ConfigureAwait(false)
                            : await ReadWhileLeasingAsync(call, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (IsFault(ex, cancellationToken))
                    {
                        ReadFailed(cache, ex, key);
                        return (false, default, token);
                    }
                    catch
                    {
                        await ReleaseAsync(locks, key, token).ConfigureAwait(false);
                        throw;
                    }

                    if (recheck.Found)
                    {
                        await ReleaseAsync(locks, key, token).ConfigureAwait(false);
                        return (true, recheck.Value, null);
                    }

                    return (false, default, token);
                }

                var read = CacheScope.IsReadSkipped ? CacheResult<TResult>.Miss
                    : call is null ? await StartRead(cache, key, cancellationToken).ConfigureAwait(false)
                    : await ReadWhileLeasingAsync(call, cancellationToken).ConfigureAwait(false);
                if (read.Found)
                {
                    return (true, read.Value, null);
                }

                if (locks.TimeProvider.GetTimestamp() >= deadline)
                {
                    return (false, default, null);
                }

                await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
                pause = pause * 2 < s_lastLeasePoll ? pause * 2 : s_lastLeasePoll;
            }
        }
        catch (Exception ex) when (IsFault(ex, cancellationToken))
        {
            LeaseFailed(cache, ex, key);
            return (false, default, null);
        }
    }

    /// <summary>A read while waiting for the lease: <paramref name="call"/>'s own when it is a resilient call's, else the plain one.</summary>
    private bool TryReadWhileLeasing(ICache cache, string key, ResilientCall? call, out TResult? value)
        => call is null ? TryRead(cache, key, out value, out _) : TryReadResilient(call, out value, out _, out _);

    /// <summary>
    /// <see cref="TryReadWhileLeasing"/> for an async resilient call. A fault is logged and reads as a miss, as in the
    /// sync twin: under the lock the call then runs its body; while polling, it polls on.
    /// </summary>
    private async ValueTask<CacheResult<TResult>> ReadWhileLeasingAsync(ResilientCall call, CancellationToken cancellationToken)
    {
        var (found, value, _, _) = await TryReadResilientAsync(call, cancellationToken).ConfigureAwait(false);
        return found ? CacheResult<TResult>.Hit(value) : CacheResult<TResult>.Miss;
    }

    /// <summary>Logs a failed lease, unless a read in it met a serializer that refused the type (logged once).</summary>
    private void LeaseFailed(ICache cache, Exception exception, string key)
    {
        if (!_refusal.Note(exception, cache, _options) && CacheFaults.Note(cache, exception, LogAlias))
        {
            Log.LeaseFailed(CachedLogging.Logger, exception, key, _options.Method, LogAlias);
        }
    }

    private void Release(ILockingCache cache, string key, string token)
    {
        try
        {
            cache.ReleaseLock(key, _options.Namespace, token);
        }
        catch (Exception ex) when (IsFault(ex, CancellationToken.None))
        {
            Log.LeaseFailed(CachedLogging.Logger, ex, key, _options.Method, LogAlias);
        }
    }

    /// <summary>Releases the lease <paramref name="token"/> names on <paramref name="cache"/>, if any.</summary>
    private ValueTask ReleaseLeaseAsync(ICache cache, string key, string? token)
        => token is null ? default : ReleaseAsync((ILockingCache)cache, key, token);

    private async ValueTask ReleaseAsync(ILockingCache cache, string key, string token)
    {
        try
        {
            // Released even when the caller cancelled, so other processes need not wait out the lease.
            await cache.ReleaseLockAsync(key, _options.Namespace, token, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsFault(ex, CancellationToken.None))
        {
            Log.LeaseFailed(CachedLogging.Logger, ex, key, _options.Method, LogAlias);
        }
    }
}
