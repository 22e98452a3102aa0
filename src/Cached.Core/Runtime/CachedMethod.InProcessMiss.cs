using Cached.Capabilities;
using System.Runtime.CompilerServices;
using Cached.Resilience;
using Cached.Pipeline;

namespace Cached.Runtime;

/// <summary>The async miss of a leader on a store in this process, with no async frame when its body completes at once.</summary>
public sealed partial class CachedMethod<TResult>
{
    /// <summary>
    /// A miss of an async method. On a store in this process (<see cref="BaseCache.OpensFillsInProcess"/>) without a
    /// lease, the leader's steps before its body (boarding, the second read, the fill) never wait, so they run here; a
    /// body that completes at once is stored and returned the same way, as the sync path does, with no async frame. A
    /// body still running goes on in <see cref="FinishLeadAsync"/> and <see cref="SettleAsync"/>. On any other cache
    /// the leader boards here and goes on in <see cref="LeadAsync"/>, which awaits each step and settles the flight. A caller that finds a
    /// flight in the air, or whose token can cancel, takes <see cref="FlyAsync"/>.
    /// </summary>
    private ValueTask<TResult> MissAsync<TState>(ICache cache, string key, TState state, Func<TState, CancellationToken, ValueTask<TResult>> body, Func<TState, TResult, bool>? skipWhen, long? seen, FillPolicy policy, FillTicket? opened, CancellationToken cancellationToken)
    {
        // A caller that can cancel leads through FlyAsync, which runs the body under the flight's own token.
        if (cancellationToken.CanBeCanceled)
        {
            return FlyAsync(cache, key, state, body, skipWhen, seen, policy, opened, cancellationToken);
        }

        var flight = new Flight(key);
        if (Board(flight) != flight)
        {
            // Nothing boarded: FlyAsync boards again and joins the flight in the air, or leads if it has landed.
            return FlyAsync(cache, key, state, body, skipWhen, seen, policy, opened, cancellationToken);
        }

        if (policy.Lease is not null || cache is not BaseCache { OpensFillsInProcess: true })
        {
            // The leader's steps wait (the lease, a read, the fill's round trips): LeadAsync awaits each and hands its
            // outcome over itself, without FlyAsync's frame, or any other, around it.
            return LeadAsync(cache, key, state, body, skipWhen, seen, flight, policy, FillAfterBoarding(flight, opened), cancellationToken);
        }

        // Only a two-level cache's read opens a fill (MultiLevelCache.TryGetOrOpenFillAsync), and its fills are not in
        // this process: nothing to forgo here but a ticket a cache of another kind would hand over.
        opened?.Forgo();

        // From here the flight is on the board: whatever happens, SettleAsync (or the lines below it) lands it and hands
        // its outcome to the passengers. An exception goes the same way as from a body, so that a cancellation still
        // ends the call as cancelled, as an async method's would.
        LeaderFill fill = default;
        ValueTask<TResult> pending;
        RunningBodies.Frame? frame = null;
        try
        {
            if (seen is { } before && _completions.MayHaveStored(key, before) && TryRead(cache, key, out var stored, out _))
            {
                // A leader that finished between our read and our flight has stored the value: no second call.
                flight.TrySetResult(stored!);
                Land(flight);
                return new ValueTask<TResult>(stored!);
            }

            fill = OpenFill(cache, key);
            flight.NoteFill(in fill);
            pending = StartBody(key, flight, body, state, cancellationToken, out frame);
        }
        catch (Exception ex)
        {
            pending = ValueTask.FromException<TResult>(ex);
        }

        if (!pending.IsCompleted)
        {
            return SettleAsync(FinishLeadAsync(pending, frame, cache, key, state, skipWhen, flight, fill, policy), key, flight, cancellationToken);
        }

        frame?.End();
        if (!pending.IsCompletedSuccessfully)
        {
            return SettleAsync(FinishLeadAsync(pending, frame: null, cache, key, state, skipWhen, flight, fill, policy), key, flight, cancellationToken);
        }

        TResult result;
        try
        {
            result = LandLed(cache, key, state, skipWhen, flight, in fill, policy, pending.Result);
        }
        catch (Exception ex)
        {
            // A skip rule threw (or a log did): settled as FlyAsync settles it.
            fill.Dispose();
            return SettleAsync(ValueTask.FromException<TResult>(ex), key, flight, cancellationToken);
        }

        fill.Dispose();
        flight.TrySetResult(result);
        return new ValueTask<TResult>(result);
    }

