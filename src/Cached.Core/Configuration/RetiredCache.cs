using Cached.Pipeline;
using Cached.Runtime;

namespace Cached.Configuration;

/// <summary>
/// An instance that <see cref="Caches"/> made and then replaced. It goes on serving whoever still holds it through a
/// grace period, and is disposed at the first moment after that when no command is running on it; a cache whose
/// commands are not counted (<see cref="CommandCount"/>) is disposed when the grace period ends.
/// </summary>
internal sealed class RetiredCache
{
    private readonly string _alias;
    private readonly CommandCount? _running;
    private readonly Action<RetiredCache> _forget;
    private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ITimer _grace;
    private int _state; // Grace, Closing (the grace period is over) or Kept
    private const int Grace = 0;
    private const int Closing = 1;
    private const int Kept = 2;

    /// <summary>Starts the grace period of <paramref name="cache"/>; <paramref name="forget"/> is called once it is disposed.</summary>
    public RetiredCache(ICache cache, string alias, CommandCount? running, TimeProvider timeProvider, TimeSpan grace, Action<RetiredCache> forget)
    {
        Cache = cache;
        _alias = alias;
        _running = running;
        _forget = forget;
        _grace = timeProvider.CreateTimer(static state => ((RetiredCache)state!).GraceOver(), this, grace, System.Threading.Timeout.InfiniteTimeSpan);
    }

    public ICache Cache { get; }

    /// <summary>Completes once the cache is disposed.</summary>
    public Task Disposed => _disposed.Task;

    /// <summary>
    /// Keeps the cache from being disposed: it was given back to <see cref="Caches"/> as an instance of its own
    /// (<see cref="Caches.AddInstance"/>, <c>AddCache(alias, instance)</c>), which <c>Caches</c> never disposes. False once
    /// the grace period is over: the cache is then being closed.
    /// </summary>
    public bool TryKeep()
    {
        if (Interlocked.CompareExchange(ref _state, Kept, Grace) != Grace)
        {
            return false;
        }

        _grace.Dispose();
        _disposed.TrySetResult();
        return true;
    }

    private void GraceOver()
    {
        if (Interlocked.CompareExchange(ref _state, Closing, Grace) != Grace)
        {
            return;
        }

        _grace.Dispose();
        // When a command is still running, the last one to end queues the disposal: it must not run on the caller's
        // path, inside the completion of a command of the very connection it closes.
        if (_running is null || _running.CloseWhenIdle(static state => ThreadPool.UnsafeQueueUserWorkItem(static retired => retired.Dispose(), (RetiredCache)state, preferLocal: false), this))
        {
            Dispose();
        }
    }

    private void Dispose()
    {
        try
        {
            Cache.Dispose();
        }
        catch (Exception ex)
        {
            Log.ReplacedCacheDisposeFailed(CachedLogging.Logger, ex, _alias);
        }
        finally
        {
            _forget(this);
            _disposed.TrySetResult();
        }
    }
}
