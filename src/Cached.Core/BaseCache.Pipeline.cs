using System.Runtime.CompilerServices;
using Cached.Pipeline;
using Cached.Plugins;
using Cached.Resilience;

namespace Cached;

/// <summary>
/// The one path every command takes once its arguments are checked and its key built: plugins' pre hooks and telemetry,
/// the backend operation (async: under <see cref="Timeout"/> and the caller's token), the backend's error mapping,
/// then the post hooks, or the failure recorded. On a cache that <see cref="Caches"/> made it also counts the running
/// commands (<see cref="CommandCount"/>), so that a replaced instance is disposed only between commands. Commands hand
/// their operation over as a static lambda with its state in a struct, so this path allocates nothing of its own.
/// </summary>
public abstract partial class BaseCache
{
    /// <summary>Runs a sync command.</summary>
    /// <param name="request">What the command asks, for plugins and telemetry.</param>
    /// <param name="state">What the operation needs (keys, payloads, expiry).</param>
    /// <param name="operation">The backend operation.</param>
    /// <param name="describe">Its outcome for the post hooks; by default the result itself. Called only when observed.</param>
    private protected TResult Run<TState, TResult>(in CommandRequest request, TState state, Func<BaseCache, TState, TResult> operation, Func<TResult, CommandOutcome>? describe = null)
    {
        var running = _running;
        running?.Enter();
        CircuitBreaker.Claim? probe = null;
        try
        {
            var context = CommandObserver.Begin(this, _plugins, request);
            if (_breaker is not null && !request.PastBreaker && CircuitRefuses(request, context, out var refusal, out probe))
            {
                throw refusal;
            }

            var operating = true;
            try
            {
                var result = operation(this, state);
                operating = false;
                _breaker?.Succeeded(BackendName, Alias);
                if (context is not null)
                {
                    CommandObserver.End(this, _plugins, context, describe is null ? new CommandOutcome(result) : describe(result));
                }

                return result;
            }
            catch (OperationCanceledException ex) when (operating)
            {
                // A sync command takes no token: a cancellation from the backend is the backend's failure.
                var mapped = Unasked(ex, request.Command, request.ErrorSubject);
                CommandObserver.Failed(this, context, mapped);
                throw mapped;
            }
            catch (Exception ex) when (operating && Translate(ex, request.Command, request.ErrorSubject) is { } mapped)
            {
                CommandObserver.Failed(this, context, mapped);
                throw mapped;
            }
            catch (Exception ex) when (Report(context, ex))
            {
                throw;
            }
        }
        finally
        {
            running?.Exit();
            if (probe is not null)
            {
                CircuitBreaker.LeaveProbe(probe);
            }
        }
    }

    /// <summary>Runs an async command; an operation that completes synchronously costs no state machine.</summary>
    /// <param name="request">What the command asks, for plugins and telemetry.</param>
    /// <param name="state">What the operation needs (keys, payloads, expiry).</param>
    /// <param name="operation">The backend operation.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <param name="describe">Its outcome for the post hooks; by default the result itself. Called only when observed.</param>
    /// <param name="awaitedOnce">
    /// Whether the caller is this library awaiting the result exactly once and keeping nothing of it: then an operation
    /// still running is completed in a frame from a pool. Otherwise the result may reach a caller outside this library,
    /// who may await it twice, keep it or block on it, and the frame is made a plain task first.
    /// </param>
    private protected ValueTask<TResult> RunAsync<TState, TResult>(in CommandRequest request, TState state, Func<BaseCache, TState, CancellationToken, ValueTask<TResult>> operation, CancellationToken cancellationToken, Func<TResult, CommandOutcome>? describe = null, bool awaitedOnce = false)
    {
        var running = _running;
        running?.Enter();
        var handedOver = false;
        CircuitBreaker.Claim? probe = null;
        try
        {
            if (!CommandObserver.TryBegin(this, _plugins, request, out var context, out var refused))
            {
                // A pre hook's exception, in the task as from an async method.
                return ValueTask.FromException<TResult>(refused);
            }

            if (_breaker is not null && !request.PastBreaker && CircuitRefuses(request, context, out var refusal, out probe))
            {
                return ValueTask.FromException<TResult>(refusal);
            }

            var operating = true;
            try
            {
                var pending = operation(this, state, cancellationToken);
                if (pending.IsCompletedSuccessfully)
                {
                    var result = pending.Result;
                    operating = false;
                    _breaker?.Succeeded(BackendName, Alias);
                    if (context is not null)
                    {
                        CommandObserver.End(this, _plugins, context, describe is null ? new CommandOutcome(result) : describe(result));
                    }

                    return new ValueTask<TResult>(result);
                }

                // The command goes on after this method returns: Complete counts its end.
                handedOver = true;
                var completing = Complete(pending, request.Command, request.ErrorSubject, context, describe, running, cancellationToken);
                CommandObserver.HandOver(context);
                return awaitedOnce ? completing : completing.Preserve();
            }
            catch (OperationCanceledException ex) when (operating && !cancellationToken.IsCancellationRequested)
            {
                var mapped = Unasked(ex, request.Command, request.ErrorSubject);
                CommandObserver.Failed(this, context, mapped);
                return ValueTask.FromException<TResult>(mapped);
            }
            catch (Exception ex) when (operating && Translate(ex, request.Command, request.ErrorSubject) is { } mapped)
            {
                CommandObserver.Failed(this, context, mapped);
                return ValueTask.FromException<TResult>(mapped);
            }
            catch (Exception ex) when (Report(context, ex))
            {
                throw;
            }
        }
        finally
        {
            if (!handedOver)
            {
                running?.Exit();
            }

            if (probe is not null)
            {
                // The operation's continuations carry the probe in their own flow; the caller's goes on without it.
                CircuitBreaker.LeaveProbe(probe);
            }
        }
    }

