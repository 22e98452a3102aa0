using System.Runtime.CompilerServices;
using Cached.Capabilities;
using Cached.Resilience;

namespace Cached.Runtime;

/// <summary>
/// The resilient read-through (<see cref="CacheEntryOptions"/>): stamped entries, fail-safe, soft and hard timeouts and
/// eager refresh, for sync calls. A miss boards a flight as on the plain path, but the flight's factory runs on its own
/// (<see cref="Run"/>) and every caller, leader or not, waits for it with its own timeout and its own last value.
/// </summary>
public sealed partial class CachedMethod<TResult>
{
    private StampSerializer<TResult>? _stamps;

    /// <summary>
    /// A stamped payload as a hit: true while it is fresh; <paramref name="refresh"/> tells that the hit is past the
    /// eager-refresh point. <paramref name="now"/> is the timestamp the reader read on <paramref name="readerClock"/>
    /// (0 for none): on the stamp's own clock it is reused, so the check reads no clock. Kept out of line, so the plain
    /// span read it sits in stays small enough to inline.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool TryTakeFresh(Stamped<TResult> stamped, long now, long coarseTick, TimeProvider? readerClock, in EntryPolicy policy, out TResult value, out bool refresh)
    {
        // The tick the store read to prove its entry live, if it read one, proves the stamp fresh just as well: a
        // reading taken nanoseconds earlier only lags more, well within the coarse clock's slack.
        if (stamped.IsCertainlyFreshAt(coarseTick != 0 ? coarseTick : Memory.CoarseClock.Now) && (stamped.Tags is null || stamped.Tags.IsCurrent))
        {
            // Certainly fresh and not yet due: no precise clock needed (see CoarseClock). No bound, no coarse read.
            value = stamped.Value;
            refresh = false;
            return true;
        }

        if (now == 0 || !ReferenceEquals(readerClock, stamped.Clock))
        {
            now = stamped.Clock.GetTimestamp();
        }

        if (!stamped.IsFreshAt(now, out var due))
        {
            value = default!;
            refresh = false;
            return false;
        }

        value = stamped.Value;
        refresh = due && policy.EagerRefresh is not null;
        return true;
    }

    /// <summary>The cache's serializer, carrying stamps; made again only when the cache or its serializer changes.</summary>
    private StampSerializer<TResult> StampsFor(ICache cache, ReadThroughs host) => StampSerializer<TResult>.For(ref _stamps, cache, host.Clock);

    /// <summary>The stamp serializer of a read whose tag tokens are read beside it, so that it checks them as it decodes.</summary>
    private StampSerializer<TResult> StampsBeside(ResilientCall call, Task<long[]>? tagRead)
        => tagRead is null
            ? StampsFor(call.Cache, call.Host)
            : StampsFor(call.Cache, call.Host).CheckingWith(Tags.TagStore.Of(call.Cache), call.TagNames!, tagRead);

    /// <summary>
    /// The read of a resilient call: true with the value on a fresh hit; otherwise false, with the stale entry still
    /// kept by the backend (fail-safe's last value) when there is one. A fault is logged and reads as a miss.
    /// </summary>
    private bool TryReadResilient(ResilientCall call, out TResult value, out bool refresh, out bool faulted)
    {
        refresh = false;
        faulted = false;
        var policy = call.Policy;
        if (!policy.Stamps)
        {
            return TryRead(call.Cache, call.Key, out value!, out faulted);
        }

        Task<long[]>? tagRead = null;
        try
        {
            tagRead = StartTagRead(call);
            var found = call.Cache.TryGet<Stamped<TResult>>(call.Key, out var stamped, _options.Namespace, StampsBeside(call, tagRead));
            NoteAnswer(call.Cache);
            stamped = stamped?.ForRead();
            if (found && stamped?.Tags is { } tags && (tags.NeedsCheck || tagRead is not null))
            {
                (var read, tagRead) = (tagRead, null);
                CheckTags(call, tags, read);
            }

            if (found && stamped is not null)
            {
                if (CanAnswer(call, stamped) && TryTakeFresh(stamped, now: 0, coarseTick: 0, readerClock: null, in policy, out value, out refresh))
                {
                    call.HitThrottled = stamped.Throttled;
                    return true;
                }

                // Only fail-safe keeps a last value to answer with: a call without it that stamps entries (eager
                // refresh, tags) may find another call's stale entry, which is no answer for its timeouts either.
                if (policy.FailSafe is not null)
                {
                    call.Last = stamped;
                }
            }

            if (tagRead is not null)
            {
                // A miss: the versions read beside it are what the factory will be computed under.
                (var read, tagRead) = (tagRead, null);
                call.Prefetched = read.GetAwaiter().GetResult();
            }
        }
        catch (Exception ex) when (IsFault(ex, CancellationToken.None))
        {
            ReadFailed(call.Cache, ex, call.Key);
            faulted = true;
        }
        finally
        {
            Forget(tagRead);
        }

        value = default!;
        return false;
    }

