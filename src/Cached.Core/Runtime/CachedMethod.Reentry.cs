namespace Cached.Runtime;

/// <summary>
/// A body that calls its own cached method for the key it is computing would join its own flight and wait for itself
/// forever; such a call is refused with an exception that says so. Only a call that would wait for itself is refused:
/// <list type="bullet">
/// <item>An async body is noted in its own flow (an <see cref="AsyncLocal{T}"/> set for the body, which its awaits carry
/// along and no other caller's code sees, not even a continuation the body runs inline): any call for its key from that
/// flow, before or after an await, sync or async, is refused while the body's flight is in the air. Work the body
/// starts inherits the note, but once the flight is over its calls wait for nobody and go as anyone's. Setting it costs an async miss about 100 to 250 bytes,
/// depending on how many other async-locals the flow carries.</item>
/// <item>A sync body is noted on its thread only, which costs no allocation: a sync call for its key on that thread
/// would block the thread the body needs, so it is refused. An async call there is not judged (it may be another
/// caller's continuation that the body runs inline, which waits without blocking).</item>
/// </list>
/// </summary>
public sealed partial class CachedMethod<TResult>
{
    /// <summary>Runs a sync body as the leader of <paramref name="key"/>'s flight, noted on this thread.</summary>
    private TResult RunBody<TState>(string key, Func<TState, TResult> body, TState state)
    {
        RunningBodies.Enter(this, key);
        try
        {
            return body(state);
        }
        finally
        {
            RunningBodies.Exit();
        }
    }

    /// <summary>
    /// Starts an async body as the leader of <paramref name="key"/>'s <paramref name="flight"/>, noted in the body's own
    /// flow. A refresh's note (<see cref="Flight.IsRefresh"/>) is judged only where a call would join a flight: before
    /// that its call for its key is usually a hit on the entry it refreshes. The caller ends the note it is handed
    /// (<see cref="RunningBodies.Frame.End"/>) once the body has returned.
    /// </summary>
    private ValueTask<TResult> StartBody<TState>(string key, Flight flight, Func<TState, CancellationToken, ValueTask<TResult>> body, TState state, CancellationToken cancellationToken, out RunningBodies.Frame frame)
    {
        var outer = RunningBodies.Current;
        var caller = RunningBodies.EnterFlow(this, key, flight, out frame);
        try
        {
            return body(state, cancellationToken);
        }
        finally
        {
            // The body's awaits captured the flow with the note; this thread goes back to the caller's flow.
            RunningBodies.ExitFlow(caller, outer);
        }
    }

    /// <summary>
    /// True when a call for <paramref name="key"/> made here, before its read, is certain to wait for this method's own
    /// body (see the type's remarks): a refresh's is not, as the entry it refreshes may still answer.
    /// </summary>
    private bool IsOwnKey(ReadOnlySpan<char> key) => RunningBodies.Runs(this, key, blocks: false, joining: false);

    /// <summary>
    /// Refuses a sync call for <paramref name="key"/> made by its own body while a scope is open: such a call may lead
    /// without ever finding that body's flight to join (a call that skips the read replaces it, one that skips the write
    /// never boards), and would run the body again inside itself, without end. Judged before boarding.
    /// </summary>
    private void ThrowIfOwnKeyInScope(string key)
    {
        if (!CacheScope.NoneOpen && RunningBodies.Runs(this, key, blocks: true, joining: false))
        {
            throw OwnKey(key);
        }
    }

    /// <summary>Refuses to join the flight of <paramref name="key"/> when the call would wait for its own body.</summary>
    private void ThrowIfOwnFlight(string key, bool blocks)
    {
        if (RunningBodies.Runs(this, key, blocks, joining: true))
        {
            throw OwnKey(key);
        }
    }

    private InvalidOperationException OwnKey(ReadOnlySpan<char> key)
        => new($"'{_options.Method}' was called for the key '{key}' from within its own body, which is computing that key: the call "
            + "would wait for itself forever. Compute the value without calling the cached method (call its Core method), or use another key.");
}

