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
    public async ValueTask InvalidateAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            await CurrentCache.DeleteAsync(key, _options.Namespace, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsFault(ex, cancellationToken))
        {
            Log.InvalidateFailed(CachedLogging.Logger, ex, key, _options.Method, LogAlias);
        }
    }
}
