namespace Cached;

/// <summary>
/// A read of one entry that a backend's client is already running as a task of its own: that task, and how its result
/// becomes the entry. A backend hands one out from <see cref="BaseCache.TryStartEntryRead"/> so that the pipeline awaits
/// the client's task itself, with no async frame of the backend's in between (a remote hit feels each frame).
/// </summary>
public readonly struct PendingEntryRead
{
    /// <summary>Creates the read of <paramref name="reply"/>, whose result <paramref name="toEntry"/> turns into the entry.</summary>
    /// <param name="reply">The client's task for the read, started.</param>
    /// <param name="toEntry">
    /// Called once, with <paramref name="reply"/> after it has ended, by whichever thread sees it end first. It takes
    /// the result as <c>GetAwaiter().GetResult()</c> does, so that a failed read throws the client's own exception
    /// (<see cref="Task{TResult}.Result"/> would wrap it in an <see cref="AggregateException"/>). A static lambda keeps
    /// the read free of allocations.
    /// </param>
    /// <exception cref="ArgumentNullException"><paramref name="reply"/> or <paramref name="toEntry"/> is <c>null</c>.</exception>
    public PendingEntryRead(Task reply, Func<Task, CacheResult<object?>> toEntry)
    {
        ArgumentNullException.ThrowIfNull(reply);
        ArgumentNullException.ThrowIfNull(toEntry);
        Reply = reply;
        ToEntry = toEntry;
    }

    /// <summary>The client's task for the read; <c>null</c> only in the default instance.</summary>
    public Task? Reply { get; }

    /// <summary>Turns <see cref="Reply"/>, once ended, into the entry; <c>null</c> only in the default instance.</summary>
    public Func<Task, CacheResult<object?>>? ToEntry { get; }
}
