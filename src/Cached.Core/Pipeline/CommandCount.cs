namespace Cached.Pipeline;

/// <summary>
/// The commands running on a cache that <see cref="Caches"/> made, so that once the cache is replaced it is disposed
/// at a moment when none is: <see cref="CloseWhenIdle"/> closes it at once if it is idle, else the last running
/// command to end does. Two interlocked operations per command, and only on such caches.
/// </summary>
internal sealed class CommandCount
{
    // Far below zero, so commands that start after the close never bring the count back to zero and close it again.
    private const int Closed = int.MinValue / 2;

    private int _running;
    private volatile bool _closing;
    private Action<object>? _whenIdle;
    private object? _state;

    /// <summary>True once the cache has been closed: commands starting now run on a disposed cache.</summary>
    public bool IsClosed => Volatile.Read(ref _running) < 0;

    /// <summary>A command starts.</summary>
    public void Enter() => Interlocked.Increment(ref _running);

    /// <summary>A command ends; the last one to end after <see cref="CloseWhenIdle"/> closes the cache.</summary>
    public void Exit()
    {
        if (Interlocked.Decrement(ref _running) == 0 && _closing && TryClose())
        {
            _whenIdle!(_state!);
        }
    }

    /// <summary>
    /// Closes the cache now and returns true if no command is running; otherwise returns false, and the last running
    /// command calls <paramref name="whenIdle"/> with <paramref name="state"/> as it ends. Exactly one of the two
    /// closes it.
    /// </summary>
    public bool CloseWhenIdle(Action<object> whenIdle, object state)
    {
        _whenIdle = whenIdle;
        _state = state;
        // Written before the compare-exchange, read after the decrement: whichever of the two comes last sees the
        // other's, so a command that ends during this call cannot leave the cache open.
        _closing = true;
        return TryClose();
    }

    private bool TryClose() => Interlocked.CompareExchange(ref _running, Closed, 0) == 0;
}
