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
/// path misses its clean-up is not pinned down. Here the registration is this library's own: it is held before the
/// continuation that lets go of it is hooked, so that continuation always finds it, and none remain.
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

    private static Task<T> Cancellable<T>(Task<T> task, CancellationToken cancellationToken)
        => new CancellableWait<T>(task, cancellationToken).Task;

    private static Task Cancellable(Task task, CancellationToken cancellationToken)
        => new CancellableWait(task, cancellationToken).Task;

    /// <summary>
    /// One wait: the promise, its registration on the token and its continuation on the task, in one object (a
    /// completion source, a <c>WhenAny</c> and an async frame before). The token completes it inline, as the runtime's
    /// wait does, so what the waiter does on the way out (a lock's release) is done before the caller's Cancel returns.
    /// </summary>
    private sealed class CancellableWait<T> : TaskCompletionSource<T>
    {
        private readonly Task<T> _task;
        private readonly CancellationTokenRegistration _registration;

        public CancellableWait(Task<T> task, CancellationToken cancellationToken)
        {
            _task = task;
            _registration = cancellationToken.UnsafeRegister(static (state, token) => ((CancellableWait<T>)state!).TrySetCanceled(token), this);

            // Hooked once the registration is held, so that the completion always disposes it.
            task.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(Complete);
        }

        private void Complete()
        {
            // Not Dispose: it would wait for a cancellation running now, and that runs the caller's continuation.
            _registration.Unregister();

            // A failed task's exception is read whether or not the token came first: a task the caller stopped waiting
            // for (a timeout's own wait may fail later) is never unobserved.
            _ = _task.Status switch
            {
                TaskStatus.RanToCompletion => TrySetResult(_task.Result),
                TaskStatus.Faulted => TrySetException(_task.Exception!.InnerExceptions),
                _ => TrySetCanceled(CancellationOf(_task)),
            };
        }
    }

    /// <inheritdoc cref="CancellableWait{T}"/>
    private sealed class CancellableWait : TaskCompletionSource
    {
        private readonly Task _task;
        private readonly CancellationTokenRegistration _registration;

        public CancellableWait(Task task, CancellationToken cancellationToken)
        {
            _task = task;
            _registration = cancellationToken.UnsafeRegister(static (state, token) => ((CancellableWait)state!).TrySetCanceled(token), this);
            task.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(Complete);
        }

        private void Complete()
        {
            _registration.Unregister();
            _ = _task.Status switch
            {
                TaskStatus.RanToCompletion => TrySetResult(),
                TaskStatus.Faulted => TrySetException(_task.Exception!.InnerExceptions),
                _ => TrySetCanceled(CancellationOf(_task)),
            };
        }
    }

    /// <summary>The token a cancelled <paramref name="task"/> was cancelled with, for the wait to carry on.</summary>
    private static CancellationToken CancellationOf(Task task)
    {
        try
        {
            task.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException cancelled)
        {
            return cancelled.CancellationToken;
        }

        return CancellationToken.None;
    }
}