    /// <summary>
    /// The end of an async command whose operation did not complete synchronously, in one async frame: the wait under
    /// <see cref="Timeout"/> and the caller's token, the post hooks, the error mapping and the count of running commands.
    /// </summary>
    /// <remarks>
    /// This is the one owner of <see cref="Timeout"/> and of the caller's token for async commands: an operation still
    /// running is awaited for at most the timeout (on <see cref="TimeProvider"/>), then abandoned with a
    /// <see cref="TimeoutException"/>; a cancelled token abandons it at once. Backends need not repeat either, and only a
    /// read of one entry whose client enforces the same timeout goes without this timer (<see cref="ReadNeedsTimer"/>).
    /// </remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // awaited once: see RunAsync's awaitedOnce
    private async ValueTask<TResult> Complete<TResult>(ValueTask<TResult> pending, CacheCommand command, string subject, Plugins.CacheCommandContext? context, Func<TResult, CommandOutcome>? describe, CommandCount? running, CancellationToken cancellationToken)
    {
        var operating = true;
        try
        {
            TResult result;
            if (!cancellationToken.CanBeCanceled && Deadlines is { } deadlines)
            {
                try
                {
                    result = await deadlines.Watch(pending, DeadlineFromNow()).ConfigureAwait(false);
                }
                catch (TimeoutException ex)
                {
                    // The operation itself is still awaited by the watch, which observes how it ends.
                    throw TimeoutOf(command, ex);
                }
            }
            else
            {
                result = cancellationToken.CanBeCanceled || _timeout is not null
                    ? await Bounded(pending.AsTask(), command, _timeout, cancellationToken).ConfigureAwait(false)
                    : await pending.ConfigureAwait(false);
            }

            operating = false;
            _breaker?.Succeeded(BackendName, Alias);
            if (context is not null)
            {
                CommandObserver.End(this, _plugins, context, describe is null ? new CommandOutcome(result) : describe(result));
            }

            return result;
        }
        catch (OperationCanceledException ex) when (operating && !cancellationToken.IsCancellationRequested)
        {
            var mapped = Unasked(ex, command, subject);
            CommandObserver.Failed(this, context, mapped);
            throw mapped;
        }
        catch (Exception ex) when (operating && Translate(ex, command, subject) is { } mapped)
        {
            CommandObserver.Failed(this, context, mapped);
            throw mapped;
        }
        catch (Exception ex) when (Report(context, ex))
        {
            throw;
        }
        finally
        {
            running?.Exit();
        }
    }

    /// <summary>
    /// Whether a read of one entry that did not complete synchronously must be awaited under a timer: when the caller's
    /// token can cancel, or when <see cref="Timeout"/> is set and not already enforced by the backend's client on the
    /// clock it is measured on (<see cref="ClientEnforcesTimeout"/> on the system <see cref="TimeProvider"/>). A timer
    /// per command costs a registration in the runtime's timer queue and a task, which a hit on a remote backend feels.
    /// </summary>
    private bool ReadNeedsTimer(CancellationToken cancellationToken)
        => cancellationToken.CanBeCanceled
            || (_timeout is not null && !(ClientEnforcesTimeout && ReferenceEquals(_timeProvider, TimeProvider.System)));

    /// <summary>
    /// Whether the backend's client itself, right now, fails a read of one entry (<see cref="GetEntryAsync"/>) that runs
    /// longer than <see cref="Timeout"/> with a <see cref="TimeoutException"/>, within a tenth of <see cref="Timeout"/>
    /// past it. Then such a read whose token cannot cancel is awaited without a timer of the pipeline's own (on the
    /// system <see cref="TimeProvider"/> only: a test clock must still be obeyed); a second round trip its decoding
    /// needs is still bounded by what is left of <see cref="Timeout"/>. <c>false</c> unless a backend says so.
    /// </summary>
    protected virtual bool ClientEnforcesTimeout => false;

