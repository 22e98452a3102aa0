namespace Cached.Runtime;

/// <summary>
/// A body that calls its own cached method for the key it is computing would join its own flight and wait for itself
/// forever. Each leader notes its flight while its body runs on this thread (a sync body, or an async one up to its
/// first await that does not complete at once), and a caller about to join a flight that this thread is computing is
/// refused instead, with an exception that says so. Such a call made after the body's first real await comes on
/// another thread's turn and cannot be told from a second caller: it still waits for itself.
/// </summary>
public sealed partial class CachedMethod<TResult>
{
    /// <summary>Runs a sync body as the leader of <paramref name="key"/>'s flight, noted for <see cref="ThrowIfOwnFlight"/>.</summary>
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

    /// <summary>Starts an async body as the leader of <paramref name="key"/>'s flight: noted until it returns its task.</summary>
    private ValueTask<TResult> StartBody<TState>(string key, Func<TState, CancellationToken, ValueTask<TResult>> body, TState state, CancellationToken cancellationToken)
    {
        RunningBodies.Enter(this, key);
        try
        {
            return body(state, cancellationToken);
        }
        finally
        {
            RunningBodies.Exit();
        }
    }

    /// <summary>True when this thread is running this method's body for <paramref name="key"/>: a call for it would wait for itself.</summary>
    private bool IsOwnKey(ReadOnlySpan<char> key) => RunningBodies.Runs(this, key);

    /// <summary>Refuses to join the flight of <paramref name="key"/> when this thread is running its body.</summary>
    private void ThrowIfOwnFlight(string key)
    {
        if (IsOwnKey(key))
        {
            throw OwnKey(key);
        }
    }

    private InvalidOperationException OwnKey(ReadOnlySpan<char> key)
        => new($"'{_options.Method}' was called for the key '{key}' from within its own body, which is computing that key: the call "
            + "would wait for itself forever. Compute the value without calling the cached method (call its Core method), or use another key.");
}

/// <summary>The method and key of each body running on this thread now, innermost last (see <c>CachedMethod.Reentry.cs</c>).</summary>
internal static class RunningBodies
{
    [ThreadStatic]
    private static List<(object Method, string Key)>? t_running;

    public static void Enter(object method, string key) => (t_running ??= new List<(object, string)>(4)).Add((method, key));

    public static void Exit()
    {
        var running = t_running!;
        running.RemoveAt(running.Count - 1);
    }

    public static bool Runs(object method, ReadOnlySpan<char> key)
    {
        if (t_running is not { Count: > 0 } running)
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
}
