namespace Cached.Resilience;

/// <summary>
/// <c>GetOrSet</c> and <c>Set</c> with <see cref="CacheEntryOptions"/> over any <see cref="ICache"/>: every backend's
/// public methods and the interface's default ones end here, in the core generated methods run on.
/// </summary>
internal static class ReadThrough
{
    public static T GetOrSet<T>(ICache cache, string key, Func<CancellationToken, T> factory, CacheEntryOptions? options, string? @namespace)
    {
        // The key first, as the async twin refuses them.
        if (ArgumentProblem(key, factory) is { } problem)
        {
            throw problem;
        }

        return GetOrSet(cache, key, factory, static (f, ct) => f(ct), options, @namespace);
    }

    public static ValueTask<T> GetOrSetAsync<T>(ICache cache, string key, Func<CancellationToken, ValueTask<T>> factory, CacheEntryOptions? options, string? @namespace, CancellationToken cancellationToken)
    {
        if (factory is null)
        {
            // In the task, the key's problem first, as the overload this one calls refuses them.
            return ValueTask.FromException<T>(ArgumentProblem(key, factory)!);
        }

        return GetOrSetAsync(cache, key, factory, static (f, ct) => f(ct), options, @namespace, cancellationToken);
    }

    public static T GetOrSet<TState, T>(ICache cache, string key, TState state, Func<TState, CancellationToken, T> factory, CacheEntryOptions? options, string? @namespace)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(factory);
        var host = ReadThroughs.Of(cache);
        ref readonly var policy = ref EntryPolicy.Of(options);
        // A sync factory has no caller's token: it gets the cache's, cancelled when the cache is disposed.
        return host.For<T>(@namespace).Invoke(
            key, (State: state, Factory: factory, Stopping: host.Background.Stopping), static s => s.Factory(s.State, s.Stopping), skipWhen: null, in policy);
    }

    public static ValueTask<T> GetOrSetAsync<TState, T>(ICache cache, string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory, CacheEntryOptions? options, string? @namespace, CancellationToken cancellationToken)
    {
        // In the task whatever the token, as every async command's bad argument (docs/caches.md).
        if (ArgumentProblem(key, factory) is { } problem)
        {
            return ValueTask.FromException<T>(problem);
        }

        ref readonly var policy = ref EntryPolicy.Of(options);
        // A call that goes on after returning runs in a pooled frame (see CachedMethod); the caller of this API may await
        // its task twice or keep it, so it gets a plain task of it, as TryGetAsync's caller does.
        return ReadThroughs.Of(cache).For<T>(@namespace).InvokeAsync(
            key, (State: state, Factory: factory), static (s, ct) => s.Factory(s.State, ct), skipWhen: null, in policy, cancellationToken).Preserve();
    }

    /// <summary>
    /// A null or empty key, or a null factory: what an async call refuses in its task before it looks at its token. Null
    /// when both are good. A key the store cannot hold (a lone surrogate on Redis) is no argument error here: the call
    /// runs its factory uncached, as for any key its cache refuses (docs/redis.md).
    /// </summary>
    internal static ArgumentException? ArgumentProblem(string key, object? factory)
        => Runtime.Guard.KeyProblem(key) ?? (factory is null ? new ArgumentNullException(nameof(factory)) : null);

    // Null options are the defaults: Set(key, value, null, ns) binds here since this overload exists, and means what it
    // meant before, a write with the cache's time to live.
    public static bool Set<T>(ICache cache, string key, T value, CacheEntryOptions? options, string? @namespace)
    {
        if (options is null)
        {
            return cache.Set(key, value, ttl: null, @namespace);
        }

        ref readonly var policy = ref EntryPolicy.Of(options);
        return ReadThroughs.Of(cache).For<T>(@namespace).Set(cache, key, value, in policy);
    }

    public static ValueTask<bool> SetAsync<T>(ICache cache, string key, T value, CacheEntryOptions? options, string? @namespace, CancellationToken cancellationToken)
    {
        if (options is null)
        {
            return cache.SetAsync(key, value, ttl: null, @namespace, serializer: null, cancellationToken);
        }

        ref readonly var policy = ref EntryPolicy.Of(options);
        return ReadThroughs.Of(cache).For<T>(@namespace).SetAsync(cache, key, value, in policy, cancellationToken);
    }
}