    /// <summary>The timer's wait: at most <paramref name="wait"/> (what is left of <see cref="Timeout"/>), and no longer than the caller's token allows.</summary>
    private async Task<TResult> Bounded<TResult>(Task<TResult> task, CacheCommand command, TimeSpan? wait, CancellationToken cancellationToken)
    {
        try
        {
            return await Deadline(task, wait, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex) when (wait is not null && _timeout is not null)
        {
            throw TimedOut(task, command, ex);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Abandon(task);
            throw;
        }
    }

    /// <summary>
    /// <paramref name="task"/>, failing with a <see cref="TimeoutException"/> once <paramref name="wait"/> passes on
    /// <see cref="TimeProvider"/> (none when <see cref="Timeout"/> is not set) and cancelled with the caller's token;
    /// <see cref="TimedOut"/> words what it throws.
    /// </summary>
    private Task<TResult> Deadline<TResult>(Task<TResult> task, TimeSpan? wait, CancellationToken cancellationToken)
        => wait is { } left && _timeout is not null
            ? TokenWait.WaitAsync(task, left < TimeSpan.Zero ? TimeSpan.Zero : left, _timeProvider, cancellationToken)
            : TokenWait.WaitAsync(task, cancellationToken);

    /// <summary>What a command whose <see cref="Deadline{TResult}"/> passed throws; the abandoned operation is observed.</summary>
    private TimeoutException TimedOut(Task task, CacheCommand command, TimeoutException ex)
    {
        Abandon(task);
        return TimeoutOf(command, ex);
    }

    /// <summary>
    /// Observes an operation its caller stopped waiting for (past the timeout, or by the caller's token): it may still
    /// fail later, which must never surface as an unobserved task exception.
    /// </summary>
    private static void Abandon(Task task)
    {
        if (!task.IsCompleted)
        {
            _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        else if (task.IsFaulted)
        {
            _ = task.Exception;
        }
    }

    /// <summary>The <see cref="TimeoutException"/> a command past <see cref="Timeout"/> throws, naming it.</summary>
    private TimeoutException TimeoutOf(CacheCommand command, TimeoutException ex)
        => new($"The cache command {command} did not complete within its timeout of {_timeout!.Value.TotalMilliseconds} ms.", ex);

    /// <summary>The system clock's timestamp <see cref="Timeout"/> from now (set, when <see cref="Deadlines"/> is not null).</summary>
    private long DeadlineFromNow() => DeadlineAfter(TimeProvider.System.GetTimestamp());

    /// <summary>The system clock's timestamp <see cref="Timeout"/> after <paramref name="started"/>.</summary>
    private long DeadlineAfter(long started) => started + (long)(_timeout!.Value.TotalSeconds * TimeProvider.System.TimestampFrequency);

    /// <summary>The deadlines' timer if a command made it, for tests.</summary>
    internal CommandDeadlines? DeadlinesInUse => Volatile.Read(ref _deadlines);

    /// <summary>
    /// The one timer that keeps <see cref="Timeout"/> for this cache's remote commands on the system clock whose token
    /// cannot cancel (<see cref="CommandDeadlines"/>); null when the timeout is unset, shorter than
    /// <see cref="CommandDeadlines.Shortest"/>, or measured on another <see cref="TimeProvider"/> (a test clock is obeyed
    /// to the tick, by a timer per command).
    /// </summary>
    private CommandDeadlines? Deadlines
    {
        get
        {
            if (_timeout is not { } timeout || timeout < CommandDeadlines.Shortest || !ReferenceEquals(_timeProvider, TimeProvider.System))
            {
                return null;
            }

            var deadlines = Volatile.Read(ref _deadlines);
            if (deadlines is null)
            {
                var created = new CommandDeadlines(timeout);
                deadlines = Interlocked.CompareExchange(ref _deadlines, created, null) ?? created;
            }

            return deadlines;
        }
    }

    /// <summary>
    /// The backend's error mapping: turns an exception of its client into the <see cref="CacheException"/> family
    /// (naming <paramref name="subject"/>), or returns <c>null</c> to let it pass as it is. Called once per failed command,
    /// so backends write no try/catch of their own around each primitive.
    /// </summary>
    /// <param name="exception">What the operation threw.</param>
    /// <param name="command">The command that failed (for lock traffic, the command it is made of).</param>
    /// <param name="subject">What the message names: the caller's key, the first of several, the namespace being
    /// cleared or the raw command.</param>
    protected virtual Exception? MapError(Exception exception, CacheCommand command, string subject) => null;

    /// <summary>
    /// The part of the backend that a command about <paramref name="subject"/> reaches, where parts can hang while the
    /// others answer (a cluster's nodes), or <c>null</c> (the default) for a backend that fails as one, and for a command
    /// that reaches several parts, every one or none known. Values are compared with
    /// <see cref="object.Equals(object?, object?)"/>. The circuit breaker (<see cref="CircuitBreakerDuration"/>) takes
    /// its probe on the part whose command opened it, so that a part that answers does not close it while another
    /// still hangs. Asked only when a fault opens the breaker or fails its probe and, while the breaker waits for a
    /// probe, of the commands it would refuse; it must not wait, and what it throws counts as <c>null</c>.
    /// </summary>
    /// <param name="command">The command.</param>
    /// <param name="subject">What the command is about, as <see cref="MapError"/> is given it: the backend key (or the
    /// first of several), the namespace being cleared, or the raw command.</param>
    protected virtual object? FaultDomainOf(CacheCommand command, string subject) => null;

    /// <summary>
    /// <see cref="FaultDomainOf"/>, for the circuit breaker, which asks it inside exception filters: what it throws
    /// would be swallowed there and lose the command's own error, so it counts as no known part.
    /// </summary>
    internal object? FaultDomain(CacheCommand command, string subject)
    {
        try
        {
            return FaultDomainOf(command, subject);
        }
        catch (Exception)
        {
            return null;
        }
    }

    /// <summary>
    /// <see cref="MapError"/>, except for a cache that <see cref="Caches"/> replaced and then disposed: its
    /// <see cref="ObjectDisposedException"/> says so and how to get the current instance.
    /// </summary>
    /// <remarks>
    /// Every fault of a command's backend operation, and of tag records' traffic, passes here, so the circuit breaker
    /// learns of each one here. (Two best-effort looks that swallow their faults do not: a fill's release and the check
    /// of a stamped value after a refused increment.)
    /// </remarks>
    private Exception? Translate(Exception exception, CacheCommand command, string subject)
    {
        var mapped = exception is ObjectDisposedException disposed && _running is { IsClosed: true }
            ? new ObjectDisposedException(
                $"This {BackendName} of alias '{Alias}' was replaced in Caches (SetConfig, AddInstance or AddCached) and disposed once no command was running on it; get the current instance with Caches.Get(\"{Alias}\").",
                disposed)
            : MapError(exception, command, subject);
        _breaker?.Failed(_timeProvider, mapped ?? exception, BackendName, Alias, this, command, subject);
        return mapped;
    }

    /// <summary>
    /// Throws the circuit breaker's refusal for backend traffic beside a command, which may also run inside one (tag
    /// records): while it is open, except inside the probe's own flow.
    /// </summary>
    private void ThrowIfCircuitOpen(CacheCommand command, string subject)
    {
        if (_breaker is { } breaker && breaker.Refuses(_timeProvider, BackendName, Alias, command, subject, out var refusal, out _, besideCommand: true))
        {
            throw refusal;
        }
    }

    /// <summary>
    /// Whether the circuit breaker (<see cref="CircuitBreakerDuration"/>, set) refuses the command: then its refusal
    /// is recorded as the command's failure and given to throw, and the backend is not called. When the command is the
    /// breaker's probe (<paramref name="probe"/>, its claim), the caller leaves it once the operation has started.
    /// </summary>
    private bool CircuitRefuses(in CommandRequest request, Plugins.CacheCommandContext? context, out CacheBackendException refusal, out CircuitBreaker.Claim? probe)
    {
        if (!_breaker!.Refuses(_timeProvider, BackendName, Alias, request.Command, request.ErrorSubject, out refusal, out probe, domains: this))
        {
            return false;
        }

        CommandObserver.Failed(this, context, refusal);
        return true;
    }

    /// <summary>
    /// A cancellation that a command's operation met and its caller did not ask for (a sync command takes no token; an
    /// async one's token was not cancelled): it comes from the backend (StackExchange.Redis cancels a command when its
    /// connection is reset under it), so it is the backend's failure, not one the caller may take for its own
    /// cancellation. What a plugin's hook throws is the plugin's, and passes as it is.
    /// </summary>
    private CacheBackendException Unasked(OperationCanceledException exception, CacheCommand command, string subject)
    {
        var unasked = new CacheBackendException($"{BackendName} cancelled a {command} of '{subject}' that its caller did not cancel; its connection was probably reset: {exception.Message}", exception, unreachable: true);
        _breaker?.Failed(_timeProvider, unasked, BackendName, Alias, this, command, subject);
        return unasked;
    }

    /// <summary>An exception filter that records the failure and never catches, so the exception leaves untouched.</summary>
    private bool Report(Plugins.CacheCommandContext? context, Exception exception)
    {
        CommandObserver.Failed(this, context, exception);
        return false;
    }
}
