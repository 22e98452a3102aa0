using Cached.Pipeline;

namespace Cached.MultiLevel;

internal sealed partial class PendingWrites
{
    // The direct writes under way while writes wait (see TakeTurn), the replay in flight, and what each side waits on.
    private readonly List<Turn> _turns = [];
    private Write? _inFlight; // written under the lock, read without it by Idle
    private TaskCompletionSource? _inFlightDone;
    private TaskCompletionSource? _turnsEnded;
    private TaskCompletionSource? _retryNow;
    private bool _retryAsked; // a retry was asked for since the replay in flight started: its failure is not waited out

    /// <summary>
    /// Takes the key's turn for a direct write to L2, returning once no replay of the key is in flight; the replay loop
    /// does not start one of the key until the turn is disposed. Without it, a replay taken from the queue just before
    /// a direct write could land after it and leave L2 with the older value until its time to live ran out. Nearly
    /// always nothing waits, and it answers <c>null</c> at the cost of one read.
    /// </summary>
    public Turn? TakeTurn(string? @namespace, string key)
    {
        var turn = Idle ? null : Enter(@namespace, [key]);
        turn?.WaitForReplay();
        return turn;
    }

    /// <summary><see cref="TakeTurn(string?, string)"/> for every key of a batch.</summary>
    public Turn? TakeTurn<T>(string? @namespace, KeyValuePair<string, T>[] pairs)
    {
        var turn = Idle ? null : Enter(@namespace, Array.ConvertAll(pairs, static pair => pair.Key));
        turn?.WaitForReplay();
        return turn;
    }

    /// <summary><see cref="TakeTurn(string?, string)"/> for a clear: the turn of every key of the namespace.</summary>
    public Turn? TakeClearTurn(string? @namespace)
    {
        var turn = Idle ? null : Enter(@namespace, null);
        turn?.WaitForReplay();
        return turn;
    }

    /// <summary><see cref="TakeTurn(string?, string)"/>, waiting under <paramref name="cancellationToken"/>.</summary>
    public ValueTask<Turn?> TakeTurnAsync(string? @namespace, string key, CancellationToken cancellationToken)
        => Idle ? default : Enter(@namespace, [key]).WaitForReplayAsync(cancellationToken);

    /// <summary><see cref="TakeTurn{T}(string?, KeyValuePair{string, T}[])"/>, waiting under <paramref name="cancellationToken"/>.</summary>
    public ValueTask<Turn?> TakeTurnAsync<T>(string? @namespace, KeyValuePair<string, T>[] pairs, CancellationToken cancellationToken)
        => Idle ? default : Enter(@namespace, Array.ConvertAll(pairs, static pair => pair.Key)).WaitForReplayAsync(cancellationToken);

    /// <summary><see cref="TakeClearTurn"/>, waiting under <paramref name="cancellationToken"/>.</summary>
    public ValueTask<Turn?> TakeClearTurnAsync(string? @namespace, CancellationToken cancellationToken)
        => Idle ? default : Enter(@namespace, null).WaitForReplayAsync(cancellationToken);

    /// <summary>
    /// No write waits and none is in flight: a direct write need not take a turn. Both are read, the count first: a
    /// replay in flight may no longer count as waiting (a direct write of its key removed it from the queue), and it can
    /// still land after a write that starts now.
    /// </summary>
    private bool Idle => Volatile.Read(ref _waiting) == 0 && Volatile.Read(ref _inFlight) is null;

    /// <summary>
    /// Whether a clear of the namespace made during an outage still waits: a direct write to the namespace must then
    /// wait behind it rather than reach L2 first and be erased when it lands. If so, the retry loop tries at once
    /// instead of after its back-off.
    /// </summary>
    public bool ClearWaits(string? @namespace) => Volatile.Read(ref _waiting) != 0 && Waits(ClearSlot(@namespace), null);

    /// <summary>
    /// Whether a write still waits that a command building on L2's value of the key (<c>Add</c>, <c>Increment</c>,
    /// <c>Expire</c>) must follow: the key's own, or a clear of its namespace. If so, the retry loop tries at once
    /// instead of after its back-off, so that the command, queued behind it or retried by its caller, finds it landed.
    /// </summary>
    public bool HoldsUp(string? @namespace, string key) => Volatile.Read(ref _waiting) != 0 && Waits(ClearSlot(@namespace), Slot(@namespace, key));

    /// <summary>
    /// Whether a waiting write drops L2's entry of the key (a delete of the key, or a clear of its namespace): until it
    /// lands, a read on this node answers a miss rather than the entry this node dropped, which L2 still holds once it
    /// answers again. If so, the retry loop tries at once instead of after its back-off.
    /// </summary>
    public bool Drops(string? @namespace, string key)
    {
        if (Volatile.Read(ref _waiting) == 0)
        {
            return false;
        }

        lock (_gate)
        {
            var drops = _bySlot.ContainsKey(ClearSlot(@namespace))
                || (_bySlot.TryGetValue(Slot(@namespace, key), out var write) && write.Value.Action == BackplaneAction.Delete);
            if (drops)
            {
                AskRetry();
            }

            return drops;
        }
    }

