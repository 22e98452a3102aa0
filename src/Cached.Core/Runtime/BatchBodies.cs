namespace Cached.Runtime;

/// <summary>The multi-cached methods whose body runs in this flow (or was started from it), so that their own calls join no flight of theirs.</summary>
internal static class BatchBodies
{
    private static readonly AsyncLocal<Note?> s_running = new();

    /// <summary>Whether a body of <paramref name="method"/> runs in this flow.</summary>
    public static bool Runs(object method)
    {
        for (var note = s_running.Value; note is not null; note = note.Outer)
        {
            if (ReferenceEquals(note.Method, method))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Notes a body of <paramref name="method"/> in this flow for a sync call; <see cref="Exit"/> sets the note back
    /// after it, keeping whatever else the body set in the flow, as a sync call does.
    /// </summary>
    public static object? Enter(object method)
    {
        var outer = s_running.Value;
        s_running.Value = new Note(method, outer);
        return outer;
    }

    public static void Exit(object? outer) => s_running.Value = (Note?)outer;

    /// <summary>Notes an async body of <paramref name="method"/>; returns the flow to go back to once it has started (its awaits carry the note).</summary>
    public static (ExecutionContext? Caller, object? Outer) EnterFlow(object method)
    {
        var caller = ExecutionContext.Capture();
        return (caller, Enter(method));
    }

    /// <summary>Goes back to the caller's flow: restoring the captured one allocates nothing, where setting the value back would.</summary>
    public static void ExitFlow((ExecutionContext? Caller, object? Outer) entered)
    {
        if (entered.Caller is not null)
        {
            ExecutionContext.Restore(entered.Caller);
        }
        else
        {
            Exit(entered.Outer);
        }
    }

    private sealed class Note(object method, Note? outer)
    {
        public object Method { get; } = method;

        public Note? Outer { get; } = outer;
    }
}
