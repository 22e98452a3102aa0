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
    /// <summary>Runs a sync body as <paramref name="flight"/>'s leader, noted for <see cref="ThrowIfOwnFlight"/>.</summary>
    private static TResult RunBody<TState>(Flight flight, Func<TState, TResult> body, TState state)
    {
        RunningBodies.Enter(flight);
        try
        {
            return body(state);
        }
        finally
        {
            RunningBodies.Exit();
        }
    }

    /// <summary>Starts an async body as <paramref name="flight"/>'s leader: noted until it returns its task.</summary>
    private static ValueTask<TResult> StartBody<TState>(Flight flight, Func<TState, CancellationToken, ValueTask<TResult>> body, TState state, CancellationToken cancellationToken)
    {
        RunningBodies.Enter(flight);
        try
        {
            return body(state, cancellationToken);
        }
        finally
        {
            RunningBodies.Exit();
        }
    }

    /// <summary>Refuses to join <paramref name="leader"/> when this thread is running its body: it would wait for itself.</summary>
    private void ThrowIfOwnFlight(Flight leader, string key)
    {
        if (RunningBodies.Runs(leader))
        {
            throw new InvalidOperationException(
                $"'{_options.Method}' was called for the key '{key}' from within its own body, which is computing that key: the call "
                + "would wait for itself forever. Compute the value without calling the cached method (call its Core method), or use another key.");
        }
    }
}

/// <summary>The flights whose bodies run on this thread now, innermost last (see <c>CachedMethod.Reentry.cs</c>).</summary>
internal static class RunningBodies
{
    [ThreadStatic]
    private static List<object>? t_flights;

    public static void Enter(object flight) => (t_flights ??= new List<object>(4)).Add(flight);

    public static void Exit()
    {
        var flights = t_flights!;
        flights.RemoveAt(flights.Count - 1);
    }

    public static bool Runs(object flight)
    {
        if (t_flights is not { Count: > 0 } flights)
        {
            return false;
        }

        foreach (var running in flights)
        {
            if (ReferenceEquals(running, flight))
            {
                return true;
            }
        }

        return false;
    }
}
