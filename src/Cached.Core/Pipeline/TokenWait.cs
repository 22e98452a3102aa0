namespace Cached.Pipeline;

/// <summary>
/// <see cref="Task.WaitAsync(CancellationToken)"/> that leaves nothing on the token once the wait ends: every wait of
/// this library on a caller's token (or on a long-lived token of its own) goes through it.
/// </summary>
/// <remarks>
/// The runtime's wait registers on the token and lets go of the registration from the waited task's completion. In the
/// leak review, 25,000 calls of the library with one token that is never cancelled (a service's stopping token) left 1
/// to 18 of those registrations on it, each holding its wait and the task it waited for, still there after 5 s of
/// polling from other threads. A plain loop of the runtime's wait outside the library left none, so which completion
/// path misses its clean-up is not pinned down. Here the registration is this library's own, disposed by the frame that
/// waited once its wait ends, and none remain.
/// </remarks>
internal static class TokenWait
{
    /// <summary><paramref name="task"/>, or <paramref name="cancellationToken"/>'s cancellation if it comes first.</summary>
    public static Task<T> WaitAsync<T>(Task<T> task, CancellationToken cancellationToken)
        => task.IsCompleted || !cancellationToken.CanBeCanceled ? task : Cancellable(task, cancellationToken);

    /// <summary>As <see cref="Task{TResult}.WaitAsync(TimeSpan, TimeProvider, CancellationToken)"/>: a timeout on <paramref name="timeProvider"/>, then the token.</summary>
    public static Task<T> WaitAsync<T>(Task<T> task, TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
        => task.IsCompleted ? task : WaitAsync(task.WaitAsync(timeout, timeProvider, CancellationToken.None), cancellationToken);

    /// <inheritdoc cref="WaitAsync{T}(Task{T}, CancellationToken)"/>
    public static Task WaitAsync(Task task, CancellationToken cancellationToken)
        => task.IsCompleted || !cancellationToken.CanBeCanceled ? task : Cancellable(task, cancellationToken);

    private static async Task<T> Cancellable<T>(Task<T> task, CancellationToken cancellationToken)
    {
        // Completed inline by the cancellation, as the runtime's wait is: what the waiter does on the way out (a lock's
        // release) is done before the caller's Cancel returns.
        var cancelled = new TaskCompletionSource<T>();
        using (cancellationToken.UnsafeRegister(static (state, token) => ((TaskCompletionSource<T>)state!).TrySetCanceled(token), cancelled))
        {
            var first = await Task.WhenAny(task, cancelled.Task).ConfigureAwait(false);
            ObserveIfLeft(task, first);
            return await first.ConfigureAwait(false);
        }
    }

    private static async Task Cancellable(Task task, CancellationToken cancellationToken)
    {
        var cancelled = new TaskCompletionSource();
        using (cancellationToken.UnsafeRegister(static (state, token) => ((TaskCompletionSource)state!).TrySetCanceled(token), cancelled))
        {
            var first = await Task.WhenAny(task, cancelled.Task).ConfigureAwait(false);
            ObserveIfLeft(task, first);
            await first.ConfigureAwait(false);
        }
    }

    /// <summary>A task the caller stopped waiting for may fail later (a timeout's own wait does): never unobserved.</summary>
    private static void ObserveIfLeft(Task task, Task first)
    {
        if (!ReferenceEquals(task, first))
        {
            _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }
}
