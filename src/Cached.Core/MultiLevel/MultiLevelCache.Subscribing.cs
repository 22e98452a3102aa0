using Cached.Capabilities;
using Cached.MultiLevel;

namespace Cached;

/// <summary>
/// The backplane subscription L1 waits for before it takes its first entry (until then L1 holds nothing a message
/// could make stale). One caller makes each attempt, on its own thread; every other caller waits for that attempt, so
/// that the first wave of reads fills L1. A synchronous caller blocks while it waits, as it blocks on any round trip; an
/// asynchronous one awaits the attempt and holds no thread meanwhile (an outside check: when every cold caller blocked,
/// 16 of them a node on two cores starved the thread pool of the very threads the subscription's connection needed,
/// and the first reads took 5-10 s, past the connect wait).
/// </summary>
public sealed partial class MultiLevelCache
{
    // After a failed subscribe, the next attempt waits this long: a read must not pay a blocked round trip each time.
    private static readonly TimeSpan s_subscribeRetry = TimeSpan.FromSeconds(5);

    private static readonly Task<bool> s_subscribed = Task.FromResult(true);
    private static readonly Task<bool> s_notSubscribed = Task.FromResult(false);

    private readonly object _subscribeGate = new();
    private IDisposable? _subscription;
    private volatile bool _subscribed;
    private long _nextSubscribeAttempt;

    // The attempt under way, which callers other than its maker wait for; null between attempts.
    private Task<bool>? _subscribing;

    private bool SubscribedOrWaitingToRetry
        => Backplane is null || _subscribed || Environment.TickCount64 < Volatile.Read(ref _nextSubscribeAttempt);

    // L1's fill tickets, opened once L1 may take copies (null before: a fenced L1 then takes nothing). An async command
    // passes wait: false, having awaited WhenSubscribedAsync already.
    private FillTicket? OpenL1Fill(string key, string? space, bool wait = true)
        => CanFillL1(wait) && L1 is IFencedFillCache fills ? fills.OpenFill(key, space) : null;

    private FillTicket?[]? OpenL1Fills(string[] keys, string? space, bool wait = true)
        => CanFillL1(wait) && L1 is IFencedFillCache fills ? fills.OpenFills(keys, space).ToArray() : null;

    private async ValueTask<FillTicket?> OpenL1FillAsync(string key, string? space, CancellationToken cancellationToken)
    {
        await WhenSubscribedAsync(cancellationToken).ConfigureAwait(false);
        return CanFillL1(wait: false) && L1 is IFencedFillCache fills ? await fills.OpenFillAsync(key, space, cancellationToken).ConfigureAwait(false) : null;
    }

    /// <summary>
    /// Whether L1 may take a copy: true once subscribed, false while subscribing fails (reads then go to L2). With
    /// <paramref name="wait"/> false it neither makes an attempt nor waits for one: what an async command asks after it
    /// awaited <see cref="WhenSubscribedAsync"/> (an await between the two, a write's turn or a round trip, may outlast
    /// the pause before the next attempt, which the command must not then make or wait for on its thread), and what a
    /// copy taken without a ticket asks after its command opened its fills.
    /// </summary>
    private bool CanFillL1(bool wait = true)
    {
        if (Backplane is null || _subscribed)
        {
            return true;
        }

        if (!wait)
        {
            return false;
        }

        if (Environment.TickCount64 < Volatile.Read(ref _nextSubscribeAttempt))
        {
            return false;
        }

        var attempt = JoinSubscribing(out var made);
        return made is not null ? Subscribe(made) : attempt.GetAwaiter().GetResult();
    }

    /// <summary>
    /// Before an asynchronous command opens an L1 fill: makes the subscription, or waits for the attempt under way
    /// without holding the thread, so that the <see cref="CanFillL1"/> the command reaches next answers at once.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled while waiting.</exception>
    private ValueTask WhenSubscribedAsync(CancellationToken cancellationToken)
    {
        if (SubscribedOrWaitingToRetry)
        {
            return default;
        }

        var attempt = JoinSubscribing(out var made);
        if (made is not null)
        {
            Subscribe(made);
            return default;
        }

        return attempt.IsCompleted ? default : new ValueTask(attempt.WaitAsync(cancellationToken));
    }

    /// <summary>The attempt to wait for; or, when none is under way, a new one that the caller makes (<paramref name="made"/>).</summary>
    private Task<bool> JoinSubscribing(out TaskCompletionSource<bool>? made)
    {
        made = null;
        lock (_subscribeGate)
        {
            if (_subscribed)
            {
                return s_subscribed;
            }

            if (Volatile.Read(ref _disposed) != 0)
            {
                // A call that passed its disposed check before the cache was disposed: no new subscription to end again.
                return s_notSubscribed;
            }

            if (_subscribing is { } running)
            {
                return running;
            }

            if (Environment.TickCount64 < _nextSubscribeAttempt)
            {
                return s_notSubscribed;
            }

            // Waiters resume on their own threads, not on the maker's, which goes on with its own command.
            made = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _subscribing = made.Task;
            return made.Task;
        }
    }

    private bool Subscribe(TaskCompletionSource<bool> attempt)
    {
        var subscribed = false;
        try
        {
            var subscription = Backplane!.Subscribe(Channel, this);
            lock (_subscribeGate)
            {
                if (Volatile.Read(ref _disposed) == 0)
                {
                    _subscription = subscription;
                    _subscribed = subscribed = true;
                }
            }

            if (!subscribed)
            {
                // Disposed while subscribing: the cache's disposal found no subscription to end.
                subscription.Dispose();
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Volatile.Write(ref _nextSubscribeAttempt, Environment.TickCount64 + (long)s_subscribeRetry.TotalMilliseconds);
            MultiLevelLog.SubscribeFailed(CachedLogging.Logger, ex, Channel, AliasForLogs);
        }
        finally
        {
            lock (_subscribeGate)
            {
                _subscribing = null;
            }

            attempt.SetResult(subscribed);
        }

        return subscribed;
    }

    /// <summary>Ends the subscription when the cache is disposed (one made after that ends itself, see <see cref="Subscribe"/>).</summary>
    private void EndSubscription()
    {
        IDisposable? subscription;
        lock (_subscribeGate)
        {
            subscription = _subscription;
            _subscription = null;
        }

        subscription?.Dispose();
    }
}
