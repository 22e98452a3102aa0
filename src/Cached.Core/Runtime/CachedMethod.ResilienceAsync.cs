using Cached.Capabilities;
using Cached.Resilience;
using Cached.Pipeline;

namespace Cached.Runtime;

/// <summary>The resilient read-through for async calls; see <c>CachedMethod.Resilience.cs</c> for the rules.</summary>
public sealed partial class CachedMethod<TResult>
{
    /// <inheritdoc cref="TryFinishWithStandingValue"/>
    private async ValueTask<bool> TryFinishWithStandingValueAsync(ResilientCall call, TResult result)
    {
        Land(call.Flight!);
        if (CacheScope.IsReadSkipped)
        {
            return false;
        }

        // Without the callers' token, as the write before it: the flight's outcome must not depend on who left.
        var (found, standing, _, _) = await TryReadResilientAsync(call, CancellationToken.None).ConfigureAwait(false);
        if (!found)
        {
            return false;
        }

        // Not stale either way: the waiters take this value rather than compute anew.
        call.Flight!.TrySetResult(call.HitThrottled ? result : standing);
        return true;
    }

    /// <inheritdoc cref="TryReadResilient"/>
    private async ValueTask<(bool Found, TResult Value, bool Refresh, bool Faulted)> TryReadResilientAsync(ResilientCall call, CancellationToken cancellationToken)
    {
        var policy = call.Policy;
        Task<long[]>? tagRead = null;
        try
        {
            if (!policy.Stamps)
            {
                var plain = await StartRead(call.Cache, call.Key, cancellationToken).ConfigureAwait(false);
                NoteAnswer(call.Cache);
                return (plain.Found, plain.Value!, false, false);
            }

            tagRead = StartTagRead(call);
            var read = await StartRead<Stamped<TResult>>(call.Cache, call.Key, StampsBeside(call, tagRead), cancellationToken).ConfigureAwait(false);
            NoteAnswer(call.Cache);
            if (read is { Found: true, Value: { } kept })
            {
                read = CacheResult<Stamped<TResult>>.Hit(kept.ForRead());
            }

            // Checked as it was decoded, with the tokens read beside it: this keeps them for the factory.
            if (read.Value?.Tags is { } tags && (tags.NeedsCheck || tagRead is not null))
            {
                (var tokens, tagRead) = (tagRead, null);
                await CheckTagsAsync(call, tags, tokens, cancellationToken).ConfigureAwait(false);
            }

            if (read is { Found: true, Value: { } stamped })
            {
                if (CanAnswer(call, stamped) && TryTakeFresh(stamped, now: 0, coarseTick: 0, readerClock: null, in policy, out var value, out var refresh))
                {
                    call.HitThrottled = stamped.Throttled;
                    return (true, value, refresh, false);
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
                (var tokens, tagRead) = (tagRead, null);
                call.Prefetched = await AwaitTokens(tokens, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsFault(ex, cancellationToken))
        {
            ReadFailed(call.Cache, ex, call.Key);
            return (false, default!, false, true);
        }
        finally
        {
            Forget(tagRead);
        }

        return (false, default!, false, false);
    }

    private async ValueTask<TResult> InvokeResilientAsync<TState>(ICache cache, string key, TState state, Func<TState, CancellationToken, ValueTask<TResult>> body, Func<TState, TResult, bool>? skipWhen, long? knownMiss, EntryPolicy policy, CancellationToken cancellationToken)
    {
        var call = new ResilientCall<TState>(cache, ReadThroughs.Of(cache), key, state, policy) { AsyncBody = body, SkipWhen = skipWhen };
        var seen = knownMiss;
        if (!CacheScope.IsReadSkipped && knownMiss is null)
        {
            var completions = _completions.Note();
            var (found, hit, refresh, faulted) = await TryReadResilientAsync(call, cancellationToken).ConfigureAwait(false);
            if (found)
            {
                if (refresh)
                {
                    StartRefresh(cache, key, state, body, skipWhen, completions, hit, in policy);
                }

                return hit;
            }

            seen = faulted ? null : completions;
        }

        var startedOver = false;
        while (true)
        {
            var flight = new Flight(key);
            var leader = Board(flight);
            CancellationTokenRegistration waiting;
            if (leader == flight)
            {
                // The factory stops with the cache, and once every caller waiting for it has cancelled its token (a
                // caller that left at a timeout has not, and keeps it going).
                var factoryToken = CancellationTokenSource.CreateLinkedTokenSource(call.Host.Background.Stopping);
                flight.UseFactory(factoryToken);
                // Once the factory's token cancels, nobody waits for it any more (every caller left, or the cache was
                // disposed, which ends every caller waiting): the flight ends then, even if the factory ignores its token.
                // The registration goes with the token source, which the factory's run disposes.
                factoryToken.Token.UnsafeRegister(static (state, token) => ((Flight)state!).TrySetCanceled(token), flight);
                waiting = flight.Lead(cancellationToken);
                call.Flight = flight;
                call.Seen = seen;
                call.FactoryToken = factoryToken.Token;
                _ = RunAsync(call, factoryToken);
            }
            else
            {
                ThrowIfOwnFlight(key, blocks: false);
                if (!leader.TryJoin(cancellationToken, out waiting))
                {
                    // Every caller left it just now: a new flight.
                    continue;
                }
            }

            try
            {
                var (value, fromFlight) = await AwaitAsync(call, leader, cancellationToken).ConfigureAwait(false);
                if (fromFlight && leader != flight && leader.Stale && !startedOver)
                {
                    startedOver = true;
                    seen = null;
                    continue;
                }

                return value;
            }
            catch (OperationCanceledException) when (leader.Task.IsCanceled && !cancellationToken.IsCancellationRequested && !call.Host.Background.IsStopping)
            {
                // Every caller that waited for it cancelled, and its factory stopped; not ours: take over. Not when the
                // cache's dispose stopped it: a new flight's factory would stop at once, and the caller would wait on.
                continue;
            }
            finally
            {
                leader.EndWait(waiting, cancellationToken);
            }
        }
    }

    /// <inheritdoc cref="Run"/>
    private async Task RunAsync<TState>(ResilientCall<TState> call, CancellationTokenSource? factoryToken)
    {
        var (cache, key, flight) = (call.Cache, call.Key, call.Flight!);
        var token = call.FactoryToken;
        string? lockToken = null;
        LeaderFill fill = default;
        call.NoteEpoch();
        try
        {
            if (call.Policy.Lease is { } lease && cache is ILockingCache locks)
            {
                if (call.Refreshing)
                {
                    (var attempt, lockToken) = await TryLeaseForRefreshAsync(cache, locks, key, lease, token).ConfigureAwait(false);
                    if (attempt == LockAttempt.Held)
                    {
                        SkipRefresh(call);
                        return;
                    }
                }
                else
                {
                    (var found, var value, lockToken) = await WaitForLeaseAsync(cache, locks, key, lease, call, token).ConfigureAwait(false);
                    if (found)
                    {
                        Finish(call, value!, current: true);
                        return;
                    }
                }
            }
            else if (call.Seen is { } before && _completions.MayHaveStored(key, before))
            {
                var (found, stored, _, _) = await TryReadResilientAsync(call, token).ConfigureAwait(false);
                if (found)
                {
                    Finish(call, stored, current: true);
                    return;
                }
            }

            var tagged = await ObserveTagsAsync(call, token).ConfigureAwait(false);
            fill = await OpenFillAsync(cache, key, token).ConfigureAwait(false);
            flight.NoteFill(in fill);
            // A refresh is noted as a body too: once the entry it refreshes is gone, its call for its key would join its own flight.
            // The note is the body's from the moment it starts, so one that throws at once lets go of it too.
            RunningBodies.Frame? frame = null;
            TResult result;
            try
            {
                result = await StartBody(key, flight, call.AsyncBody!, call.State, token, out frame).ConfigureAwait(false);
            }
            finally
            {
                frame?.End();
            }

            var current = true;
            if (tagged && ShouldStore(call, result))
            {
                current = await StoreAsync(call, result, fill).ConfigureAwait(false);
                _completions.Record(key);
            }

            if (current || !await TryFinishWithStandingValueAsync(call, result).ConfigureAwait(false))
            {
                Finish(call, result, current);
            }
        }
        catch (Exception ex)
        {
            // A factory cancelled through its token did not fail: its last value is not made fresh again.
            if (call.Last is { } last && call.Policy.FailSafe is not null && !call.Host.Background.IsStopping && !call.Cancelled(ex))
            {
                await ThrottleAsync(call, last, fill).ConfigureAwait(false);
            }

            Failed(call, ex);
        }
        finally
        {
            fill.Dispose();
            if (lockToken is not null)
            {
                await ReleaseAsync((ILockingCache)cache, key, lockToken).ConfigureAwait(false);
            }

            factoryToken?.Dispose();
        }
    }

    /// <inheritdoc cref="Await"/>
    private async ValueTask<(TResult Value, bool FromFlight)> AwaitAsync(ResilientCall call, Flight flight, CancellationToken cancellationToken)
    {
        var wait = call.Policy.WaitFor(call.Last is not null);
        var elapsed = TimeSpan.Zero;
        while (true)
        {
            try
            {
                var value = wait is { } timeout
                    ? await TokenWait.WaitAsync(flight.Task, timeout - elapsed, call.Host.Clock, cancellationToken).ConfigureAwait(false)
                    : await TokenWait.WaitAsync(flight.Task, cancellationToken).ConfigureAwait(false);
                return (value, true);
            }
            catch (TimeoutException) when (wait is not null && !flight.Task.IsFaulted)
            {
                if (flight.Task.IsCompletedSuccessfully)
                {
                    return (flight.Task.Result, true);
                }

                if (WaitsOn(call, wait.Value, out var longer))
                {
                    (elapsed, wait) = (wait.Value, longer);
                    continue;
                }

                return (TimedOut(call, flight, wait.Value), false);
            }
            catch (Exception ex) when (flight.Task.IsFaulted && call.Policy.FailSafe is not null && call.KeptLast is not null)
            {
                await ThrottleAfterFailedRefreshAsync(call, flight).ConfigureAwait(false);
                return (ServeLast(call, ex), false);
            }
        }
    }

    /// <inheritdoc cref="Store"/>
    private ValueTask<bool> StoreAsync(ResilientCall call, TResult result, LeaderFill fill)
    {
        // The write runs with no caller's token: a caller that left must not stop the value it waited for from landing.
        if (!call.Policy.Stamps)
        {
            return WriteAsync(call.Cache, call.Key, result, fill, call.Policy.Ttl, serializer: null, CancellationToken.None);
        }

        return StoreStampedAsync(call, result, fill);
    }

    private async ValueTask<bool> StoreStampedAsync(ResilientCall call, TResult result, LeaderFill fill)
    {
        var stamped = Stamping.Stamp(call.Cache, call.Host.Clock, call.Policy, result, call.Observed, out var ttl);
        var kept = await RetainTagsAsync(call, ttl).ConfigureAwait(false);
        return kept == true
            ? await WriteAsync(call.Cache, call.Key, stamped, fill, ttl, StampsFor(call.Cache, call.Host), CancellationToken.None).ConfigureAwait(false)
            : kept is null;
    }

    /// <inheritdoc cref="RetainTags"/>
    private async ValueTask<bool?> RetainTagsAsync(ResilientCall call, TimeSpan? ttl)
    {
        try
        {
            return call.Observed is not { } observed
                || await Tags.TagStore.Of(call.Cache).RetainAsync(observed, LifeOf(ttl), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsFault(ex, CancellationToken.None))
        {
            WriteFailed(call.Cache, ex, call.Key);
            return null;
        }
    }
}
