using Cached.Plugins;

namespace Cached;

/// <summary>
/// Lock entries for stampede leases (and RedLock): a random token stored under <c>key-lock</c> with the lease as its
/// time to live, released only by its owner. Lock values bypass the serializer and plugins, as aiocache's do.
/// </summary>
public abstract partial class BaseCache
{
    /// <summary>Stores <paramref name="token"/> under the lock key of <paramref name="key"/> if no lock is held.</summary>
    internal bool TryAcquireLock(string key, string? @namespace, string token, TimeSpan lease)
    {
        var ns = ResolveNamespace(@namespace);
        return AddEntry(LockKey(key, ns), ns, LockPayload(token), lease);
    }

    /// <inheritdoc cref="TryAcquireLock"/>
    internal ValueTask<bool> TryAcquireLockAsync(string key, string? @namespace, string token, TimeSpan lease, CancellationToken cancellationToken)
    {
        var ns = ResolveNamespace(@namespace);
        return WithTimeout(AddEntryAsync(LockKey(key, ns), ns, LockPayload(token), lease, cancellationToken), CacheCommand.Add, cancellationToken);
    }

    /// <summary>Releases the lock of <paramref name="key"/> only if it still holds <paramref name="token"/>.</summary>
    internal bool ReleaseLock(string key, string? @namespace, string token)
        => RemoveEntryIfEquals(LockKey(key, ResolveNamespace(@namespace)), LockPayload(token));

    /// <inheritdoc cref="ReleaseLock"/>
    internal ValueTask<bool> ReleaseLockAsync(string key, string? @namespace, string token, CancellationToken cancellationToken)
        => WithTimeout(RemoveEntryIfEqualsAsync(LockKey(key, ResolveNamespace(@namespace)), LockPayload(token), cancellationToken), CacheCommand.Delete, cancellationToken);

    /// <summary>Tells whether the lock of <paramref name="key"/> is held.</summary>
    internal ValueTask<bool> IsLockedAsync(string key, string? @namespace, CancellationToken cancellationToken)
        => WithTimeout(ContainsEntryAsync(LockKey(key, ResolveNamespace(@namespace)), cancellationToken), CacheCommand.Exists, cancellationToken);

    /// <inheritdoc cref="IsLockedAsync"/>
    internal bool IsLocked(string key, string? @namespace) => ContainsEntry(LockKey(key, ResolveNamespace(@namespace)));

    /// <summary>Removes the key only if it holds <paramref name="expected"/> (compared by value; byte arrays by content).</summary>
    /// <returns>True when removed.</returns>
    protected abstract bool RemoveEntryIfEquals(string key, object? expected);

    /// <inheritdoc cref="RemoveEntryIfEquals"/>
    protected abstract ValueTask<bool> RemoveEntryIfEqualsAsync(string key, object? expected, CancellationToken cancellationToken);

    /// <summary>An opaque version of the key's current value (<c>null</c> when the key is missing), for <see cref="OptimisticLock"/>.</summary>
    internal object? GetVersion(string key, string? @namespace) => GetEntryVersion(BuildKey(key, @namespace));

    /// <inheritdoc cref="GetVersion"/>
    internal ValueTask<object?> GetVersionAsync(string key, string? @namespace, CancellationToken cancellationToken)
        => WithTimeout(GetEntryVersionAsync(BuildKey(key, @namespace), cancellationToken), CacheCommand.Get, cancellationToken);

    /// <summary>Stores <paramref name="value"/> only if the key's version is still <paramref name="version"/>; plugins see a Set. Found: stored, with the new version.</summary>
    internal CacheResult<object?> SetIfVersion<T>(string key, string? @namespace, object? version, T value, TimeSpan? ttl)
    {
        var ns = ResolveNamespace(@namespace);
        var expiry = ResolveTtl(ttl);
        var payload = ToPayload(key, value, Serializer);
        var context = BeginCommand(CacheCommand.Set, key, null, ns, value, expiry);
        try
        {
            var stored = SetEntryIfVersion(BuildKeyIn(key, ns), ns, version, payload, expiry);
            EndCommand(context, stored.Found);
            return stored;
        }
        catch (Exception ex) when (CommandFailed(context, ex))
        {
            throw;
        }
    }

    /// <inheritdoc cref="SetIfVersion"/>
    internal async ValueTask<CacheResult<object?>> SetIfVersionAsync<T>(string key, string? @namespace, object? version, T value, TimeSpan? ttl, CancellationToken cancellationToken)
    {
        var ns = ResolveNamespace(@namespace);
        var expiry = ResolveTtl(ttl);
        var payload = ToPayload(key, value, Serializer);
        var context = BeginCommand(CacheCommand.Set, key, null, ns, value, expiry);
        try
        {
            var stored = await WithTimeout(SetEntryIfVersionAsync(BuildKeyIn(key, ns), ns, version, payload, expiry, cancellationToken), CacheCommand.Set, cancellationToken).ConfigureAwait(false);
            EndCommand(context, stored.Found);
            return stored;
        }
        catch (Exception ex) when (CommandFailed(context, ex))
        {
            throw;
        }
    }

    /// <summary>An opaque token that changes whenever the key is written; <c>null</c> when the key is missing.</summary>
    protected abstract object? GetEntryVersion(string key);

    /// <inheritdoc cref="GetEntryVersion"/>
    protected abstract ValueTask<object?> GetEntryVersionAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Stores the payload only if the key's version is still <paramref name="version"/> (<c>null</c>: the key is still
    /// missing). Found when stored, with the key's new version as the value.
    /// </summary>
    protected abstract CacheResult<object?> SetEntryIfVersion(string key, string? @namespace, object? version, object? payload, TimeSpan? ttl);

    /// <inheritdoc cref="SetEntryIfVersion"/>
    protected abstract ValueTask<CacheResult<object?>> SetEntryIfVersionAsync(string key, string? @namespace, object? version, object? payload, TimeSpan? ttl, CancellationToken cancellationToken);

    private string LockKey(string key, string? ns) => BuildKeyIn(key + "-lock", ns);

    private object LockPayload(string token) => StoresReferences ? token : System.Text.Encoding.UTF8.GetBytes(token);
}
