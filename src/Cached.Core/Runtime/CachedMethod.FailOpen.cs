using System.Runtime.CompilerServices;
using Cached.Capabilities;
using Cached.Serializers;

namespace Cached.Runtime;

/// <summary>
/// The cache reads and writes of a cached method, each surviving every cache fault (fail-open): a fault is logged with
/// the key, the method and the cache's alias, and the call goes on as a miss or without storing. A cache that cannot be
/// reached is an outage, logged once at its start and once at its end, with writes skipped meanwhile (<see cref="CacheFaults"/>). A serializer that
/// refuses the result type is logged once instead, and the method runs uncached on that cache (<see cref="TypeRefusal"/>).
/// </summary>
public sealed partial class CachedMethod<TResult>
{
    /// <summary>
    /// Starts a plain read that its caller awaits exactly once: on a <see cref="BaseCache"/>, a remote read's frame then
    /// comes from a pool (<see cref="BaseCache.TryGetOnceAsync{T}"/>).
    /// </summary>
    private ValueTask<CacheResult<TResult>> StartRead(ICache cache, string key, CancellationToken cancellationToken)
        => StartRead<TResult>(cache, key, serializer: null, cancellationToken);

    /// <inheritdoc cref="StartRead(ICache, string, CancellationToken)"/>
    private ValueTask<CacheResult<T>> StartRead<T>(ICache cache, string key, ISerializer? serializer, CancellationToken cancellationToken)
        => cache is BaseCache ours
            ? ours.TryGetOnceAsync<T>(key, _options.Namespace, serializer, cancellationToken)
            : cache.TryGetAsync<T>(key, _options.Namespace, serializer, cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // awaited once, by this class
    private async ValueTask<CacheResult<TResult>> ReadAsync(ICache cache, string key, CancellationToken cancellationToken)
    {
        try
        {
            var read = await StartRead(cache, key, cancellationToken).ConfigureAwait(false);
            NoteAnswer(cache);
            return read;
        }
        catch (Exception ex) when (IsFault(ex, cancellationToken))
        {
            ReadFailed(cache, ex, key);
            return CacheResult<TResult>.Miss;
        }
    }

    /// <summary>
    /// <see cref="TryRead"/> on two levels, opening the key's fill when L2 lacks it too
    /// (<see cref="MultiLevelCache.TryGetOrOpenFill{T}"/>); <paramref name="opened"/> is then the ticket.
    /// </summary>
    private bool TryReadOrOpen(MultiLevelCache cache, string key, out TResult? value, out bool faulted, out FillTicket? opened)
    {
        try
        {
            faulted = false;
            (var read, opened) = cache.TryGetOrOpenFill<TResult>(key, _options.Namespace);
            NoteAnswer(cache);
            value = read.Value;
            return read.Found;
        }
        catch (Exception ex) when (IsFault(ex, CancellationToken.None))
        {
            ReadFailed(cache, ex, key);
            value = default;
            faulted = true;
            opened = null;
            return false;
        }
    }

    private bool TryRead(ICache cache, string key, out TResult? value, out bool faulted)
    {
        try
        {
            faulted = false;
            var found = cache.TryGet(key, out value, _options.Namespace);
            NoteAnswer(cache);
            return found;
        }
        catch (Exception ex) when (IsFault(ex, CancellationToken.None))
        {
            ReadFailed(cache, ex, key);
            value = default;
            faulted = true;
            return false;
        }
    }

    /// <summary>
    /// Opens the fenced fill of <paramref name="key"/> before the body runs, on a cache that fences its fills; null on
    /// any other cache, and after a fault (logged once; the result is then not stored, as it could not be fenced).
    /// </summary>
    private LeaderFill OpenFill(ICache cache, string key)
    {
        if (cache is not IFencedFillCache fills || CacheFaults.IsDown(cache))
        {
            return default;
        }

        try
        {
            return KeepFence(LeaderFill.Open(fills, key, _options.Namespace));
        }
        catch (Exception ex) when (IsFault(ex, CancellationToken.None))
        {
            WriteFailed(cache, ex, key);
            return default;
        }
    }

    /// <inheritdoc cref="OpenFill"/>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // awaited once, by this class
    private async ValueTask<LeaderFill> OpenFillAsync(ICache cache, string key, CancellationToken cancellationToken)
    {
        if (cache is not IFencedFillCache fills || CacheFaults.IsDown(cache))
        {
            return default;
        }

        try
        {
            // A BaseCache opens its fills itself; on a shared store the ticket comes without the interface's own frame.
            if (cache is BaseCache own)
            {
                if (own.OpensFillsInProcess)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    return LeaderFill.OpenInProcess(own, key, _options.Namespace);
                }

                return KeepFence(new LeaderFill(await own.OpenSharedFillAsync(key, _options.Namespace, cancellationToken).ConfigureAwait(false)));
            }

            return KeepFence(new LeaderFill(await fills.OpenFillAsync(key, _options.Namespace, cancellationToken).ConfigureAwait(false)));
        }
        catch (Exception ex) when (IsFault(ex, cancellationToken))
        {
            WriteFailed(cache, ex, key);
            return default;
        }
    }