/// <summary>The bodies running now, by method and key: sync ones on this thread, async ones in this flow (see <c>CachedMethod.Reentry.cs</c>).</summary>
internal static class RunningBodies
{
    [ThreadStatic]
    private static List<(object Method, string Key)>? t_running;

    private static readonly AsyncLocal<Frame?> s_flow = new();

    /// <summary>The innermost async body of this flow.</summary>
    public static Frame? Current => s_flow.Value;

    public static void Enter(object method, string key) => (t_running ??= new List<(object, string)>(4)).Add((method, key));

    public static void Exit()
    {
        var running = t_running!;
        running.RemoveAt(running.Count - 1);
    }

    /// <summary>Notes an async body, the leader of <paramref name="flight"/>, in the current flow; returns the flow to go back to once it has started.</summary>
    public static ExecutionContext? EnterFlow(object method, string key, ILedFlight flight, out Frame frame)
    {
        var caller = ExecutionContext.Capture();
        s_flow.Value = frame = new Frame(method, key, flight, s_flow.Value);
        return caller;
    }

    /// <summary>Goes back to the caller's flow: restoring the captured one allocates nothing, where setting the value back would.</summary>
    public static void ExitFlow(ExecutionContext? caller, Frame? outer)
    {
        if (caller is not null)
        {
            ExecutionContext.Restore(caller);
        }
        else
        {
            s_flow.Value = outer;
        }
    }

    /// <summary>
    /// Background work (an eager refresh) starts with none of its starter's notes: it waits for nobody's body but its own.
    /// Set inside the work's own delegate, so the starter's flow keeps its notes.
    /// </summary>
    public static void Forget()
    {
        if (s_flow.Value is not null)
        {
            s_flow.Value = null;
        }
    }

    /// <summary>
    /// Whether the body of <paramref name="method"/> for <paramref name="key"/> runs in this flow, or, for a call that
    /// <paramref name="blocks"/> its thread, on this thread. A refresh's body counts only for a call <paramref name="joining"/> a flight.
    /// </summary>
    public static bool Runs(object method, ReadOnlySpan<char> key, bool blocks, bool joining)
    {
        for (var frame = s_flow.Value; frame is not null; frame = frame.Outer)
        {
            if (ReferenceEquals(frame.Method, method) && frame.Flight is { } flight && (joining || !flight.IsRefresh) && !flight.IsOver && key.SequenceEqual(frame.Key))
            {
                return true;
            }
        }

        if (!blocks || t_running is not { Count: > 0 } running)
        {
            return false;
        }

        foreach (var (owner, ownKey) in running)
        {
            if (ReferenceEquals(owner, method) && key.SequenceEqual(ownKey))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The flight an async body leads: once it is over, a call for its key from the body's flow waits for nobody.</summary>
    internal interface ILedFlight
    {
        bool IsOver { get; }

        /// <summary>An eager refresh's flight, over an entry that still answers when it starts.</summary>
        bool IsRefresh { get; }
    }

    /// <summary>An async body running in this flow (or work it started, until its flight is over), and the one whose flow started it.</summary>
    internal sealed class Frame(object method, string key, ILedFlight flight, Frame? outer)
    {
        private ILedFlight? _flight = flight;

        public object Method { get; } = method;

        public string Key { get; } = key;

        public Frame? Outer { get; } = outer;

        /// <summary>The body's flight while the body runs; none once it has returned.</summary>
        public ILedFlight? Flight => Volatile.Read(ref _flight);

        /// <summary>
        /// Lets go of the flight once the body has returned: work the body left behind (a registration, a task still
        /// running) keeps the flow, and so this note, alive, and must not keep the flight and its value with it. A call
        /// from that work then waits for nobody, as it would once the flight is over.
        /// </summary>
        public void End() => Volatile.Write(ref _flight, null);
    }
}
