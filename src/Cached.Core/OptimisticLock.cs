using Cached.Capabilities;
using Cached.Runtime;

namespace Cached;

/// <summary>
/// Check-and-set on one key (pycached's <c>OptimisticLock</c>): note the key's version when the lock is taken, then
/// <see cref="Cas{T}"/> writes only if nobody wrote the key in between.
/// <code>
/// using var lck = new OptimisticLock(cache, "key");
/// var value = cache.Get&lt;int&gt;("key");
/// lck.Cas(value + 1);   // OptimisticLockException if the key changed meanwhile
/// </code>
/// </summary>
/// <remarks>
/// On the memory backend the version is the stored entry itself, so any write counts as a change, even one of an
/// equal value; on Redis it is the stored bytes. On a <see cref="MultiLevelCache"/> the version and the write are L2's:
/// taking the lock drops the node's L1 copy of the key, so the value read next comes from L2, and a write that took is
/// published to the other nodes. On a key that was missing, <see cref="Cas{T}"/> fails if someone
/// created the key meanwhile (aiocache lets it through). Disposing does nothing; it exists for <c>using</c>.
/// </remarks>
public sealed class OptimisticLock : IDisposable, IAsyncDisposable
{
    private readonly IVersionedCache _cache;
    private readonly string? _namespace;
    private object? _version;

    /// <summary>Takes the lock: notes the key's current version.</summary>
    /// <exception cref="ArgumentException">The cache cannot compare versions (<see cref="IVersionedCache"/>), or the key is empty.</exception>
    /// <exception cref="NotSupportedException">The cache is one whose backend cannot compare and set (a cache over an
    /// <c>IDistributedCache</c>, or two levels over one).</exception>
    public OptimisticLock(ICache cache, string key, string? @namespace = null)
        : this(Check(cache, key), key, @namespace)
    {
        _version = _cache.GetVersion(key, @namespace);
    }

    private OptimisticLock(IVersionedCache cache, string key, string? @namespace)
    {
        _cache = cache;
        Key = key;
        _namespace = @namespace;
    }

    /// <summary>The key.</summary>
    public string Key { get; }

    /// <summary>Takes the lock asynchronously.</summary>
    public static async ValueTask<OptimisticLock> AcquireAsync(ICache cache, string key, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        var optimistic = new OptimisticLock(Check(cache, key), key, @namespace);
        optimistic._version = await optimistic._cache.GetVersionAsync(key, @namespace, cancellationToken).ConfigureAwait(false);
        return optimistic;
    }

    /// <summary>Writes <paramref name="value"/> if the key has not changed since the lock was taken.</summary>
    /// <returns><c>true</c>.</returns>
    /// <exception cref="OptimisticLockException">The key changed; nothing was written.</exception>
    public bool Cas<T>(T value, TimeSpan? ttl = null)
    {
        var stored = _cache.SetIfVersion(Key, _namespace, _version, value, ttl);
        if (!stored.Found)
        {
            throw new OptimisticLockException(Key);
        }

        // Our own write is the new version, so a second Cas checks against it.
        _version = stored.Value;
        return true;
    }

    /// <inheritdoc cref="Cas{T}"/>
    public async ValueTask<bool> CasAsync<T>(T value, TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        var stored = await _cache.SetIfVersionAsync(Key, _namespace, _version, value, ttl, cancellationToken).ConfigureAwait(false);
        if (!stored.Found)
        {
            throw new OptimisticLockException(Key);
        }

        _version = stored.Value;
        return true;
    }

    /// <summary>Does nothing: an optimistic lock holds nothing on the backend.</summary>
    public void Dispose()
    {
    }

    /// <inheritdoc cref="Dispose"/>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static IVersionedCache Check(ICache cache, string key)
    {
        ArgumentNullException.ThrowIfNull(cache);
        Guard.Key(key);
        return cache switch
        {
            MultiLevelCache { CanCompareAndSet: false } levels => throw new ArgumentException($"OptimisticLock on a MultiLevelCache needs an L2 that can compare and set ({nameof(IVersionedCache)}), which {levels.L2.GetType()} is not.", nameof(cache)),
            IVersionedCache versioned => versioned,
            _ => throw new ArgumentException($"OptimisticLock needs a cache that can compare and set ({nameof(IVersionedCache)}), which {cache.GetType()} is not.", nameof(cache)),
        };
    }
}
