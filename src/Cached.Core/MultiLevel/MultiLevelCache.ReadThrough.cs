using Cached.Resilience;

namespace Cached;

/// <summary>
/// Read-through on two levels: the core generated methods use, reading through <see cref="MultiLevelCache"/> itself,
/// so a hit is served by L1 and a stamped entry (<see cref="CacheEntryOptions"/>) keeps its logical expiry in both
/// levels. Stamps run on L2's clock, the one every node shares.
/// </summary>
public sealed partial class MultiLevelCache : IReadThroughHost
{
    private ReadThroughs? _readThroughs;

    /// <inheritdoc />
    ReadThroughs IReadThroughHost.ReadThroughs
        => Volatile.Read(ref _readThroughs) ?? InitReadThroughs();

    private ReadThroughs InitReadThroughs()
    {
        Interlocked.CompareExchange(ref _readThroughs, new ReadThroughs(this, ReadThroughs.Of(L2).Clock), null);
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

    private void StopBackgroundWork() => Volatile.Read(ref _readThroughs)?.Background.Stop();
}