    private TResult InvokeResilient<TState>(ICache cache, string key, TState state, Func<TState, TResult> body, Func<TState, TResult, bool>? skipWhen, long? knownMiss, in EntryPolicy policy)
    {
        var call = new ResilientCall<TState>(cache, ReadThroughs.Of(cache), key, state, policy) { SyncBody = body, SkipWhen = skipWhen };
        long? seen = knownMiss;
        if (!CacheScope.IsReadSkipped && knownMiss is null)
        {
            var completions = _completions.Note();
            if (TryReadResilient(call, out var hit, out var refresh, out var faulted))
            {
                if (refresh)
                {
                    StartRefresh(cache, key, state, body, skipWhen, completions, hit, in policy);
                }

                return hit;
            }

            seen = faulted ? null : completions;
        }

        ThrowIfOwnKeyInScope(key);
        var startedOver = false;
        while (true)
        {
            var flight = new Flight(key);
            var leader = Board(flight);
            if (leader == flight)
            {
                call.Flight = flight;
                call.Seen = seen;
                if (policy.WaitFor(call.Last is not null) is null)
                {
                    Run(call);
                }
                else
                {
                    // A caller may stop waiting: the factory runs on the pool, so it goes on when the caller leaves.
                    _ = Task.Run(() => Run(call));
                }
            }

            TResult value;
            bool fromFlight;
            if (leader != flight)
            {
                ThrowIfOwnFlight(key, blocks: true);

                // Counted for good: this caller cannot cancel, so an async leader that leaves no longer stops the factory.
                if (!leader.TryJoin(CancellationToken.None, out _))
                {
                    // Every caller left it just now: a new flight.
                    continue;
                }
            }

            try
            {
                value = Await(call, leader, out fromFlight);
            }
            catch (OperationCanceledException) when (leader != flight && leader.Task.IsCanceled && !call.Host.Background.IsStopping)
            {
                // An async leader (GetOrSetAsync) whose factory stopped by its token before this caller joined; this
                // caller has none: take over. Not when the cache's dispose ended it: that ends this caller too.
                continue;
            }

            if (fromFlight && leader != flight && leader.Stale && !startedOver)
            {
                // An invalidation overtook that flight, perhaps before this call began: compute anew, once.
                startedOver = true;
                seen = null;
                continue;
            }

            return value;
        }
    }

