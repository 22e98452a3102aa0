namespace Cached.Capabilities;

/// <summary>
/// A cache that can write a key only if it has not changed since it was read (compare-and-set), for
/// <see cref="OptimisticLock"/>. Every <see cref="BaseCache"/> whose backend has the atomic operations implements it.
/// </summary>
public interface IVersionedCache
{
    /// <summary>An opaque version of the key's current value; <c>null</c> when the key is missing.</summary>
    object? GetVersion(string key, string? @namespace);

    /// <inheritdoc cref="GetVersion"/>
    ValueTask<object?> GetVersionAsync(string key, string? @namespace, CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="value"/> only if the key's version is still <paramref name="version"/>; plugins see a Set.
    /// </summary>
    /// <returns>Found when stored, with the key's new version as the value.</returns>
    CacheResult<object?> SetIfVersion<T>(string key, string? @namespace, object? version, T value, TimeSpan? ttl);

    /// <inheritdoc cref="SetIfVersion{T}"/>
    ValueTask<CacheResult<object?>> SetIfVersionAsync<T>(string key, string? @namespace, object? version, T value, TimeSpan? ttl, CancellationToken cancellationToken);
}