    /// <summary>The rest of a <see cref="MissAsync"/> leader whose body is still running: its await, then the same steps.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // awaited once, by SettleAsync
    private async ValueTask<TResult> FinishLeadAsync<TState>(ValueTask<TResult> pending, RunningBodies.Frame? frame, ICache cache, string key, TState state, Func<TState, TResult, bool>? skipWhen, Flight flight, LeaderFill fill, FillPolicy policy)
    {
        try
        {
            TResult result;
            try
            {
                result = await pending.ConfigureAwait(false);
            }
            finally
            {
                frame?.End();
            }

            return LandLed(cache, key, state, skipWhen, flight, in fill, policy, result);
        }
        finally
        {
            fill.Dispose();
        }
    }

    /// <summary>
    /// A leader whose caller can cancel: the body runs under a token of the flight's own, which ends only once every
    /// caller waiting for the flight has cancelled (<see cref="Flight.UseFactory"/>), and this caller waits for it with
    /// its own token. So a cancelled caller leaves at once, even if the body ignores its token, and the body goes on for
    /// the callers still waiting, storing its result, instead of being cancelled under them and run again.
    /// </summary>
    private async ValueTask<TResult> LeadForAllAsync<TState>(ICache cache, string key, TState state, Func<TState, CancellationToken, ValueTask<TResult>> body, Func<TState, TResult, bool>? skipWhen, long? seen, Flight flight, FillPolicy policy, FillTicket? opened, CancellationToken cancellationToken)
    {
        // Never disposed: it has no timer and no link, and a late caller leaving may still cancel it.
        var factory = new CancellationTokenSource();
        flight.UseFactory(factory);
        var leading = flight.Lead(cancellationToken);
        try
        {
            var lead = LeadAsync(cache, key, state, body, skipWhen, seen, flight, policy, opened, factory.Token);
            if (lead.IsCompleted)
            {
                return await lead.ConfigureAwait(false);
            }

            var settling = lead.AsTask();
            try
            {
                return await TokenWait.WaitAsync(settling, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // This caller leaves; the body's outcome, which its waiters see through the flight, is observed here
                // (a body that failed just after the wait ended included).
                if (!settling.IsCompletedSuccessfully)
                {
                    _ = settling.ContinueWith(static task => _ = task.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }

                throw;
            }
        }
        finally
        {
            flight.EndWait(leading, cancellationToken);
        }
    }

    /// <summary>A leader's outcome handed to its flight's passengers, and the flight off the board whatever happens.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // awaited once, by FlyAsync or the method's caller
    private async ValueTask<TResult> SettleAsync(ValueTask<TResult> lead, string key, Flight flight, CancellationToken cancellationToken)
    {
        try
        {
            var value = await lead.ConfigureAwait(false);
            flight.TrySetResult(value);
            return value;
        }
        catch (Exception ex)
        {
            Fail(flight, ex, cancellationToken);
            throw;
        }
        finally
        {
            Land(flight);
        }
    }

    /// <summary>
    /// A leader's result stored through its fill (unless skipped), the flight off the board, and whether it went stale:
    /// what <see cref="LeadAsync"/> does after its body, for the sync path and a store in this process, whose write never waits.
    /// </summary>
    /// <returns>What the flight answers with: the result, or the value that stands if the fill was refused (<see cref="TryTakeStandingValue"/>).</returns>
    private TResult LandLed<TState>(ICache cache, string key, TState state, Func<TState, TResult, bool>? skipWhen, Flight flight, in LeaderFill fill, FillPolicy policy, TResult result)
    {
        var current = true;
        if (!CacheScope.IsWriteSkipped && (skipWhen is null || !skipWhen(state, result)))
        {
            current = Write(cache, key, result, in fill, policy.Ttl, serializer: null);
            _completions.Record(key);
        }

        // Off the board before the last look at the fence: a caller that boards later cannot have missed it.
        Land(flight);
        if (!current && TryTakeStandingValue(cache, key, out var standing))
        {
            return standing;
        }

        flight.Stale = !current || flight.IsOvertaken;
        return result;
    }
}
