using Cached.Resilience;

namespace Cached;

/// <summary>Read-through (<c>GetOrSet</c>) and writes with <see cref="CacheEntryOptions"/>, on the core generated methods use.</summary>
public abstract partial class BaseCache : IReadThroughHost
{
    private ReadThroughs? _readThroughs;

    /// <inheritdoc />
    ReadThroughs IReadThroughHost.ReadThroughs
        => Volatile.Read(ref _readThroughs) ?? InitReadThroughs();

    private ReadThroughs InitReadThroughs()
    {
        Interlocked.CompareExchange(ref _readThroughs, new ReadThroughs(this, TimeProvider), null);
        return _readThroughs;
    }

    /// <inheritdoc />
    public T GetOrSet<T>(string key, Func<CancellationToken, T> factory, CacheEntryOptions? options = null, string? @namespace = null)
        => ReadThrough.GetOrSet(this, key, factory, options, @namespace);

    /// <inheritdoc />
    public T GetOrSet<TState, T>(string key, TState state, Func<TState, CancellationToken, T> factory, CacheEntryOptions? options = null, string? @namespace = null)
        => ReadThrough.GetOrSet(this, key, state, factory, options, @namespace);

    /// <inheritdoc />
    public ValueTask<T> GetOrSetAsync<T>(string key, Func<CancellationToken, ValueTask<T>> factory, CacheEntryOptions? options = null, string? @namespace = null, CancellationToken cancellationToken = default)
        => ReadThrough.GetOrSetAsync(this, key, factory, options, @namespace, cancellationToken);

    /// <inheritdoc />
    public ValueTask<T> GetOrSetAsync<TState, T>(string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory, CacheEntryOptions? options = null, string? @namespace = null, CancellationToken cancellationToken = default)
        => ReadThrough.GetOrSetAsync(this, key, state, factory, options, @namespace, cancellationToken);

    /// <inheritdoc />
    public bool Set<T>(string key, T value, CacheEntryOptions? options, string? @namespace = null)
        => ReadThrough.Set(this, key, value, options, @namespace);

    /// <inheritdoc />
    public ValueTask<bool> SetAsync<T>(string key, T value, CacheEntryOptions? options, string? @namespace = null, CancellationToken cancellationToken = default)
        => ReadThrough.SetAsync(this, key, value, options, @namespace, cancellationToken);

    /// <summary>Stops the read-through work this cache runs in the background (eager refreshes, factories past a timeout).</summary>
    private void StopBackgroundWork() => Volatile.Read(ref _readThroughs)?.Background.Stop();
}
