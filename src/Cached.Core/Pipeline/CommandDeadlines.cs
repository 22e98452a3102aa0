namespace Cached.Pipeline;

/// <summary>
/// The <see cref="BaseCache.Timeout"/> of one cache's remote commands, on the system clock, kept by one timer for the
/// cache instead of one per command: a command still running when the pipeline hands it over is watched by a pooled
/// <see cref="TimedWait{T}"/>, and a sweep every tenth of the timeout fails those past their deadline with a
/// <see cref="TimeoutException"/>. A command so fails within a tenth of the timeout past it, the bound a client that
/// enforces the timeout itself is held to.
/// </summary>
/// <remarks>
/// A timer per command (<see cref="Task.WaitAsync(TimeSpan, TimeProvider, CancellationToken)"/>) costs a task, a
/// timer and a trip through the runtime's timer queue, which locks: under many concurrent hits on a remote backend
/// that is about a sixth of the throughput. Here a command costs a pooled object (one pool per result type) and a
/// continuation on the backend's own task. The timer runs only while commands are watched: a sweep that finds none
/// stops it, and the next command starts it.
/// </remarks>
internal sealed class CommandDeadlines
{
    /// <summary>The shortest timeout watched this way: below it, a sweep every tenth would tick too often for its worth.</summary>
    public static readonly TimeSpan Shortest = TimeSpan.FromMilliseconds(100);

    private readonly TimeSpan _period;
    private readonly object _gate = new();
    private object[] _pools = []; // one WaitPool<T> per result type, replaced (never changed) under _gate
    private IWatchedWait[] _all = new IWatchedWait[8];
    private int _count;
    private volatile bool _ticking;
    private bool _running; // whether the timer is set to fire; read and written under _gate only
    private ITimer? _timer;

