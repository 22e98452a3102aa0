using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace Cached.Pipeline;

/// <summary>A wait that a sweep of <see cref="CommandDeadlines"/> looks at, whatever its result type.</summary>
internal interface IWatchedWait
{
    /// <summary>Fails the wait with a <see cref="TimeoutException"/> if it still waits and <paramref name="now"/> is past its deadline.</summary>
    void FailIfLate(long now);

    /// <summary>Whether the wait still waits for its command: a sweep is due for it.</summary>
    bool IsWaiting { get; }

    /// <summary>Whether its command has not ended yet, whether or not its awaiter has moved on.</summary>
    bool IsCommandPending { get; }
}

/// <summary>
/// One remote command under a deadline of <see cref="CommandDeadlines"/>, reused from command to command: it completes
/// with the command's outcome, or with a <see cref="TimeoutException"/> when a sweep finds it late, whichever comes
/// first. It goes back to its pool only once both its awaiter has taken the outcome and the command itself has ended
/// (a late command still ends, and is still awaited, after its awaiter has moved on).
/// </summary>
/// <typeparam name="T">The command's result type.</typeparam>
/// <remarks>
/// The state word holds a generation above two bits of state, so that a sweep that looked at an earlier use of this
/// object can never fail a later one: its compare-and-swap names the generation it saw.
/// </remarks>
internal sealed class TimedWait<T> : IValueTaskSource<T>, IWatchedWait
{
    private const long Idle = 0;
    private const long Waiting = 1;
    private const long Ended = 2;
    private const long TimedOut = 3;
    private const long StateMask = 3;
    private const long Generation = 4;

    private readonly CommandDeadlines _owner;
    private readonly Action _onEnded;
    private ManualResetValueTaskSourceCore<T> _core;
    private ConfiguredValueTaskAwaitable<T>.ConfiguredValueTaskAwaiter _command;
    private Task? _reply; // a client's own task, watched instead of _command (see the second Watch)
    private Func<Task, T>? _toResult;
    private long _state;
    private long _deadline;
    private int _parties;
    private volatile bool _commandPending;

    public TimedWait(CommandDeadlines owner)
    {
        _owner = owner;
        _onEnded = OnEnded;
    }

    /// <summary>Watches <paramref name="pending"/> (not yet complete) until <paramref name="deadline"/>.</summary>
    public ValueTask<T> Watch(ValueTask<T> pending, long deadline)
    {
        var version = Begin(deadline);
        _command = pending.ConfigureAwait(false).GetAwaiter();
        Publish();
        _command.UnsafeOnCompleted(_onEnded);
        return new ValueTask<T>(this, version);
    }

    /// <summary>
    /// Watches a client's own task (not yet complete) until <paramref name="deadline"/>; <paramref name="toResult"/>
    /// takes its result once it has ended, as <see cref="PendingEntryRead.ToEntry"/> does. Without an async frame
    /// between the client's task and this wait, a remote hit under a deadline costs one continuation, not two.
    /// </summary>
    public ValueTask<T> Watch(Task reply, Func<Task, T> toResult, long deadline)
    {
        var version = Begin(deadline);
        _reply = reply;
        _toResult = toResult;
        Publish();
        reply.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onEnded);
        return new ValueTask<T>(this, version);
    }

    private short Begin(long deadline)
    {
        _core.Reset();
        _core.RunContinuationsAsynchronously = false;
        _parties = 2;
        _deadline = deadline;
        return _core.Version;
    }

    private void Publish()
    {
        _commandPending = true;
        // Published last: a sweep that sees this generation waiting also sees its deadline. A full fence: the owner reads
        // its timer's mark next (CommandDeadlines.Watch).
        Interlocked.Exchange(ref _state, ((Volatile.Read(ref _state) & ~StateMask) + Generation) | Waiting);
    }

    /// <inheritdoc />
    public bool IsWaiting => (Volatile.Read(ref _state) & StateMask) == Waiting;

    /// <inheritdoc />
    public bool IsCommandPending => _commandPending;

    /// <inheritdoc />
    public void FailIfLate(long now)
    {
        var seen = Volatile.Read(ref _state);
        if ((seen & StateMask) != Waiting || now < Volatile.Read(ref _deadline))
        {
            return;
        }

        if (Interlocked.CompareExchange(ref _state, (seen & ~StateMask) | TimedOut, seen) == seen)
        {
            // A party of its own while it completes: the awaiter may take the outcome and let go the moment it is set,
            // before the completion has finished with the object, which must not be reused under it.
            Interlocked.Increment(ref _parties);
            try
            {
                // The sweep's thread must not run each awaiter's continuation in turn.
                _core.RunContinuationsAsynchronously = true;
                _core.SetException(new TimeoutException("The command did not complete before its deadline."));
            }
            finally
            {
                Release();
            }
        }
    }

    private void OnEnded()
    {
        T result = default!;
        Exception? failure = null;
        try
        {
            // Taken exactly once, whatever happens: the command may come from a pool of its own.
            result = _reply is { } reply ? _toResult!(reply) : _command.GetResult();
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        _command = default;
        _reply = null;
        _toResult = null;
        _commandPending = false;
        var seen = Volatile.Read(ref _state);
        if ((seen & StateMask) == Waiting && Interlocked.CompareExchange(ref _state, (seen & ~StateMask) | Ended, seen) == seen)
        {
            if (failure is null)
            {
                _core.SetResult(result);
            }
            else
            {
                _core.SetException(failure);
            }
        }

        // Otherwise a sweep failed it first: the late outcome was observed above and goes nowhere.
        Release();
    }

    /// <inheritdoc />
    public T GetResult(short token)
    {
        if (token != _core.Version)
        {
            // A stale awaiter (one that awaited twice) holds no share to let go.
            throw new InvalidOperationException("The command was awaited more than once.");
        }

        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            Release();
        }
    }

    /// <inheritdoc />
    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    /// <inheritdoc />
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);

    private void Release()
    {
        if (Interlocked.Decrement(ref _parties) == 0)
        {
            Volatile.Write(ref _state, (Volatile.Read(ref _state) & ~StateMask) | Idle);
            _owner.Return(this);
        }
    }
}
