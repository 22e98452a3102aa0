using Cached.Capabilities;

namespace Cached;

/// <summary>
/// Check-and-set on two levels (<see cref="OptimisticLock"/>): the version and the write are L2's, which every node
/// shares. Taking the version drops this node's L1 copy, so the value read under the lock comes from L2 and not from a
/// copy older than the version; a write that took drops the copy again and tells the other nodes, as a
/// <see cref="Increment"/> does.
/// </summary>
public sealed partial class MultiLevelCache : IVersionedCache
{
    /// <inheritdoc />
    object? IVersionedCache.GetVersion(string key, string? @namespace)
    {
        ThrowIfDisposed();
        var version = Versions.GetVersion(key, @namespace);
        DropL1(key, L1Space(@namespace));
        return version;
    }

    /// <inheritdoc />
    async ValueTask<object?> IVersionedCache.GetVersionAsync(string key, string? @namespace, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        var version = await Versions.GetVersionAsync(key, @namespace, cancellationToken).ConfigureAwait(false);
        DropL1(key, L1Space(@namespace));
        return version;
    }

    /// <inheritdoc />
    /// <remarks>Fails as <see cref="Increment"/> does while a write of the key made during an L2 outage still waits.</remarks>
    CacheResult<object?> IVersionedCache.SetIfVersion<T>(string key, string? @namespace, object? version, T value, TimeSpan? ttl)
    {
        ThrowIfDisposed();
        ThrowIfHeldUp("A check-and-set", key, @namespace);
        var stored = Versions.SetIfVersion(key, @namespace, version, value, ttl);
        Changed(stored, key, @namespace);
        return stored;
    }

    /// <inheritdoc />
    async ValueTask<CacheResult<object?>> IVersionedCache.SetIfVersionAsync<T>(string key, string? @namespace, object? version, T value, TimeSpan? ttl, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
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
