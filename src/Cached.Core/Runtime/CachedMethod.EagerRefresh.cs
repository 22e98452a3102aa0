using Cached.Capabilities;
using Cached.Resilience;

namespace Cached.Runtime;

/// <summary>
/// Eager refresh (<see cref="CacheEntryOptions.EagerRefresh"/>): a hit past the refresh point starts one background
/// call of the body for its key, under a lease when the method has one, and returns at once.
/// </summary>
public sealed partial class CachedMethod<TResult>
{
    /// <summary>
    /// Starts one background refresh of a hot key (<see cref="CacheEntryOptions.EagerRefresh"/>): not when the key
    /// already has a flight, nor beyond <see cref="BackgroundWork.Limit"/>. The hit returns at once.
    /// </summary>
    private void StartRefresh<TState>(ICache cache, string key, TState state, Func<TState, TResult> body, Func<TState, TResult, bool>? skipWhen, long seen, TResult current, in EntryPolicy policy)
    {
        if (TryBoardRefresh(cache, key, seen, current, out var host, out var flight))
        {
            var call = new ResilientCall<TState>(cache, host, key, state, policy) { SyncBody = body, SkipWhen = skipWhen, Flight = flight, Refreshing = true, Current = current };
            _ = Task.Run(() =>
            {
                RunningBodies.Forget();
                try
                {
                    Run(call);
                }
                finally
                {
                    host.Background.Leave();
                }
            });
        }
    }

    /// <summary>
    /// Boards the refresh of a hit that read its entry after <paramref name="seen"/> completions. False when the key
    /// already has a flight, past the limit, or when a flight of the key stored since that read: it recorded its store
    /// before it landed, so a refresh boarded after it always sees the record, and the entry it would refresh is fresh
    /// already. A store of another key of the same stripe skips a refresh that was due: the next late hit starts it.
    /// </summary>
    private bool TryBoardRefresh(ICache cache, string key, long seen, TResult current, out ReadThroughs host, out Flight flight)
    {
        host = ReadThroughs.Of(cache);
        flight = new Flight(key) { IsRefresh = true };
        if (CacheScope.IsWriteSkipped || !host.Background.TryEnter())
        {
            return false;
        }

        if (!_flights.TryAdd(flight))
        {
            host.Background.Leave();
            return false;
        }

        if (_completions.MayHaveStored(key, seen))
        {
            SkipRefresh(flight, current);
            host.Background.Leave();
            return false;
        }

        ResilienceTelemetry.EagerRefresh(LogAlias, _options.Method);
        return true;
    }

    /// <inheritdoc cref="StartRefresh{TState}(ICache, string, TState, Func{TState, TResult}, Func{TState, TResult, bool}?, long, TResult, in EntryPolicy)"/>
    private void StartRefresh<TState>(ICache cache, string key, TState state, Func<TState, CancellationToken, ValueTask<TResult>> body, Func<TState, TResult, bool>? skipWhen, long seen, TResult current, in EntryPolicy policy)
    {
        if (TryBoardRefresh(cache, key, seen, current, out var host, out var flight))
        {
            var call = new ResilientCall<TState>(cache, host, key, state, policy) { AsyncBody = body, SkipWhen = skipWhen, Flight = flight, Refreshing = true, Current = current };
            _ = Task.Run(async () =>
            {
                RunningBodies.Forget();
                try
                {
                    await RunAsync(call, factoryToken: null).ConfigureAwait(false);
                }
                finally
                {
                    host.Background.Leave();
                }
            });
        }
    }

    /// <summary>
    /// A needless refresh's flight ends with <paramref name="current"/>, stale: a caller that boarded it found the
    /// entry stale, so it reads again rather than trust this value.
    /// </summary>
    private void SkipRefresh(Flight flight, TResult current)
    {
        Land(flight);
        flight.Stale = true;
        flight.TrySetResult(current);
    }

    /// <summary>
    /// The lease of an eager refresh: taken (with its <paramref name="token"/>), held by another process, or neither
    /// (no lock there, or a fault, logged): the refresh then runs without it, as a miss does when its lease fails.
    /// </summary>
    private LockAttempt TryLeaseForRefresh(ICache cache, ILockingCache locks, string key, TimeSpan lease, out string? token)
    {
        token = Guid.NewGuid().ToString("N");
        try
        {
            var attempt = LockAttempts.Try(locks, key, _options.Namespace, token, lease);
            token = attempt == LockAttempt.Taken ? token : null;
            return attempt;
        }
        catch (Exception ex) when (IsFault(ex, CancellationToken.None))
        {
            LeaseFailed(cache, ex, key);
            token = null;
            return LockAttempt.NotALock;
        }
    }

    /// <inheritdoc cref="TryLeaseForRefresh"/>
    private async ValueTask<(LockAttempt Attempt, string? Token)> TryLeaseForRefreshAsync(ICache cache, ILockingCache locks, string key, TimeSpan lease, CancellationToken cancellationToken)
    {
        var token = Guid.NewGuid().ToString("N");
        try
        {
            var attempt = await LockAttempts.TryAsync(locks, key, _options.Namespace, token, lease, cancellationToken).ConfigureAwait(false);
            return (attempt, attempt == LockAttempt.Taken ? token : null);
        }
        catch (Exception ex) when (IsFault(ex, cancellationToken))
        {
            LeaseFailed(cache, ex, key);
            return (LockAttempt.NotALock, null);
        }
    }
}
