using System.Runtime.CompilerServices;
using Cached.Pipeline;
using Cached.Plugins;
using Cached.Resilience;
using Cached.Runtime;
using Cached.Serializers;

namespace Cached;

// The async read of one entry: what TryGetAsync and every generated method's read run.
public abstract partial class BaseCache
{
    /// <summary>
    /// <see cref="TryGetOnceAsync{T}"/> for a cached method, which goes on to its miss, or takes the read's fault, in the
    /// read's own frame (<paramref name="end"/>): a remote hit costs the caller no frame of its own.
    /// </summary>
    internal ValueTask<TOut> ReadThenAsync<T, TEnd, TOut>(string key, string? @namespace, ISerializer? serializer, TEnd end, CancellationToken cancellationToken)
        where TEnd : struct, IEntryReadEnd<T, TOut>
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<TOut>(cancellationToken);
        }

        if (Cache.Disabled)
        {
            return end.Otherwise(null);
        }

        PreparedKey read;
        Exception? refused = null;
        try
        {
            Guard.Key(key);
            read = PrepareKey(key, @namespace);
        }
        catch (Exception ex) when (end.Takes(ex))
        {
            read = default;
            refused = ex;
        }

        return refused is null
            ? RunReadAsync<T, TEnd, TOut>(new CommandRequest(CacheCommand.Get, key, Namespace: read.Namespace, Subject: read.FullKey), read, serializer, awaitedOnce: true, end, cancellationToken)
            : end.Otherwise(refused);
    }

    /// <summary>
    /// <see cref="RunAsync{TState, TResult}"/> for a read of one entry, with the same steps in the same order: an
    /// in-process read completes synchronously, without a state machine; a remote one is read, decoded and observed in
    /// one async frame (<see cref="DecodeThenEnd{T, TEnd, TOut}"/>), under the pipeline's timer when <see cref="ReadNeedsTimer"/>.
    /// That frame comes from a pool, so the task handed to a caller outside this library, which may await it twice or
    /// keep it, is made a plain task first unless <paramref name="awaitedOnce"/> (still smaller than a frame of its own).
    /// </summary>
    /// <remarks>
    /// <paramref name="end"/> says what the read answers (<see cref="IEntryReadEnd{T, TOut}"/>); it runs after the read
    /// has ended and been counted, in the read's frame when there is one.
    /// </remarks>
    private ValueTask<TOut> RunReadAsync<T, TEnd, TOut>(in CommandRequest request, PreparedKey read, ISerializer? serializer, bool awaitedOnce, TEnd end, CancellationToken cancellationToken)
        where TEnd : struct, IEntryReadEnd<T, TOut>
    {
        var running = _running;
        running?.Enter();
        var handedOver = false;
        CacheResult<T> done = default;
        Exception? failed = null;
        try
        {
            if (!CommandObserver.TryBegin(this, _plugins, request, out var context, out var refused))
            {
                // A pre hook's exception, in the task as from an async method.
                failed = refused;
            }
            else
            {
                // Without a circuit breaker straight to the read: this is every cached method's hit.
                done = _breaker is null
                    ? RunReadUnguarded<T, TEnd, TOut>(request, read, serializer, awaitedOnce, end, context, running, ref handedOver, out failed, out var reading, cancellationToken)
                    : RunRead<T, TEnd, TOut>(request, read, serializer, awaitedOnce, end, context, running, ref handedOver, out failed, out reading, cancellationToken);
                if (handedOver)
                {
                    return reading;
                }
            }
        }
        catch (Exception ex) when (end.Takes(ex))
        {
            // A post hook's exception, which the caller takes.
            failed = ex;
        }
        finally
        {
            if (!handedOver)
            {
                running?.Exit();
            }
        }

        if (failed is not null)
        {
            return end.Takes(failed) ? end.Otherwise(failed) : ValueTask.FromException<TOut>(failed);
        }

        return done.Found ? new ValueTask<TOut>(end.Found(done.Value)) : end.Otherwise(null);
    }

    /// <summary>
    /// The read begun by <see cref="RunReadAsync{T, TEnd, TOut}"/>: its entry when it completed synchronously, or its
    /// fault mapped (<paramref name="failed"/>), or the frame that ends it (<paramref name="reading"/>, with
    /// <paramref name="handedOver"/> set).
    /// </summary>
    private CacheResult<T> RunRead<T, TEnd, TOut>(in CommandRequest request, PreparedKey read, ISerializer? serializer, bool awaitedOnce, TEnd end, Plugins.CacheCommandContext? context, CommandCount? running, ref bool handedOver, out Exception? failed, out ValueTask<TOut> reading, CancellationToken cancellationToken)
        where TEnd : struct, IEntryReadEnd<T, TOut>
    {
        failed = null;
        reading = default;
        if (request.PastBreaker)
        {
            return RunReadUnguarded<T, TEnd, TOut>(request, read, serializer, awaitedOnce, end, context, running, ref handedOver, out failed, out reading, cancellationToken);
        }

        if (CircuitRefuses(request, context, out var refusal, out var probe))
        {
            failed = refusal;
            return default;
        }

        try
        {
            return RunReadUnguarded<T, TEnd, TOut>(request, read, serializer, awaitedOnce, end, context, running, ref handedOver, out failed, out reading, cancellationToken);
        }
        finally
        {
            if (probe is not null)
            {
                // The read's continuation carries the probe in its own flow; the caller's goes on without it.
                CircuitBreaker.LeaveProbe(probe);
            }
        }
    }

    /// <summary><see cref="RunRead{T, TEnd, TOut}"/> once the circuit breaker, if any, let the read through.</summary>
    private CacheResult<T> RunReadUnguarded<T, TEnd, TOut>(in CommandRequest request, PreparedKey read, ISerializer? serializer, bool awaitedOnce, TEnd end, Plugins.CacheCommandContext? context, CommandCount? running, ref bool handedOver, out Exception? failed, out ValueTask<TOut> reading, CancellationToken cancellationToken)
        where TEnd : struct, IEntryReadEnd<T, TOut>
    {
        failed = null;
        reading = default;
        var operating = true;
        try
        {
            // The client's own task is awaited as it is, or watched by the shared deadlines: a timer per command (a
            // token that can cancel, a test clock) waits on a task, which the backend's pooled frame makes cheaper.
            var timed = ReadNeedsTimer(cancellationToken);
            ValueTask<CacheResult<object?>> pending = default;
            PendingEntryRead client = default;
            // Under the shared deadlines (a timeout, a token that cannot cancel) the client's task is watched as it is
            // too; only a token or a per-command timer needs the backend's own frame, as a task.
            if ((!timed || (!cancellationToken.CanBeCanceled && Deadlines is not null)) && TryStartEntryRead(read.FullKey, out client))
            {
                if (client.Reply!.IsCompletedSuccessfully)
                {
                    pending = new ValueTask<CacheResult<object?>>(client.ToEntry!(client.Reply));
                    client = default;
                }
            }
            else
            {
                pending = GetEntryAsync(read.FullKey, cancellationToken);
            }

            if (client.Reply is null && pending.IsCompletedSuccessfully)
            {
                var result = Decode<T>(read.Key, pending.Result, serializer);
                operating = false;
                _breaker?.Succeeded(BackendName, Alias);
                if (context is not null)
                {
                    CommandObserver.End(this, _plugins, context, end.Outcome(result));
                }

                return result;
            }

            // The command goes on after this method returns: what is returned counts its end.
            // The clock is read only here: an in-process read that completed pays for no timestamp.
            handedOver = true;
            reading = DecodeThenEnd<T, TEnd, TOut>(pending, client, read.Key, serializer, request.ErrorSubject, context, running, _timeProvider.GetTimestamp(), timed, end, cancellationToken);
            CommandObserver.HandOver(context);
            reading = awaitedOnce ? reading : reading.Preserve();
            return default;
        }
        catch (OperationCanceledException ex) when (operating && !cancellationToken.IsCancellationRequested)
        {
            var mapped = Unasked(ex, request.Command, request.ErrorSubject);
            CommandObserver.Failed(this, context, mapped);
            failed = mapped;
            return default;
        }
        catch (Exception ex) when (operating && Translate(ex, request.Command, request.ErrorSubject) is { } mapped)
        {
            CommandObserver.Failed(this, context, mapped);
            failed = mapped;
            return default;
        }
        catch (Exception ex) when (Report(context, ex))
        {
            throw;
        }
    }

    /// <summary>The entry <paramref name="client"/>'s task becomes, as a task of its own.</summary>
    private static async Task<CacheResult<object?>> EntryOf(PendingEntryRead client)
    {
        await client.Reply!.ConfigureAwait(false);
        return client.ToEntry!(client.Reply);
    }

    /// <summary>
    /// The rest of a remote read of one entry, in one frame: the entry awaited (the client's own task when the backend
    /// started one, <paramref name="client"/>, else <paramref name="pending"/>; under the pipeline's timer when
    /// <paramref name="timed"/>: the caller's token, and <see cref="Timeout"/> since <paramref name="started"/> on
    /// <see cref="TimeProvider"/>), decoded, and <see cref="Complete{TResult}"/>'s ending (post hooks, error mapping,
    /// count of running commands). A decoding that needs a round trip of its own (the tags of a tagged entry) gets what
    /// is left of <see cref="Timeout"/>, so the command as a whole keeps its bound either way.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // awaited once: see RunReadAsync
    private async ValueTask<TOut> DecodeThenEnd<T, TEnd, TOut>(ValueTask<CacheResult<object?>> pending, PendingEntryRead client, string key, ISerializer? serializer, string subject, Plugins.CacheCommandContext? context, CommandCount? running, long started, bool timed, TEnd end, CancellationToken cancellationToken)
        where TEnd : struct, IEntryReadEnd<T, TOut>
    {
        CacheResult<T> result = default;
        Exception? taken = null;
        try
        {
            var operating = true;
            try
            {
                CacheResult<object?> entry;
                if (timed && !cancellationToken.CanBeCanceled && Deadlines is { } deadlines)
                {
                    try
                    {
                        entry = client.Reply is { } watched
                            ? await deadlines.Watch(watched, client.ToEntry!, DeadlineAfter(started)).ConfigureAwait(false)
                            : await deadlines.Watch(pending, DeadlineAfter(started)).ConfigureAwait(false);
                    }
                    catch (TimeoutException ex)
                    {
                        // The read itself is still awaited by the watch, which observes how it ends.
                        throw TimeoutOf(CacheCommand.Get, ex);
                    }
                }
                else if (timed)
                {
                    // RunRead keeps the client's task under a timer only where Deadlines is set, which Timeout and the
                    // TimeProvider (both init-only) decide alike here; should either become settable, the read still ends.
                    var reading = client.Reply is null ? pending.AsTask() : EntryOf(client);
                    try
                    {
                        entry = await Deadline(reading, _timeout - _timeProvider.GetElapsedTime(started), cancellationToken).ConfigureAwait(false);
                    }
                    catch (TimeoutException ex) when (_timeout is not null)
                    {
                        throw TimedOut(reading, CacheCommand.Get, ex);
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        Abandon(reading);
                        throw;
                    }
                }
                else if (client.Reply is { } reply)
                {
                    await reply.ConfigureAwait(false);
                    entry = client.ToEntry!(reply);
                }
                else
                {
                    entry = await pending.ConfigureAwait(false);
                }

                if (entry.Found && serializer is IDecodeGate { Gate: { IsCompleted: false } gate })
                {
                    // Tag tokens requested before the entry: their reply is due, and decoding checks the entry with them.
                    await gate.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }

                if (!entry.Found || !StampFormat.IsTagged(entry.Value))
                {
                    // What DecodeAsync would do, without its frame: only a tagged entry may need a round trip to decode.
                    result = Decode<T>(key, entry, serializer);
                }
                else
                {
                    var decoding = DecodeAsync<T>(key, entry, serializer, cancellationToken);
                    result = decoding.IsCompleted
                        ? await decoding.ConfigureAwait(false)
                        : await Bounded(decoding.AsTask(), CacheCommand.Get, _timeout - _timeProvider.GetElapsedTime(started), cancellationToken).ConfigureAwait(false);
                }

                operating = false;
                _breaker?.Succeeded(BackendName, Alias);
                if (context is not null)
                {
                    CommandObserver.End(this, _plugins, context, end.Outcome(result));
                }
            }
            catch (OperationCanceledException ex) when (operating && !cancellationToken.IsCancellationRequested)
            {
                var mapped = Unasked(ex, CacheCommand.Get, subject);
                CommandObserver.Failed(this, context, mapped);
                throw mapped;
            }
            catch (Exception ex) when (operating && Translate(ex, CacheCommand.Get, subject) is { } mapped)
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
        catch (Exception ex) when (end.Takes(ex))
        {
            // The read's fault, mapped and observed, goes on to the caller's own handling of it, in this frame.
            taken = ex;
        }

        if (taken is not null)
        {
            return await end.Otherwise(taken).ConfigureAwait(false);
        }

        return result.Found ? end.Found(result.Value) : await end.Otherwise(null).ConfigureAwait(false);
    }
}
