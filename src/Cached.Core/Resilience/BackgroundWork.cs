namespace Cached.Resilience;

/// <summary>
/// The read-through work a cache runs for nobody's call: eager refreshes, and factories that went on after a timeout
/// answered their caller. Eager refreshes are bounded by <see cref="Limit"/> (one over it is skipped, never queued; the
/// next late hit tries again), so a burst of hot keys cannot starve the thread pool. <see cref="Stop"/> (the cache's
/// dispose) cancels the token every such factory runs with and refuses new work.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "Stop cancels the source; it is never disposed, because factories still running after the stop read its token.")]
internal sealed class BackgroundWork
{
    /// <summary>At most this many eager refreshes run at once per cache.</summary>
    public static readonly int Limit = Math.Max(4, Environment.ProcessorCount * 4);

    private readonly CancellationTokenSource _stopping = new();
    private int _running;

    /// <summary>Cancelled when the cache is disposed.</summary>
    public CancellationToken Stopping { get; }

    public BackgroundWork() => Stopping = _stopping.Token;

    /// <summary>Eager refreshes under way.</summary>
    public int Running => Volatile.Read(ref _running);

    public bool IsStopping => Stopping.IsCancellationRequested;

    /// <summary>Takes a slot for one eager refresh; false when stopped or full.</summary>
    public bool TryEnter()
    {
        if (IsStopping)
        {
            return false;
        }

        if (Interlocked.Increment(ref _running) > Limit)
        {
            Interlocked.Decrement(ref _running);
            return false;
        }

        return true;
    }

    public void Leave() => Interlocked.Decrement(ref _running);

    /// <summary>Cancels every factory running in the background and refuses new work.</summary>
    public void Stop()
    {
        try
        {
            _stopping.Cancel();
        }
        catch (AggregateException)
        {
            // A factory's cancellation callback threw; the token is cancelled regardless, and disposal goes on.
        }
    }
}
