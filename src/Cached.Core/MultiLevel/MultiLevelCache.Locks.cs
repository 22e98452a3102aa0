using Cached.Capabilities;

namespace Cached;

/// <summary>
/// Locks on two levels: the lease of <see cref="RedLock"/> and of generated methods, and the check-and-set of
/// <see cref="OptimisticLock"/>. Both live in L2, which every node shares. Taking either drops this node's L1 copy of
/// the key, so the value read under it comes from L2 and not from a copy older than the lock (the last holder's write
/// may not have reached this node yet); a check-and-set that took drops the copy again and tells the other nodes, as an
/// <see cref="Increment"/> does.
/// </summary>
public sealed partial class MultiLevelCache : ILockingCache, IVersionedCache
{
    /// <inheritdoc />
    TimeProvider ILockingCache.TimeProvider => (L2 as ILockingCache)?.TimeProvider ?? TimeProvider.System;

    /// <summary>
    /// The lease lives in L2, which every node shares; with an L2 that cannot lock, there is no lease. Taking it drops
    /// this node's L1 copy of the key: the node that held the lock before may have written the key under it, and its
    /// message may not have come yet, so what is read under the lock comes from L2.
    /// </summary>
    bool ILockingCache.TryAcquireLock(string key, string? @namespace, string token, TimeSpan lease)
    {
        CheckKey(key, @namespace);
        if (L2 is not ILockingCache locks)
        {
            return true;
        }

        var taken = locks.TryAcquireLock(key, @namespace, token, lease);
        if (taken)
        {
            DropL1(key, L1Space(@namespace));
        }

        return taken;
    }

    /// <inheritdoc cref="ILockingCache.TryAcquireLock"/>
    async ValueTask<bool> ILockingCache.TryAcquireLockAsync(string key, string? @namespace, string token, TimeSpan lease, CancellationToken cancellationToken)
    {
        CheckKey(key, @namespace);
        if (L2 is not ILockingCache locks)
        {
            return true;
        }

        var taken = await locks.TryAcquireLockAsync(key, @namespace, token, lease, cancellationToken).ConfigureAwait(false);
        if (taken)
        {
            DropL1(key, L1Space(@namespace));
        }

        return taken;
    }

    /// <inheritdoc />
    bool ILockingCache.ReleaseLock(string key, string? @namespace, string token)
    {
        // Not refused once disposed: a lock taken before must not be left for its whole lease.
        CheckKey(key, @namespace);
        return L2 is not ILockingCache locks || locks.ReleaseLock(key, @namespace, token);
    }

    /// <inheritdoc />
    ValueTask<bool> ILockingCache.ReleaseLockAsync(string key, string? @namespace, string token, CancellationToken cancellationToken)
        => KeyProblem(key, @namespace) is { } problem ? ValueTask.FromException<bool>(problem)
            : L2 is ILockingCache locks ? locks.ReleaseLockAsync(key, @namespace, token, cancellationToken)
            : ValueTask.FromResult(true);

    /// <inheritdoc />
    bool ILockingCache.IsLocked(string key, string? @namespace)
    {
        CheckKey(key, @namespace);
        return L2 is ILockingCache locks && locks.IsLocked(key, @namespace);
    }

    /// <inheritdoc />
    ValueTask<bool> ILockingCache.IsLockedAsync(string key, string? @namespace, CancellationToken cancellationToken)
        => KeyProblem(key, @namespace) is { } problem ? ValueTask.FromException<bool>(problem)
            : L2 is ILockingCache locks ? locks.IsLockedAsync(key, @namespace, cancellationToken)
            : ValueTask.FromResult(false);

    /// <inheritdoc />
    object? IVersionedCache.GetVersion(string key, string? @namespace)
    {
        CheckCall(key, @namespace);
        var version = Versions.GetVersion(key, @namespace);
        DropL1(key, L1Space(@namespace));
        return version;
    }

    /// <inheritdoc />
    async ValueTask<object?> IVersionedCache.GetVersionAsync(string key, string? @namespace, CancellationToken cancellationToken)
    {
        CheckCall(key, @namespace, cancellationToken);
        var version = await Versions.GetVersionAsync(key, @namespace, cancellationToken).ConfigureAwait(false);
        DropL1(key, L1Space(@namespace));
        return version;
    }

    /// <inheritdoc />
    /// <remarks>Fails as <see cref="Increment"/> does while a write of the key made during an L2 outage still waits.</remarks>
    CacheResult<object?> IVersionedCache.SetIfVersion<T>(string key, string? @namespace, object? version, T value, TimeSpan? ttl)
    {
        CheckCall(key, @namespace);
        ThrowIfHeldUp("A check-and-set", key, @namespace);
        var stored = Versions.SetIfVersion(key, @namespace, version, value, ttl);
        Changed(stored, key, @namespace);
        return stored;
    }

    /// <inheritdoc />
    async ValueTask<CacheResult<object?>> IVersionedCache.SetIfVersionAsync<T>(string key, string? @namespace, object? version, T value, TimeSpan? ttl, CancellationToken cancellationToken)
    {
        CheckCall(key, @namespace, cancellationToken);
        ThrowIfHeldUp("A check-and-set", key, @namespace);
        var stored = await Versions.SetIfVersionAsync(key, @namespace, version, value, ttl, cancellationToken).ConfigureAwait(false);
        Changed(stored, key, @namespace);
        return stored;
    }

    /// <summary>Whether L2 can compare and set, which <see cref="OptimisticLock"/> needs of a two-level cache.</summary>
    internal bool CanCompareAndSet => L2 is IVersionedCache;

    private IVersionedCache Versions => L2 as IVersionedCache
        ?? throw new NotSupportedException($"This MultiLevelCache's L2 ({L2.GetType().Name}) cannot compare and set.");

    private void Changed(CacheResult<object?> stored, string key, string? @namespace)
    {
        if (stored.Found)
        {
            var space = L1Space(@namespace);
            DropL1(key, space);
            Publish(BackplaneAction.Set, space, [key]);
        }
    }
}
