using Cached.Capabilities;
using Cached.Plugins;
using Cached.Serializers;

namespace Cached.Tests.Capabilities;

/// <summary>
/// A cache that is not a <see cref="BaseCache"/> (as a two-level cache or a user's wrapper would be): every command
/// goes to an inner cache, and it opts into the span read and the lock capabilities by interface alone. It counts what
/// the runtime asks of each path, so tests can tell which one a call took.
/// </summary>
internal sealed class DelegatingCache(SimpleMemoryCache inner) : ICache, ISpanReadableCache, ILockingCache
{
    private readonly ISpanReadableCache _span = inner;
    private readonly ILockingCache _locks = inner;

    public int SpanReads;

    public int OrdinaryReads;

    public int LocksTaken;

    public string? Namespace => inner.Namespace;

    public ISerializer Serializer => inner.Serializer;

    public IReadOnlyList<ICachePlugin> Plugins => inner.Plugins;

    public TimeSpan? Timeout => inner.Timeout;

    public TimeSpan? Ttl => inner.Ttl;

    public TimeProvider TimeProvider => inner.TimeProvider;

    public bool CanReadBySpan(string? @namespace, out string? resolvedNamespace) => _span.CanReadBySpan(@namespace, out resolvedNamespace);

    public SpanRead TryReadBySpan(ReadOnlySpan<char> key, string? resolvedNamespace, out object? payload)
    {
        Interlocked.Increment(ref SpanReads);
        return _span.TryReadBySpan(key, resolvedNamespace, out payload);
    }

    public bool TryAcquireLock(string key, string? @namespace, string token, TimeSpan lease)
    {
        Interlocked.Increment(ref LocksTaken);
        return _locks.TryAcquireLock(key, @namespace, token, lease);
    }

    public ValueTask<bool> TryAcquireLockAsync(string key, string? @namespace, string token, TimeSpan lease, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref LocksTaken);
        return _locks.TryAcquireLockAsync(key, @namespace, token, lease, cancellationToken);
    }

    public bool ReleaseLock(string key, string? @namespace, string token) => _locks.ReleaseLock(key, @namespace, token);

    public ValueTask<bool> ReleaseLockAsync(string key, string? @namespace, string token, CancellationToken cancellationToken)
        => _locks.ReleaseLockAsync(key, @namespace, token, cancellationToken);

    public bool IsLocked(string key, string? @namespace) => _locks.IsLocked(key, @namespace);

    public ValueTask<bool> IsLockedAsync(string key, string? @namespace, CancellationToken cancellationToken) => _locks.IsLockedAsync(key, @namespace, cancellationToken);

    public string BuildKey(string key, string? @namespace = null) => inner.BuildKey(key, @namespace);

    public bool Add<T>(string key, T value, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null) => inner.Add(key, value, ttl, @namespace, serializer);

    public T? Get<T>(string key, T? @default = default, string? @namespace = null, ISerializer? serializer = null)
    {
        Interlocked.Increment(ref OrdinaryReads);
        return inner.Get(key, @default, @namespace, serializer);
    }

    public bool TryGet<T>(string key, out T? value, string? @namespace = null, ISerializer? serializer = null)
    {
        Interlocked.Increment(ref OrdinaryReads);
        return inner.TryGet(key, out value, @namespace, serializer);
    }

    public bool Set<T>(string key, T value, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null) => inner.Set(key, value, ttl, @namespace, serializer);

    public IReadOnlyList<T?> MultiGet<T>(IEnumerable<string> keys, string? @namespace = null, ISerializer? serializer = null) => inner.MultiGet<T>(keys, @namespace, serializer);

    public IReadOnlyList<CacheResult<T>> MultiTryGet<T>(IEnumerable<string> keys, string? @namespace = null, ISerializer? serializer = null) => inner.MultiTryGet<T>(keys, @namespace, serializer);

    /// <summary>Runs before the next batch write (sync or async), once: a test holds a store there.</summary>
    public Action? BeforeNextMultiSet { get => _beforeNextMultiSet; set => _beforeNextMultiSet = value; }

    private Action? _beforeNextMultiSet;

    private void OnMultiSet() => Interlocked.Exchange(ref _beforeNextMultiSet, null)?.Invoke();

    public bool MultiSet<T>(IEnumerable<KeyValuePair<string, T>> pairs, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null)
    {
        OnMultiSet();
        return inner.MultiSet(pairs, ttl, @namespace, serializer);
    }

    public bool Exists(string key, string? @namespace = null) => inner.Exists(key, @namespace);

    public long Increment(string key, long delta = 1, string? @namespace = null) => inner.Increment(key, delta, @namespace);

    public int Delete(string key, string? @namespace = null) => inner.Delete(key, @namespace);

    public bool Clear(string? @namespace = null) => inner.Clear(@namespace);

    public bool Expire(string key, TimeSpan? ttl, string? @namespace = null) => inner.Expire(key, ttl, @namespace);

    public object? Raw(string command, params object?[] args) => inner.Raw(command, args);

    public ValueTask<bool> AddAsync<T>(string key, T value, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
        => inner.AddAsync(key, value, ttl, @namespace, serializer, cancellationToken);

    public ValueTask<T?> GetAsync<T>(string key, T? @default = default, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref OrdinaryReads);
        return inner.GetAsync(key, @default, @namespace, serializer, cancellationToken);
    }

    public ValueTask<CacheResult<T>> TryGetAsync<T>(string key, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref OrdinaryReads);
        return inner.TryGetAsync<T>(key, @namespace, serializer, cancellationToken);
    }

    public ValueTask<bool> SetAsync<T>(string key, T value, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
        => inner.SetAsync(key, value, ttl, @namespace, serializer, cancellationToken);

    public ValueTask<IReadOnlyList<T?>> MultiGetAsync<T>(IEnumerable<string> keys, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
        => inner.MultiGetAsync<T>(keys, @namespace, serializer, cancellationToken);

    public ValueTask<IReadOnlyList<CacheResult<T>>> MultiTryGetAsync<T>(IEnumerable<string> keys, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
        => inner.MultiTryGetAsync<T>(keys, @namespace, serializer, cancellationToken);

    public ValueTask<bool> MultiSetAsync<T>(IEnumerable<KeyValuePair<string, T>> pairs, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
    {
        OnMultiSet();
        return inner.MultiSetAsync(pairs, ttl, @namespace, serializer, cancellationToken);
    }

    public ValueTask<bool> ExistsAsync(string key, string? @namespace = null, CancellationToken cancellationToken = default) => inner.ExistsAsync(key, @namespace, cancellationToken);

    public ValueTask<long> IncrementAsync(string key, long delta = 1, string? @namespace = null, CancellationToken cancellationToken = default)
        => inner.IncrementAsync(key, delta, @namespace, cancellationToken);

    public ValueTask<int> DeleteAsync(string key, string? @namespace = null, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, @namespace, cancellationToken);

    public ValueTask<bool> ClearAsync(string? @namespace = null, CancellationToken cancellationToken = default) => inner.ClearAsync(@namespace, cancellationToken);

    public ValueTask<bool> ExpireAsync(string key, TimeSpan? ttl, string? @namespace = null, CancellationToken cancellationToken = default)
        => inner.ExpireAsync(key, ttl, @namespace, cancellationToken);

    public ValueTask<object?> RawAsync(string command, object?[]? args = null, CancellationToken cancellationToken = default) => inner.RawAsync(command, args, cancellationToken);

    public void Dispose() => inner.Dispose();

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