    /// <summary>
    /// Stores the body's result: through the fill's fence when there is one, so an invalidation since the fill opened
    /// wins, and not at all on a fenced cache whose fill failed to open. Returns false only when the fence refused the
    /// value (it is then stale); a fault is logged and returns true.
    /// </summary>
    private bool Write<TValue>(ICache cache, string key, TValue value, in LeaderFill fill, TimeSpan? ttl, ISerializer? serializer)
    {
        if ((!fill.IsOpen && cache is IFencedFillCache) || CacheFaults.IsDown(cache))
        {
            return true;
        }

        try
        {
            if (fill.IsOpen)
            {
                return fill.TryFill(cache, value, ttl, serializer);
            }

            cache.Set(key, value, ttl, _options.Namespace, serializer);
        }
        catch (Exception ex) when (IsFault(ex, CancellationToken.None))
        {
            WriteFailed(cache, ex, key);
        }

        return true;
    }

    /// <inheritdoc cref="Write"/>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // awaited once, by this class
    private async ValueTask<bool> WriteAsync<TValue>(ICache cache, string key, TValue value, LeaderFill fill, TimeSpan? ttl, ISerializer? serializer, CancellationToken cancellationToken)
    {
        if ((!fill.IsOpen && cache is IFencedFillCache) || CacheFaults.IsDown(cache))
        {
            return true;
        }

        try
        {
            if (fill.Ticket is { } ticket && cache is BaseCache { OpensFillsInProcess: false } shared)
            {
                // The count stored, compared here rather than in a frame of the interface's.
                return await shared.FillSharedAsync(ticket, value, ttl, serializer, cancellationToken).ConfigureAwait(false) == 1;
            }

            if (fill.IsOpen)
            {
                return await fill.TryFillAsync(cache, value, ttl, serializer, cancellationToken).ConfigureAwait(false);
            }

            await cache.SetAsync(key, value, ttl, _options.Namespace, serializer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsFault(ex, cancellationToken))
        {
            WriteFailed(cache, ex, key);
        }

        return true;
    }

    /// <summary>
    /// A fill opened inside <see cref="CacheScope.SkipWrite"/> (or <see cref="CacheScope.Bypass"/>), whose call will
    /// store only if its scope is disposed first: it leaves the backend's fence to expire when it closes unused, rather
    /// than release it as a fill that never stored does, since another caller's fill of the key shares that fence. Redis
    /// now counts the fills open on a fence and releases it only with the last, but a process on an earlier version of
    /// this library counts nothing, and its fill would then be refused.
    /// </summary>
    private static LeaderFill KeepFence(LeaderFill fill)
    {
        if (CacheScope.IsWriteSkipped)
        {
            fill.Ticket?.MarkShared();
        }

        return fill;
    }

    /// <inheritdoc cref="KeepFence(LeaderFill)"/>
    private static FillTicket? KeepFence(FillTicket? opened)
    {
        if (CacheScope.IsWriteSkipped)
        {
            opened?.MarkShared();
        }

        return opened;
    }

    /// <summary>A read of <paramref name="cache"/> succeeded: the end of its outage, if one is in progress (one volatile read otherwise).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private void NoteAnswer(ICache cache)
    {
        if (CacheFaults.AnyOutage)
        {
            CacheFaults.Answered(cache, LogAlias);
        }
    }

    /// <summary>Logs a failed read, unless the cache's serializer refused the type (logged once).</summary>
    private void ReadFailed(ICache cache, Exception exception, string key)
    {
        if (!_refusal.Note(exception, cache, _options) && CacheFaults.Note(cache, exception, LogAlias))
        {
            Log.ReadFailed(CachedLogging.Logger, exception, key, _options.Method, LogAlias);
        }
    }

    /// <summary>Logs a failed write, unless the cache's serializer refused the type (logged once).</summary>
    private void WriteFailed(ICache cache, Exception exception, string key)
    {
        if (!_refusal.Note(exception, cache, _options) && CacheFaults.Note(cache, exception, LogAlias))
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
    private static void Fail(Flight flight, Exception exception, CancellationToken leaderToken)
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
