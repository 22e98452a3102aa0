namespace Cached.Runtime;

/// <summary>[InvalidateCache] naming this method: the entry of a key dropped, every fault survived.</summary>
public sealed partial class CachedMethod<TResult>
{
    /// <summary>Deletes the entry under <paramref name="key"/> ([InvalidateCache]); a fault is logged, not thrown.</summary>
    public void Invalidate(string key)
    {
        try
        {
            CurrentCache.Delete(key, _options.Namespace);
        }
        catch (Exception ex) when (IsFault(ex, CancellationToken.None))
        {
            Log.InvalidateFailed(CachedLogging.Logger, ex, key, _options.Method, LogAlias);
        }
    }

    /// <inheritdoc cref="Invalidate"/>
    /// <param name="key">The entry's key.</param>
    /// <param name="cancellationToken">The invalidating method's token. It does not stop the delete: the method's body has
    /// made its change by then, and an entry left behind would be served stale until its time to live ran out. A caller whose
    /// token cancels stops waiting for it (an <see cref="OperationCanceledException"/>) while the delete goes on.</param>
    public ValueTask InvalidateAsync(string key, CancellationToken cancellationToken)
        => Invalidations.Awaited(DeleteLoggedAsync(key), cancellationToken);

    private async ValueTask DeleteLoggedAsync(string key)
    {
        try
        {
            await CurrentCache.DeleteAsync(key, _options.Namespace, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsFault(ex, CancellationToken.None))
        {
            Log.InvalidateFailed(CachedLogging.Logger, ex, key, _options.Method, LogAlias);
        }
    }
}
