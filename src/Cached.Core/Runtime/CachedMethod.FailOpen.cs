namespace Cached.Runtime;

/// <summary>
/// The cache reads and writes of a cached method, each surviving every cache fault (fail-open): a fault is logged with
/// the key, the method and the cache's alias, and the call goes on as a miss or without storing. A serializer that
/// refuses the result type is logged once instead, and the method runs uncached on that cache (<see cref="TypeRefusal"/>).
/// </summary>
public sealed partial class CachedMethod<TResult>
{
    private async ValueTask<CacheResult<TResult>> ReadAsync(ICache cache, string key, CancellationToken cancellationToken)
    {
        try
        {
            return await cache.TryGetAsync<TResult>(key, _options.Namespace, null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsFault(ex, cancellationToken))
        {
            ReadFailed(cache, ex, key);
            return CacheResult<TResult>.Miss;
        }
    }

    private bool TryRead(ICache cache, string key, out TResult? value, out bool faulted)
    {
        try
        {
            faulted = false;
            return cache.TryGet(key, out value, _options.Namespace);
        }
        catch (Exception ex) when (IsFault(ex, CancellationToken.None))
        {
            ReadFailed(cache, ex, key);
            value = default;
            faulted = true;
            return false;
        }
    }

    private void Write(ICache cache, string key, TResult value)
    {
        try
        {
            cache.Set(key, value, _ttl, _options.Namespace);
        }
        catch (Exception ex) when (IsFault(ex, CancellationToken.None))
        {
            WriteFailed(cache, ex, key);
        }
    }

    private async ValueTask WriteAsync(ICache cache, string key, TResult value, CancellationToken cancellationToken)
    {
        try
        {
            await cache.SetAsync(key, value, _ttl, _options.Namespace, null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsFault(ex, cancellationToken))
        {
            WriteFailed(cache, ex, key);
        }
    }

    /// <summary>Logs a failed read, unless the cache's serializer refused the type (logged once).</summary>
    private void ReadFailed(ICache cache, Exception exception, string key)
    {
        if (!_refusal.Note(exception, cache, _options))
        {
            Log.ReadFailed(CachedLogging.Logger, exception, key, _options.Method, LogAlias);
        }
    }

    /// <summary>Logs a failed write, unless the cache's serializer refused the type (logged once).</summary>
    private void WriteFailed(ICache cache, Exception exception, string key)
    {
        if (!_refusal.Note(exception, cache, _options))
        {
            Log.WriteFailed(CachedLogging.Logger, exception, key, _options.Method, LogAlias);
        }
    }

    /// <summary>Every exception from the cache is a fault to survive, except the caller's own cancellation.</summary>
    internal static bool IsFault(Exception exception, CancellationToken cancellationToken)
        => !(exception is OperationCanceledException && cancellationToken.IsCancellationRequested);

    /// <summary>
    /// Ends a flight whose leader threw. Only the leader caller's own cancellation hands the flight over (the flight is
    /// cancelled and a waiter with a live token leads again); any other exception, an <see cref="OperationCanceledException"/>
    /// the body threw of its own (an HttpClient timeout) included, is the flight's outcome and reaches every waiter.
    /// </summary>
    private static void Fail(TaskCompletionSource<TResult> flight, Exception exception, CancellationToken leaderToken)
    {
        if (exception is OperationCanceledException canceled && leaderToken.IsCancellationRequested)
        {
            flight.TrySetCanceled(canceled.CancellationToken);
        }
        else
        {
            flight.TrySetException(exception);
            // Waiters observe it; without waiters, this keeps it from surfacing as an unobserved task exception.
            _ = flight.Task.Exception;
        }
    }
}