    /// <summary>Watches commands against <paramref name="timeout"/> (at least <see cref="Shortest"/>).</summary>
    public CommandDeadlines(TimeSpan timeout)
    {
        if (timeout < Shortest)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, $"A timeout under {Shortest.TotalMilliseconds} ms is kept by a timer per command.");
        }

        _period = timeout / 10;
    }

    /// <summary>How many watched commands have not ended yet (one abandoned at its deadline included).</summary>
    internal int Watched
    {
        get
        {
            lock (_gate)
            {
                return _all.Take(_count).Count(static wait => wait.IsCommandPending);
            }
        }
    }

    /// <summary>How many watching objects were ever made: each is reused, so this stays near the most out at once (a wait is out until its command has ended and its awaiter has its value).</summary>
    internal int Made
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    /// <summary>How many watching objects are back in their pools, free for the next command.</summary>
    internal int Idle
    {
        get
        {
            lock (_gate)
            {
                return _pools.Sum(static pool => ((IWaitPool)pool).Idle);
            }
        }
    }

    /// <summary>Whether watched commands count on the sweeping timer.</summary>
    internal bool IsTicking => _ticking;

    /// <summary>Whether the timer is set to fire.</summary>
    internal bool IsRunning
    {
        get
        {
            lock (_gate)
            {
                return _running;
            }
        }
    }

    /// <summary>
    /// <paramref name="pending"/>, failed with a <see cref="TimeoutException"/> once the system clock passes
    /// <paramref name="deadline"/> (a <see cref="TimeProvider.GetTimestamp"/> of <see cref="TimeProvider.System"/>). The
    /// result is awaited exactly once; <paramref name="pending"/> is awaited in any case, so a command abandoned at its
    /// deadline is still observed when it ends.
    /// </summary>
    public ValueTask<T> Watch<T>(ValueTask<T> pending, long deadline)
    {
        if (pending.IsCompleted)
        {
            return pending;
        }

        // The wait is published as waiting, behind a full fence, before the timer's mark is read; a sweep clears the
        // mark, behind a fence, before it looks for a waiting command. So either this sees the timer stopped and starts
        // it, or the sweep sees this command and keeps it going. (A count of watched commands did the same with two
        // interlocked operations per command on one shared word, which under many concurrent commands bounced between
        // the cores on every call.)
        var watched = Rent<T>().Watch(pending, deadline);
        if (!_ticking)
        {
            Tick();
        }

        return watched;
    }

    /// <summary>
    /// <see cref="Watch{T}(ValueTask{T}, long)"/> for a client's own task, whose result <paramref name="toResult"/> takes
    /// once it has ended (<see cref="PendingEntryRead"/>).
    /// </summary>
    public ValueTask<T> Watch<T>(Task reply, Func<Task, T> toResult, long deadline)
    {
        if (reply.IsCompleted)
        {
            try
            {
                return new ValueTask<T>(toResult(reply));
            }
            catch (Exception ex)
            {
                return ValueTask.FromException<T>(ex);
            }
        }

        // As above: published as waiting before the timer's mark is read.
        var watched = Rent<T>().Watch(reply, toResult, deadline);
        if (!_ticking)
        {
            Tick();
        }

        return watched;
    }

    /// <summary>Called by a <see cref="TimedWait{T}"/> that both its command and its awaiter are done with.</summary>
    internal void Return<T>(TimedWait<T> wait)
    {
        var pool = PoolOf<T>();
        if (!pool.TryGive(wait))
        {
            lock (_gate)
            {
                pool.Spare.Push(wait);
            }
        }
    }

    /// <summary>Fails every watched command whose deadline passed; stops the timer when none is watched.</summary>
    internal void Sweep()
    {
        var now = TimeProvider.System.GetTimestamp();
        IWatchedWait[] all;
        int count;
        lock (_gate)
        {
            (all, count) = (_all, _count);
        }

        for (var i = 0; i < count; i++)
        {
            all[i].FailIfLate(now);
        }

        lock (_gate)
        {
            // Written before the waits are looked at, each side fenced (see Watch): a command watched meanwhile either
            // sees the timer stopped (and starts it under this gate) or is seen here (and the timer goes on). Sweeps may
            // overlap, and one queued before a stop may run after it, so the timer is set to what the waits say.
            _ticking = false;
            Interlocked.MemoryBarrier();
            if (AnyWaiting())
            {
                _ticking = true;
                SetRunning(true);
            }
            else
            {
                SetRunning(false);
            }
        }
    }

    /// <summary>Whether a made wait still waits for its command (under <see cref="_gate"/>).</summary>
    private bool AnyWaiting()
    {
        for (var i = 0; i < _count; i++)
        {
            if (_all[i].IsWaiting)
            {
                return true;
            }
        }

        return false;
    }

    private void Tick()
    {
        lock (_gate)
        {
            _ticking = true;
            SetRunning(true);
        }
    }

    /// <summary>Starts or stops the timer, under <see cref="_gate"/>; made on first use.</summary>
    private void SetRunning(bool running)
    {
        if (running == _running)
        {
            return;
        }

        if (_timer is null)
        {
            // The timer holds this object, never the cache: a cache dropped undisposed leaves a stopped timer behind.
            // Nor the first caller's async-local state: the timer is made outside its execution context.
            var suppressed = ExecutionContext.IsFlowSuppressed();
            var flow = suppressed ? default : ExecutionContext.SuppressFlow();
            try
            {
                _timer = TimeProvider.System.CreateTimer(static state => ((CommandDeadlines)state!).Sweep(), this, System.Threading.Timeout.InfiniteTimeSpan, System.Threading.Timeout.InfiniteTimeSpan);
            }
            finally
            {
                if (!suppressed)
                {
                    flow.Undo();
                }
            }
        }

        var period = running ? _period : System.Threading.Timeout.InfiniteTimeSpan;
        _timer.Change(period, period);
        _running = running;
    }

    private TimedWait<T> Rent<T>()
    {
        var pool = PoolOf<T>();
        if (pool.TryTake(out var wait))
        {
            return wait;
        }

        lock (_gate)
        {
            if (pool.Spare.TryPop(out wait))
            {
                return wait;
            }

            wait = new TimedWait<T>(this);
            if (_count == _all.Length)
            {
                Array.Resize(ref _all, _count * 2);
            }

            _all[_count++] = wait;
            return wait;
        }
    }

    /// <summary>The pool of <typeparamref name="T"/>'s waits: found without a lock, made under <see cref="_gate"/> once.</summary>
    private WaitPool<T> PoolOf<T>()
    {
        if (Find<T>(Volatile.Read(ref _pools)) is { } found)
        {
            return found;
        }

        lock (_gate)
        {
            if (Find<T>(_pools) is { } madeMeanwhile)
            {
                return madeMeanwhile;
            }

            var made = new WaitPool<T>();
            Volatile.Write(ref _pools, [.. _pools, made]);
            return made;
        }
    }

    /// <summary>The pool of <typeparamref name="T"/> among <paramref name="pools"/>, if made.</summary>
    private static WaitPool<T>? Find<T>(object[] pools)
    {
        foreach (var pool in pools)
        {
            if (pool is WaitPool<T> found)
            {
                return found;
            }
        }

        return null;
    }

    /// <summary>
    /// The free waits of one result type. Under many concurrent commands one lock taken twice a command was contended
    /// on every call, so most waits come and go through slots taken and filled by compare-and-swap; a slot holds a whole
    /// wait and no link to another, so a wait taken and given back meanwhile is no hazard. Waits beyond the slots go to
    /// <see cref="Spare"/>, under the owner's gate: every wait ever made is kept, as the sweep watches them all.
    /// </summary>
    private sealed class WaitPool<T> : IWaitPool
    {
        private readonly TimedWait<T>?[] _slots = new TimedWait<T>?[32];

        /// <summary>Waits that found every slot full; read and written under the owner's gate only.</summary>
        public Stack<TimedWait<T>> Spare { get; } = new();

        /// <inheritdoc />
        public int Idle
        {
            get
            {
                var idle = Spare.Count;
                for (var i = 0; i < _slots.Length; i++)
                {
                    idle += Volatile.Read(ref _slots[i]) is null ? 0 : 1;
                }

                return idle;
            }
        }

        public bool TryTake([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TimedWait<T>? wait)
        {
            var start = Environment.CurrentManagedThreadId;
            for (var i = 0; i < _slots.Length; i++)
            {
                ref var slot = ref _slots[(start + i) & (_slots.Length - 1)];
                var seen = Volatile.Read(ref slot);
                if (seen is not null && Interlocked.CompareExchange(ref slot, null, seen) == seen)
                {
                    wait = seen;
                    return true;
                }
            }

            wait = null;
            return false;
        }

        public bool TryGive(TimedWait<T> wait)
        {
            var start = Environment.CurrentManagedThreadId;
            for (var i = 0; i < _slots.Length; i++)
            {
                ref var slot = ref _slots[(start + i) & (_slots.Length - 1)];
                if (Volatile.Read(ref slot) is null && Interlocked.CompareExchange(ref slot, wait, null) is null)
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>A pool of any result type, for <see cref="Idle"/>.</summary>
    private interface IWaitPool
    {
        /// <summary>Free waits, in slots and spare; read under the owner's gate.</summary>
        int Idle { get; }
    }
}