    /// <summary>
    /// Runs the factory of a flight: the lease, the fence, the call, the stamped write. On a failure with a last value
    /// and fail-safe, the last value is made fresh again for the throttle before the flight fails, so the callers that
    /// serve it are followed by hits, not by more calls of a failing source. Never throws: the outcome is the flight's.
    /// </summary>
    private void Run<TState>(ResilientCall<TState> call)
    {
        var (cache, key, flight) = (call.Cache, call.Key, call.Flight!);
        string? token = null;
        LeaderFill fill = default;
        call.NoteEpoch();
        try
        {
            if (call.Policy.Lease is { } lease && cache is ILockingCache locks)
            {
                if (call.Refreshing)
                {
                    if (TryLeaseForRefresh(cache, locks, key, lease, out token) == LockAttempt.Held)
                    {
                        // Another process holds the lease and is refreshing this key.
                        SkipRefresh(call);
                        return;
                    }
                }
                else
                {
                    (var found, var value, token) = WaitForLease(cache, locks, key, lease, call);
                    if (found)
                    {
                        Finish(call, value!, current: true);
                        return;
                    }
                }
            }
            else if (call.Seen is { } before && _completions.MayHaveStored(key, before) && TryReadResilient(call, out var stored, out _, out _))
            {
                Finish(call, stored!, current: true);
                return;
            }

            var tagged = ObserveTags(call);
            fill = OpenFill(cache, key);
            flight.NoteFill(in fill);
            // A refresh is noted as a body too: once the entry it refreshes is gone, its call for its key would join its own flight.
            var result = RunBody(key, call.SyncBody!, call.State);
            var current = true;
            if (tagged && ShouldStore(call, result))
            {
                current = Store(call, result, fill);
                _completions.Record(key);
            }

            if (current || !TryFinishWithStandingValue(call, result))
            {
                Finish(call, result, current);
            }
        }
        catch (Exception ex)
        {
            // A factory cancelled through its token did not fail: its last value is not made fresh again.
            if (call.Last is { } last && call.Policy.FailSafe is not null && !call.Host.Background.IsStopping && !call.Cancelled(ex))
            {
                Throttle(call, last, fill);
            }

            Failed(call, ex);
        }
        finally
        {
            fill.Dispose();
            if (token is not null)
            {
                Release((ILockingCache)cache, key, token);
            }
        }
    }

    /// <summary>Waits for a flight as <paramref name="call"/>'s caller: its timeout, then its last value.</summary>
    private TResult Await(ResilientCall call, Flight flight, out bool fromFlight)
    {
        fromFlight = true;
        var wait = call.Policy.WaitFor(call.Last is not null);
        var elapsed = TimeSpan.Zero;
        while (true)
        {
            try
            {
                if (wait is { } timeout && !flight.Task.IsCompleted)
                {
                    flight.Task.WaitAsync(timeout - elapsed, call.Host.Clock).GetAwaiter().GetResult();
                }

                return flight.Task.GetAwaiter().GetResult();
            }
            catch (TimeoutException) when (wait is not null && !flight.Task.IsFaulted)
            {
                if (flight.Task.IsCompletedSuccessfully)
                {
                    return flight.Task.Result;
                }

                if (WaitsOn(call, wait.Value, out var longer))
                {
                    (elapsed, wait) = (wait.Value, longer);
                    continue;
                }

                fromFlight = false;
                return TimedOut(call, flight, wait.Value);
            }
            catch (Exception ex) when (flight.Task.IsFaulted && call.Policy.FailSafe is not null && call.KeptLast is not null)
            {
                fromFlight = false;
                ThrottleAfterFailedRefresh(call, flight);
                return ServeLast(call, ex);
            }
        }
    }

    /// <summary>
    /// Whether a caller whose wait of <paramref name="waited"/> ran out waits on, and until when (<paramref name="wait"/>,
    /// from the start; <c>null</c> for as long as it takes): the soft timeout passed, but the last value's fail-safe
    /// window ended meanwhile, so there is nothing to answer with and the caller waits as one without a last value would.
    /// </summary>
    private static bool WaitsOn(ResilientCall call, TimeSpan waited, out TimeSpan? wait)
    {
        wait = call.Policy.HardTimeout;
        return call.Last is not null && call.KeptLast is null && wait != waited;
    }

    /// <summary>A caller's wait ran out: the last value if fail-safe still keeps it, else a <see cref="TimeoutException"/>.</summary>
    private TResult TimedOut(ResilientCall call, Flight flight, TimeSpan waited)
    {
        flight.Detached = true;
        var last = call.KeptLast;
        var soft = last is not null && call.Policy.SoftTimeout == waited;
        var alias = LogAlias;
        ResilienceTelemetry.TimedOut(soft, alias, _options.Method);
        if (last is not null)
        {
            ResilienceTelemetry.StaleServed(alias, _options.Method);
            Log.FactoryTimedOut(CachedLogging.Logger, call.Key, _options.Method, alias, waited, "the call is answered with the last value");
            return last.Value;
        }

        Log.FactoryTimedOut(CachedLogging.Logger, call.Key, _options.Method, alias, waited, "the call fails with a TimeoutException");
        throw new TimeoutException($"The factory of key '{call.Key}' of {_options.Method} did not answer within {waited} and there is no last value to answer with. It goes on in the background and stores its result.");
    }

