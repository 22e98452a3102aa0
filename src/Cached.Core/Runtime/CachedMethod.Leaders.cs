using System.Runtime.CompilerServices;
using Cached.Capabilities;
using Cached.Resilience;

namespace Cached.Runtime;

/// <summary>The leader of a miss: the one call of the body for its key in this process, its fill and its store.</summary>
public sealed partial class CachedMethod<TResult>
{
    private TResult Lead<TState>(ICache cache, string key, TState state, Func<TState, TResult> body, Func<TState, TResult, bool>? skipWhen, long? seen, Flight flight, in EntryPolicy policy, FillTicket? opened)
    {
        string? token = null;
        if (policy.Lease is { } lease && cache is ILockingCache locks)
        {
            // As in LeadAsync: the fill opens after the lease, and one a read opened before it is let go.
            ForgoOpened(ref opened);
            (var found, var value, token) = WaitForLease(cache, locks, key, lease, call: null);
            if (found)
            {
                return value!;
            }
        }
        else if (seen is { } before && _completions.MayHaveStored(key, before))
        {
            // A leader that finished between our read and our flight has stored the value: no second call. Its store
            // took away the fence our read opened, so a fill from here opens anew.
            ForgoOpened(ref opened);
            if (TryRead(cache, key, out var stored, out _))
            {
                return stored!;
            }
        }

        // Opened by this caller's read, in the same round trip (a two-level cache's): the fill is this ticket.
        var fill = opened is not null ? new LeaderFill(KeepFence(opened)!) : OpenFill(cache, key);

        flight.NoteFill(in fill);
        try
        {
            return LandLed(cache, key, state, skipWhen, flight, in fill, policy.Fill, RunBody(key, body, state));
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

    /// <summary>
    /// The leader of an async miss that waits (a lease, a read, a remote fill): each step awaited, then its outcome handed
    /// to the flight's passengers and the flight off the board, whatever happens (what <see cref="SettleAsync"/> does
    /// for <see cref="FinishLeadAsync"/>, here without a frame around this one).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // awaited once, by FlyAsync or the method's caller
    private async ValueTask<TResult> LeadAsync<TState>(ICache cache, string key, TState state, Func<TState, CancellationToken, ValueTask<TResult>> body, Func<TState, TResult, bool>? skipWhen, long? seen, Flight flight, FillPolicy policy, FillTicket? opened, CancellationToken cancellationToken)
    {
        // The lease this leader holds, until released: every way out releases it, the fill's open cancelled included.
        string? token = null;
        try
        {
            if (policy.Lease is { } lease && cache is ILockingCache locks)
            {
                // The fill opens after the lease, as it always did: a fill opened before another process's lease was
                // taken would find its fence gone once that process stored.
                ForgoOpened(ref opened);
                (var found, var value, token) = await WaitForLeaseAsync(cache, locks, key, lease, call: null, cancellationToken).ConfigureAwait(false);
                if (found)
                {
                    flight.TrySetResult(value!);
                    return value!;
                }
            }
            else if (seen is { } before && _completions.MayHaveStored(key, before))
            {
                // A leader that finished between our read and our flight has stored the value: no second call. Its
                // store took away the fence our read opened, so a fill from here opens anew.
                ForgoOpened(ref opened);
                var stored = await ReadAsync(cache, key, cancellationToken).ConfigureAwait(false);
                if (stored.Found)
                {
                    flight.TrySetResult(stored.Value!);
                    return stored.Value!;
                }
            }

            // On a store shared across processes the fill opens and stores in this frame, not in OpenFillAsync's and
            // WriteAsync's: each frame is a box (one per miss in flight, more than the builders' pools keep) and a level
            // of continuation that a remote miss's reply passes through.
            var shared = cache is BaseCache { OpensFillsInProcess: false } store && !CacheFaults.IsDown(cache) ? store : null;
            LeaderFill fill;
            if (opened is not null)
            {
                // Opened by this caller's read, in the same round trip (a two-level cache's): the fill is this ticket.
                fill = new LeaderFill(KeepFence(opened)!);
                opened = null;
            }
            else if (shared is null)
            {
                fill = await OpenFillAsync(cache, key, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                try
                {
                    fill = KeepFence(new LeaderFill(await shared.OpenSharedFillAsync(key, _options.Namespace, cancellationToken).ConfigureAwait(false)));
                }
                catch (Exception ex) when (IsFault(ex, cancellationToken))
                {
                    WriteFailed(cache, ex, key);
                    fill = default;
                }
            }

            flight.NoteFill(in fill);
            TResult answer;
            try
            {
                // The note is the body's from the moment it starts, so one that throws at once lets go of it too.
                RunningBodies.Frame? frame = null;
                TResult result;
                try
                {
                    result = await StartBody(key, flight, body, state, cancellationToken, out frame).ConfigureAwait(false);
                }
                finally
                {
                    frame?.End();
                }

                var current = true;
                if (!CacheScope.IsWriteSkipped && (skipWhen is null || !skipWhen(state, result)))
                {
                    // With no caller's token, as the resilient path writes: callers that left must not stop a value that
                    // was computed from landing (each caller's own wait ends with its token).
                    if (shared is not null && fill.Ticket is { } ticket && !CacheFaults.IsDown(cache))
                    {
                        try
                        {
                            current = await shared.FillSharedAsync(ticket, result, policy.Ttl, serializer: null, CancellationToken.None).ConfigureAwait(false) == 1;
                        }
                        catch (Exception ex) when (IsFault(ex, CancellationToken.None))
                        {
                            WriteFailed(cache, ex, key);
                        }
                    }
                    else
                    {
                        current = await WriteAsync(cache, key, result, fill, policy.Ttl, serializer: null, CancellationToken.None).ConfigureAwait(false);
                    }

                    _completions.Record(key);
                }

                // Off the board before the last look at the fence: a caller that boards later cannot have missed it.
                Land(flight);
                if (!current && await ReadStandingValueAsync(cache, key).ConfigureAwait(false) is { Found: true } standing)
                {
                    answer = standing.Value!;
                }
                else
                {
                    flight.Stale = !current || flight.IsOvertaken;
                    answer = result;
                }
            }
            finally
            {
                fill.Dispose();
                await ReleaseLeaseAsync(cache, key, token).ConfigureAwait(false);
                token = null;
            }

            // Handed over once the fill is closed and the lease released, as when a frame around this one did it.
            flight.TrySetResult(answer);
            return answer;
        }
        catch (Exception ex)
        {
            // Out before the fill opened (its open cancelled with every caller gone, say): the lease goes first, so that
            // nobody, here or in another process, waits it out for a call that no longer runs.
            ForgoOpened(ref opened);
            await ReleaseLeaseAsync(cache, key, token).ConfigureAwait(false);
            Fail(flight, ex, cancellationToken);
            throw;
        }
        finally
        {
            Land(flight);
        }
    }

    /// <summary>Closes a fill a read opened for this leader and that it will not make; its fence stays (see <see cref="FillTicket.Forgo"/>).</summary>
    private static void ForgoOpened(ref FillTicket? opened)
    {
        opened?.Forgo();
        opened = null;
    }
}
