using Cached.Resilience;

namespace Cached.Runtime;

/// <summary>Fail-safe's throttle: a last value written back fresh for a short while, only over the entry it was read from.</summary>
public sealed partial class CachedMethod<TResult>
{
    /// <summary>
    /// The last value, fresh again for the fail-safe throttle, never past the end fail-safe gave it; only if the backend
    /// still holds it (<see cref="StillHolds"/>).
    /// </summary>
    private void Throttle(ResilientCall call, Stamped<TResult> last, LeaderFill fill)
    {
        if (CacheScope.IsWriteSkipped)
        {
            return;
        }

        var (throttled, ttl) = Stamping.Throttle(last, call.Policy, call.Host.Clock, call.Observed);
        if (throttled is null)
        {
            return;
        }

        if (StillHolds(call, last, out var unreadable) && RetainTags(call, ttl) == true)
        {
            Write(call.Cache, call.Key, throttled, fill, ttl, StampsFor(call.Cache, call.Host));
            Throttled(call.Key);
        }
        else if (unreadable)
        {
            ThrottleInL1(call, last, throttled, ttl);
            Throttled(call.Key);
        }
    }

    /// <summary>
    /// Counts the throttle's write as a store: a caller that read the stale entry before it, and leads a flight of its
    /// own after this one landed, reads again and finds the last value fresh, rather than calling the failing source
    /// again within the throttle (<see cref="FillCompletions.MayHaveStored"/>).
    /// </summary>
    private void Throttled(string key) => _completions.Record(key);

    /// <summary>
    /// The throttle when the backend could not be read back: a two-level cache makes the last value its L1 still holds
    /// fresh there alone (<see cref="MultiLevelCache.ThrottleInL1"/>), so that a node whose L2 is down calls a failing
    /// source about once per throttle too. Not for an entry with tags, whose versions L2 keeps.
    /// </summary>
    private void ThrottleInL1(ResilientCall call, Stamped<TResult> last, Stamped<TResult> throttled, TimeSpan? ttl)
    {
        if (call.Cache is MultiLevelCache levels && call.Observed is null)
        {
            var stamps = StampsFor(call.Cache, call.Host);
            levels.ThrottleInL1(call.Key, _options.Namespace, throttled, ttl, stamps, now => Stamping.IsSameEntry(last, now?.ForRead(), stamps.Inner));
        }
    }

    /// <summary>
    /// Whether the backend still holds the entry this call read as its last value. The fill's fence sees only writes
    /// after it opened; a write between the call's read and that open would otherwise be overwritten by the older value
    /// made fresh again. Read again after the fence opened, so a write after this read still moves the fence. A fault
    /// reads as no (<paramref name="unreadable"/>): the value is served, not written back there.
    /// </summary>
    private bool StillHolds(ResilientCall call, Stamped<TResult> last, out bool unreadable)
    {
        unreadable = false;
        try
        {
            var stamps = StampsFor(call.Cache, call.Host);
            return Stamping.HolderOf(call.Cache).TryGet<Stamped<TResult>>(call.Key, out var now, _options.Namespace, stamps)
                && Stamping.IsSameEntry(last, now?.ForRead(), stamps.Inner);
        }
        catch (Exception ex) when (IsFault(ex, CancellationToken.None))
        {
            ReadFailed(call.Cache, ex, call.Key);
            unreadable = true;
            return false;
        }
    }

    /// <inheritdoc cref="StillHolds"/>
    private async ValueTask<(bool Holds, bool Unreadable)> StillHoldsAsync(ResilientCall call, Stamped<TResult> last)
    {
        try
        {
            var stamps = StampsFor(call.Cache, call.Host);
            var now = await Stamping.HolderOf(call.Cache).TryGetAsync<Stamped<TResult>>(call.Key, _options.Namespace, stamps, CancellationToken.None).ConfigureAwait(false);
            return (now.Found && Stamping.IsSameEntry(last, now.Value?.ForRead(), stamps.Inner), false);
        }
        catch (Exception ex) when (IsFault(ex, CancellationToken.None))
        {
            ReadFailed(call.Cache, ex, call.Key);
            return (false, true);
        }
    }

    /// <summary>
    /// A caller that waited on an eager refresh whose factory failed, and serves its own last value: the refresh started
    /// from a fresh hit, so it had no last value to make fresh for the throttle, and this caller does it as a leader
    /// would (through a fill of its own, over the entry it read alone), so that the failing source is not called again
    /// by the next call. Not for an entry with tags, whose versions a caller that ran no factory has not observed.
    /// </summary>
    private void ThrottleAfterFailedRefresh(ResilientCall call, Flight flight)
    {
        // The flight failed (a cancelled one hands over instead): an OperationCanceledException here is the factory's own, a timeout.
        if (!flight.IsRefresh || call.Last is not { } last || call.Policy.Tagged || call.Host.Background.IsStopping || CacheScope.IsWriteSkipped)
        {
            return;
        }

        var fill = OpenFill(call.Cache, call.Key);
        try
        {
            Throttle(call, last, fill);
        }
        finally
        {
            fill.Dispose();
        }
    }

    /// <inheritdoc cref="ThrottleAfterFailedRefresh"/>
    private async ValueTask ThrottleAfterFailedRefreshAsync(ResilientCall call, Flight flight)
    {
        // The flight failed (a cancelled one hands over instead): an OperationCanceledException here is the factory's own, a timeout.
        if (!flight.IsRefresh || call.Last is not { } last || call.Policy.Tagged || call.Host.Background.IsStopping || CacheScope.IsWriteSkipped)
        {
            return;
        }

        var fill = await OpenFillAsync(call.Cache, call.Key, CancellationToken.None).ConfigureAwait(false);
        try
        {
            await ThrottleAsync(call, last, fill).ConfigureAwait(false);
        }
        finally
        {
            fill.Dispose();
        }
    }

    /// <inheritdoc cref="Throttle"/>
    private async ValueTask ThrottleAsync(ResilientCall call, Stamped<TResult> last, LeaderFill fill)
    {
        if (CacheScope.IsWriteSkipped)
        {
            return;
        }

        var (throttled, ttl) = Stamping.Throttle(last, call.Policy, call.Host.Clock, call.Observed);
        var (holds, unreadable) = throttled is null ? default : await StillHoldsAsync(call, last).ConfigureAwait(false);
        if (holds && await RetainTagsAsync(call, ttl).ConfigureAwait(false) == true)
        {
            await WriteAsync(call.Cache, call.Key, throttled!, fill, ttl, StampsFor(call.Cache, call.Host), CancellationToken.None).ConfigureAwait(false);
            Throttled(call.Key);
        }
        else if (unreadable)
        {
            ThrottleInL1(call, last, throttled!, ttl);
            Throttled(call.Key);
        }
    }
}