    /// <summary>
    /// Tells the retry loop to try at once: L2 may answer again (the backplane's connection came back). Nothing when no
    /// write waits.
    /// </summary>
    public void RetryNow()
    {
        if (Volatile.Read(ref _waiting) == 0)
        {
            return;
        }

        lock (_gate)
        {
            AskRetry();
        }
    }

    /// <summary>Under the gate: the back-off in progress ends, or the next one is skipped.</summary>
    private void AskRetry()
    {
        _retryAsked = true;
        _retryNow?.TrySetResult();
    }

    private bool Waits(string clearSlot, string? keySlot)
    {
        lock (_gate)
        {
            if (!_bySlot.ContainsKey(clearSlot) && (keySlot is null || !_bySlot.ContainsKey(keySlot)))
            {
                return false;
            }

            AskRetry();
            return true;
        }
    }

    /// <summary>
    /// The back-off before the next retry, cut short by <see cref="HoldsUp"/> and <see cref="ClearWaits"/>; none when
    /// one of them asked while the replay that just failed was in flight, so that the ask is not lost.
    /// </summary>
    private Task<Task> BackOff(TimeSpan delay, CancellationToken token)
    {
        Task now;
        lock (_gate)
        {
            if (_retryAsked)
            {
                _retryAsked = false;
                return Task.FromResult(Task.CompletedTask);
            }

            _retryNow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            now = _retryNow.Task;
        }

        return Task.WhenAny(Task.Delay(delay, token), now);
    }

    private Turn Enter(string? @namespace, string[]? keys)
    {
        var turn = new Turn(this, _owner.L1Space(@namespace), keys);
        lock (_gate)
        {
            _turns.Add(turn);
            turn.Replay = _inFlight is { } write && turn.Covers(write, _owner) ? _inFlightDone!.Task : null;
        }

        return turn;
    }

    private void Leave(Turn turn)
    {
        TaskCompletionSource? ended;
        lock (_gate)
        {
            _turns.Remove(turn);
            ended = _turnsEnded;
            _turnsEnded = null;
        }

        ended?.TrySetResult();
    }

    /// <summary>
    /// Under the lock: starts the replay of <paramref name="write"/>, or, when a direct write holds its key's turn,
    /// answers what to wait for before looking at the queue again.
    /// </summary>
    private Task? StartFlight(Write write)
    {
        foreach (var turn in _turns)
        {
            if (turn.Covers(write, _owner))
            {
                return (_turnsEnded ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
        }

        // This replay answers any retry asked for until now; one asked while it is in flight skips the back-off after it.
        _retryAsked = false;
        _inFlightDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _inFlight, write);
        return null;
    }

    /// <summary>The replay in flight has ended, whatever its outcome: the direct writes that waited for it go on.</summary>
    private void EndFlight()
    {
        TaskCompletionSource? done;
        lock (_gate)
        {
            done = _inFlightDone;
            Volatile.Write(ref _inFlight, null);
            _inFlightDone = null;
        }

        done?.TrySetResult();
    }

    /// <summary>
    /// A direct write's turn on some keys of one namespace, or on all of it for a clear. Disposing it ends the turn;
    /// <see cref="Hold"/> keeps it until a write its caller stopped waiting for has ended too.
    /// </summary>
    internal sealed class Turn(PendingWrites owner, string? space, string[]? keys) : IDisposable
    {
        private int _holders = 1;

        /// <summary>The replay in flight of one of the turn's keys when the turn was taken; set under the lock.</summary>
        public Task? Replay { get; set; }

        /// <summary>Whether the turn covers <paramref name="write"/>: same namespace, and a key of the turn or a clear on either side.</summary>
        public bool Covers(Write write, MultiLevelCache cache)
            => write.Action != BackplaneAction.Tags && string.Equals(cache.L1Space(write.Namespace), space, StringComparison.Ordinal)
                && (keys is null || write.Key is null || Array.IndexOf(keys, write.Key) >= 0);

        public void WaitForReplay() => Replay?.GetAwaiter().GetResult();

        public async ValueTask<Turn?> WaitForReplayAsync(CancellationToken cancellationToken)
        {
            if (Replay is { } replay)
            {
                try
                {
                    await TokenWait.WaitAsync(replay, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    Dispose();
                    throw;
                }
            }

            return this;
        }

        /// <summary>Keeps the turn for one more <see cref="Dispose"/>: a write its caller stopped waiting for holds it until it ends.</summary>
        public void Hold() => Interlocked.Increment(ref _holders);

        public void Dispose()
        {
            if (Interlocked.Decrement(ref _holders) == 0)
            {
                owner.Leave(this);
            }
        }
    }
}