    /// <summary>The factory failed and fail-safe has a last value: the caller gets it, and the failure is logged.</summary>
    private TResult ServeLast(ResilientCall call, Exception exception)
    {
        var alias = LogAlias;
        ResilienceTelemetry.StaleServed(alias, _options.Method);
        Log.FailSafeServed(CachedLogging.Logger, exception, call.Key, _options.Method, alias, call.Policy.FailSafeThrottle);
        return call.Last!.Value;
    }

    private static bool ShouldStore<TState>(ResilientCall<TState> call, TResult result)
        => !call.Host.Background.IsStopping && !CacheScope.IsWriteSkipped && (call.SkipWhen is null || !call.SkipWhen(call.State, result));

    /// <summary>Ends a flight with a value: off the board, then the fence's last word, then the waiters.</summary>
    private void Finish(ResilientCall call, TResult value, bool current)
    {
        var flight = call.Flight!;
        Land(flight);
        flight.Stale = !current || flight.IsOvertaken || call.TagsOvertaken;
        flight.TrySetResult(value);
    }

    /// <summary>
    /// Ends a flight whose fill was refused with the fresh value the cache now holds, if any, for every caller (see
    /// <see cref="TryTakeStandingValue"/>); false when there is none, and the flight then ends stale with its own result.
    /// A throttled last value (another process's factory failed and kept the old value for the throttle) is older than
    /// <paramref name="result"/>: every caller gets the result.
    /// </summary>
    private bool TryFinishWithStandingValue(ResilientCall call, TResult result)
    {
        Land(call.Flight!);
        if (CacheScope.IsReadSkipped || !TryReadResilient(call, out var standing, out _, out _))
        {
            return false;
        }

        // Not stale either way: the waiters take this value rather than compute anew.
        call.Flight!.TrySetResult(call.HitThrottled ? result : standing);
        return true;
    }

    /// <summary>An eager refresh that another process's lease makes needless: the flight ends with the value at hand.</summary>
    private void SkipRefresh(ResilientCall call) => SkipRefresh(call.Flight!, call.Current);

    /// <summary>Ends a flight whose factory threw; failures nobody waits for are logged and counted here.</summary>
    private void Failed(ResilientCall call, Exception exception)
    {
        var flight = call.Flight!;
        Land(flight);
        // A factory cancelled through its token (its caller's, or the cache's dispose) did not fail.
        var cancelled = exception is OperationCanceledException && call.FactoryToken.IsCancellationRequested;
        if ((call.Refreshing || flight.Detached) && !cancelled)
        {
            var alias = LogAlias;
            ResilienceTelemetry.BackgroundFailed(alias, _options.Method);
            Log.BackgroundFailed(CachedLogging.Logger, exception, call.Key, _options.Method, alias);
        }

        Fail(flight, exception, call.FactoryToken);
    }

    /// <summary>Stores a factory's result: stamped when the policy asks for it, plain otherwise. False when the fence refused it.</summary>
    private bool Store(ResilientCall call, TResult result, LeaderFill fill)
    {
        if (!call.Policy.Stamps)
        {
            return Write(call.Cache, call.Key, result, fill, call.Policy.Ttl, serializer: null);
        }

        var stamped = Stamping.Stamp(call.Cache, call.Host.Clock, call.Policy, result, call.Observed, out var ttl);
        // Not stored either way when the tags could not be kept; only a moved tag makes the flight stale.
        var kept = RetainTags(call, ttl);
        return kept == true ? Write(call.Cache, call.Key, stamped, fill, ttl, StampsFor(call.Cache, call.Host)) : kept is null;
    }

    /// <summary>
    /// Keeps the tag records as long as the entry about to be stored: true to store it; false when a tag's version
    /// moved since it was observed (the value is not stored, and callers who joined compute anew); <c>null</c> on a
    /// fault (logged; not stored either).
    /// </summary>
    private bool? RetainTags(ResilientCall call, TimeSpan? ttl)
    {
        try
        {
            return call.Observed is not { } observed || Tags.TagStore.Of(call.Cache).Retain(observed, LifeOf(ttl));
        }
        catch (Exception ex) when (IsFault(ex, CancellationToken.None))
        {
            WriteFailed(call.Cache, ex, call.Key);
            return null;
        }
    }
}
