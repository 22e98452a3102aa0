namespace Cached.Runtime;

/// <summary>
/// <c>[InvalidateCache]</c> naming a multi-cached method: the entries of the keys the invalidating method names are
/// deleted, each key once, every fault logged and never thrown.
/// </summary>
public sealed partial class MultiCachedMethod<TKey, TValue>
{
    /// <summary>
    /// Deletes the entries of <paramref name="keys"/> ([InvalidateCache] naming this method), each key once; a fault
    /// is logged, not thrown, and the other keys are still deleted.
    /// </summary>
    /// <param name="keys">The keys to drop (<c>null</c> reads as none).</param>
    /// <param name="state">The instance, when the key builder needs it.</param>
    /// <param name="cacheKeyOf">Turns a key into its cache key, as <see cref="Invoke{TState}(IEnumerable{TKey}?, TState, Func{TState, TKey, string}, Func{TState, List{TKey}, IEnumerable{KeyValuePair{TKey, TValue}}?}, Func{TState, TKey, TValue, bool}?)"/> does.</param>
    public void Invalidate<TState>(IEnumerable<TKey>? keys, TState state, Func<TState, TKey, string> cacheKeyOf)
    {
        ArgumentNullException.ThrowIfNull(cacheKeyOf);
        var cache = CurrentCache;
        foreach (var cacheKey in CacheKeysToDelete(keys, cache, state, cacheKeyOf))
        {
            try
            {
                cache.Delete(cacheKey, _options.Namespace);
            }
            catch (Exception ex) when (CachedMethod<TValue>.IsFault(ex, CancellationToken.None))
            {
                Log.InvalidateFailed(CachedLogging.Logger, ex, cacheKey, _options.Method, LogAlias);
            }
        }
    }

    /// <inheritdoc cref="Invalidate"/>
    /// <param name="keys">The keys to drop (<c>null</c> reads as none).</param>
    /// <param name="state">The instance, when the key builder needs it.</param>
    /// <param name="cacheKeyOf">Turns a key into its cache key.</param>
    /// <param name="cancellationToken">The invalidating method's token. It does not stop the deletes: the method's body
    /// has made its change by then, and an entry left behind would be served stale until its time to live ran out. A
    /// caller whose token cancels stops waiting for them (an <see cref="OperationCanceledException"/>) while they go on.</param>
    /// <remarks>Every key's delete is started before any is awaited: in an outage each waits out the cache's timeout,
    /// side by side only once. The cache keys are all built first, so a key builder that throws deletes nothing.</remarks>
    public ValueTask InvalidateAsync<TState>(IEnumerable<TKey>? keys, TState state, Func<TState, TKey, string> cacheKeyOf, CancellationToken cancellationToken)
        => Invalidations.Awaited(DeleteAllLoggedAsync(keys, state, cacheKeyOf), cancellationToken);

    private async ValueTask DeleteAllLoggedAsync<TState>(IEnumerable<TKey>? keys, TState state, Func<TState, TKey, string> cacheKeyOf)
    {
        ArgumentNullException.ThrowIfNull(cacheKeyOf);
        var cache = CurrentCache;
        var cacheKeys = CacheKeysToDelete(keys, cache, state, cacheKeyOf);
        var deletes = new Task[cacheKeys.Count];
        for (var i = 0; i < cacheKeys.Count; i++)
        {
            deletes[i] = StartDelete(cache, cacheKeys[i]);
        }

        for (var i = 0; i < deletes.Length; i++)
        {
            try
            {
                await deletes[i].ConfigureAwait(false);
            }
            catch (Exception ex) when (CachedMethod<TValue>.IsFault(ex, CancellationToken.None))
            {
                Log.InvalidateFailed(CachedLogging.Logger, ex, cacheKeys[i], _options.Method, LogAlias);
            }
        }
    }

    /// <summary>One key's delete, started; what starting it throws comes back in the task, so every delete is awaited.</summary>
    private Task StartDelete(ICache cache, string cacheKey)
    {
        try
        {
            return cache.DeleteAsync(cacheKey, _options.Namespace, CancellationToken.None).AsTask();
        }
        catch (Exception ex)
        {
            return Task.FromException(ex);
        }
    }
}
