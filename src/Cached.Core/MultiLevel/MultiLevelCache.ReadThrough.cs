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
    {
        // The key first, as the async twin refuses them.
        if (ReadThrough.ArgumentProblem(key, factory) is { } problem)
        {
            throw problem;
        }

        return GetOrSet(key, factory, static (f, ct) => f(ct), options, @namespace);
    }

    /// <inheritdoc />
    public T GetOrSet<TState, T>(string key, TState state, Func<TState, CancellationToken, T> factory, CacheEntryOptions? options = null, string? @namespace = null)
    {
        if (options?.LocalTtl is not { } bound)
        {
            return ReadThrough.GetOrSet(this, key, state, factory, options, @namespace);
        }

        var outer = s_callL1Bound.Value;
        s_callL1Bound.Value = new CallL1Bound(this, bound);
        try
        {
            return ReadThrough.GetOrSet(this, key, (state, factory), static (s, ct) => Unbound(s.state, s.factory, ct), options, @namespace);
        }
        finally
        {
            s_callL1Bound.Value = outer;
        }
    }

    // The factory runs without the call's L1 bound: the calls it makes for other keys are not this call's, and keep
    // their own (or none). The sync form restores the bound for the fill that follows; the async one needs not, since
    // an async method's ambient change stays inside it.
    private static T Unbound<TState, T>(TState state, Func<TState, CancellationToken, T> factory, CancellationToken cancellationToken)
    {
        var bound = s_callL1Bound.Value;
        s_callL1Bound.Value = null;
        try
        {
            return factory(state, cancellationToken);
        }
        finally
        {
            s_callL1Bound.Value = bound;
        }
    }

    private static async ValueTask<T> UnboundAsync<TState, T>(TState state, Func<TState, CancellationToken, ValueTask<T>> factory, CancellationToken cancellationToken)
    {
        s_callL1Bound.Value = null;
        return await factory(state, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<T> GetOrSetAsync<T>(string key, Func<CancellationToken, ValueTask<T>> factory, CacheEntryOptions? options = null, string? @namespace = null, CancellationToken cancellationToken = default)
        => factory is null
            ? ValueTask.FromException<T>(ReadThrough.ArgumentProblem(key, factory)!) // the key's problem first, as the overload it calls would
            : GetOrSetAsync(key, factory, static (f, ct) => f(ct), options, @namespace, cancellationToken);

    /// <inheritdoc />
    public ValueTask<T> GetOrSetAsync<TState, T>(string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory, CacheEntryOptions? options = null, string? @namespace = null, CancellationToken cancellationToken = default)
        => ReadThrough.ArgumentProblem(key, factory) is { } problem ? ValueTask.FromException<T>(problem)
            : options?.LocalTtl is { } bound
            ? BoundAsync(bound, (key, state, factory, options, @namespace), static (c, a, ct) => ReadThrough.GetOrSetAsync(c, a.key, (a.state, a.factory), static (s, ct) => UnboundAsync(s.state, s.factory, ct), a.options, a.@namespace, ct), cancellationToken)
            : ReadThrough.GetOrSetAsync(this, key, state, factory, options, @namespace, cancellationToken);

    /// <inheritdoc />
    public bool Set<T>(string key, T value, CacheEntryOptions? options, string? @namespace = null)
    {
        if (options?.LocalTtl is not { } bound)
        {
            return ReadThrough.Set(this, key, value, options, @namespace);
        }

        var outer = s_callL1Bound.Value;
        s_callL1Bound.Value = new CallL1Bound(this, bound);
        try
        {
            return ReadThrough.Set(this, key, value, options, @namespace);
        }
        finally
        {
            s_callL1Bound.Value = outer;
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> SetAsync<T>(string key, T value, CacheEntryOptions? options, string? @namespace = null, CancellationToken cancellationToken = default)
        => options?.LocalTtl is { } bound
            ? BoundAsync(bound, (key, value, options, @namespace), static (c, a, ct) => ReadThrough.SetAsync(c, a.key, a.value, a.options, a.@namespace, ct), cancellationToken)
            : ReadThrough.SetAsync(this, key, value, options, @namespace, cancellationToken);

    // An async method restores its caller's ambient values when it returns or first awaits, so the bound is seen by
    // this call and the work it starts, and by nothing the caller does next.
    private async ValueTask<TResult> BoundAsync<TArgs, TResult>(TimeSpan bound, TArgs args, Func<MultiLevelCache, TArgs, CancellationToken, ValueTask<TResult>> call, CancellationToken cancellationToken)
    {
        s_callL1Bound.Value = new CallL1Bound(this, bound);
        return await call(this, args, cancellationToken).ConfigureAwait(false);
    }

    private void StopBackgroundWork() => Volatile.Read(ref _readThroughs)?.Background.Stop();
}
