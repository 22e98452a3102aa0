using Cached.Capabilities;
using Cached.MultiLevel;
using Cached.Serializers;
using Cached.Pipeline;

namespace Cached;

/// <summary>The asynchronous twins, with the same two-level meaning as the synchronous commands.</summary>
public sealed partial class MultiLevelCache
{
    /// <inheritdoc cref="Add{T}"/>
    public async ValueTask<bool> AddAsync<T>(string key, T value, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
    {
        CheckCall(key, @namespace, cancellationToken);
        ThrowIfHeldUp(nameof(Add), key, @namespace);
        await WhenSubscribedAsync(cancellationToken).ConfigureAwait(false);
        var space = L1Space(@namespace);
        var write = BeginWrite(key, space, wait: false);
        bool added;
        try
        {
            added = await Abandonable(L2.AddAsync(key, value, ttl, @namespace, serializer, CancellationToken.None), BackplaneAction.Set, space, [key], cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            write?.Dispose();
            Abandoned(BackplaneAction.Set, space, [key]);
            throw;
        }
        catch
        {
            write?.Dispose();
            throw;
        }

        EndWrite(write, key, value, ttl, space, stored: added);
        Publish(BackplaneAction.Set, space, [key]);
        return added;
    }

    /// <inheritdoc cref="Get{T}"/>
    public ValueTask<T?> GetAsync<T>(string key, T? @default = default, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
    {
        var read = TryGetAsync<T>(key, @namespace, serializer, cancellationToken);
        if (!read.IsCompletedSuccessfully)
        {
            return ValueOrDefaultAsync(read, @default);
        }

        // An L1 hit completes synchronously: answered without an async state machine.
        var result = read.Result;
        return new ValueTask<T?>(result.Found ? result.Value : @default);
    }

    private static async ValueTask<T?> ValueOrDefaultAsync<T>(ValueTask<CacheResult<T>> read, T? @default)
    {
        var result = await read.ConfigureAwait(false);
        return result.Found ? result.Value : @default;
    }

    /// <inheritdoc cref="TryGet{T}"/>
    public ValueTask<CacheResult<T>> TryGetAsync<T>(string key, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
    {
        if (CallProblem(key, @namespace) is { } problem)
        {
            return ValueTask.FromException<CacheResult<T>>(problem);
        }

        var first = L1.TryGetAsync<T>(key, L1Space(@namespace), FirstLookInL1(serializer), cancellationToken);
        if (!first.IsCompletedSuccessfully)
        {
            return ReadThroughAsync(first, key, @namespace, serializer, cancellationToken);
        }

        // An L1 hit completes synchronously: no state machine on the hot path.
        var local = first.Result;
        return local.Found ? new ValueTask<CacheResult<T>>(local) : ReadL2Async<T>(key, @namespace, serializer, cancellationToken);
    }

    private async ValueTask<CacheResult<T>> ReadThroughAsync<T>(ValueTask<CacheResult<T>> first, string key, string? @namespace, ISerializer? serializer, CancellationToken cancellationToken)
    {
        var local = await first.ConfigureAwait(false);
        return local.Found ? local : await ReadL2Async<T>(key, @namespace, serializer, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<CacheResult<T>> ReadL2Async<T>(string key, string? @namespace, ISerializer? serializer, CancellationToken cancellationToken)
    {
        if (_pending.Drops(@namespace, key))
        {
            // As in TryGet: a delete of the key this node still waits to send to L2.
            return CacheResult<T>.Miss;
        }

        var space = L1Space(@namespace);
        using var fill = await OpenL1FillAsync(key, space, cancellationToken).ConfigureAwait(false);
        CacheResult<T> result;
        TimeSpan? remaining;
        try
        {
            (result, remaining) = L2 is BaseCache level
                ? await level.TryGetWithTtlAsync<T>(key, @namespace, serializer, cancellationToken).ConfigureAwait(false)
                : (await L2.TryGetAsync<T>(key, @namespace, serializer, cancellationToken).ConfigureAwait(false), null);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && LastValueInL1<T>(ex, key, space, serializer) is { Found: true } last)
        {
            return last;
        }

        if (result.Found)
        {
            FillL1(fill, key, result.Value, remaining, space);
        }

        return result;
    }

    /// <inheritdoc cref="Set{T}(string, T, TimeSpan?, string?, ISerializer?)"/>
    public async ValueTask<bool> SetAsync<T>(string key, T value, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
    {
        CheckCall(key, @namespace, cancellationToken);
        var space = L1Space(@namespace);
        await WhenSubscribedAsync(cancellationToken).ConfigureAwait(false);
        using var turn = await _pending.TakeTurnAsync(@namespace, key, cancellationToken).ConfigureAwait(false);
        if (_pending.ClearWaits(@namespace))
        {
            return DeferSet(key, value, ttl, @namespace, serializer, space, cause: null);
        }

        var write = BeginWrite(key, space, wait: false);
        try
        {
            await Abandonable(L2.SetAsync(key, value, ttl, @namespace, serializer, CancellationToken.None), BackplaneAction.Set, space, [key], cancellationToken, turn).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsUnreachable(ex))
        {
            write?.Dispose();
            return DeferSet(key, value, ttl, @namespace, serializer, space, ex);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            write?.Dispose();
            Abandoned(BackplaneAction.Set, space, [key]);
            throw;
        }
        catch
        {
            write?.Dispose();
            throw;
        }

        _pending.Written(@namespace, key);
        EndWrite(write, key, value, ttl, space);
        Publish(BackplaneAction.Set, space, [key]);
        return true;
    }

    /// <inheritdoc cref="MultiGet{T}"/>
    public async ValueTask<IReadOnlyList<T?>> MultiGetAsync<T>(IEnumerable<string> keys, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
        => (await MultiTryGetAsync<T>(keys, @namespace, serializer, cancellationToken).ConfigureAwait(false)).Select(static result => result.Value).ToArray();

    /// <inheritdoc cref="MultiTryGet{T}"/>
    public async ValueTask<IReadOnlyList<CacheResult<T>>> MultiTryGetAsync<T>(IEnumerable<string> keys, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
    {
        var given = CheckBatch(keys, @namespace);
        cancellationToken.ThrowIfCancellationRequested();
        var space = L1Space(@namespace);
        var results = (await L1.MultiTryGetAsync<T>(given, space, FirstLookInL1(serializer), cancellationToken).ConfigureAwait(false)).ToArray();
        var missing = MissingKeys(given, results, out var positions);
        if (missing.Length == 0)
        {
            return results;
        }

        await WhenSubscribedAsync(cancellationToken).ConfigureAwait(false);
        var fills = OpenL1Fills(missing, space, wait: false);
        try
        {
            var (read, remaining) = L2 is BaseCache level
                ? await level.MultiTryGetWithTtlAsync<T>(missing, @namespace, serializer, cancellationToken).ConfigureAwait(false)
                : ((await L2.MultiTryGetAsync<T>(missing, @namespace, serializer, cancellationToken).ConfigureAwait(false)).ToArray(), new TimeSpan?[missing.Length]);
            MaskDropped(missing, read, @namespace);
            FillAll(results, positions, missing, read, remaining, fills, space);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && LastValuesInL1<T>(ex, missing, @namespace, space, serializer) is { } last)
        {
            for (var i = 0; i < missing.Length; i++)
            {
                results[positions[i]] = last[i];
            }
        }
        finally
        {
            Close(fills);
        }

        return results;
    }

    /// <inheritdoc cref="MultiSet{T}"/>
    public async ValueTask<bool> MultiSetAsync<T>(IEnumerable<KeyValuePair<string, T>> pairs, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
    {
        var given = CheckBatch(pairs, @namespace);
        cancellationToken.ThrowIfCancellationRequested();
        var space = L1Space(@namespace);
        await WhenSubscribedAsync(cancellationToken).ConfigureAwait(false);
        using var turn = await _pending.TakeTurnAsync(@namespace, given, cancellationToken).ConfigureAwait(false);
        if (_pending.ClearWaits(@namespace))
        {
            return DeferSets(given, ttl, @namespace, serializer, space, cause: null);
        }

        var writes = BeginWrites(given, space, wait: false);
        try
        {
            await Abandonable(L2.MultiSetAsync(given, ttl, @namespace, serializer, CancellationToken.None), BackplaneAction.Set, space, KeysOf(given), cancellationToken, turn).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsUnreachable(ex))
        {
            Close(writes);
            return DeferSets(given, ttl, @namespace, serializer, space, ex);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Close(writes);
            Abandoned(BackplaneAction.Set, space, KeysOf(given));
            throw;
        }
        catch
        {
            Close(writes);
            throw;
        }

        EndWrites(writes, given, ttl, @namespace, space);
        Publish(BackplaneAction.Set, space, KeysOf(given));
        return true;
    }

    /// <inheritdoc cref="Exists"/>
    public async ValueTask<bool> ExistsAsync(string key, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        CheckCall(key, @namespace, cancellationToken);
        return await L1.ExistsAsync(key, L1Space(@namespace), cancellationToken).ConfigureAwait(false)
            || await L2.ExistsAsync(key, @namespace, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc cref="Increment"/>
    public async ValueTask<long> IncrementAsync(string key, long delta = 1, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        CheckCall(key, @namespace, cancellationToken);
        ThrowIfHeldUp(nameof(Increment), key, @namespace);
        var space = L1Space(@namespace);
        long value;
        try
        {
            value = await Abandonable(L2.IncrementAsync(key, delta, @namespace, CancellationToken.None), BackplaneAction.Set, space, [key], cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Abandoned(BackplaneAction.Set, space, [key]);
            throw;
        }

        DropL1(key, space);
        Publish(BackplaneAction.Set, space, [key]);
        return value;
    }

    /// <inheritdoc cref="Delete"/>
    public async ValueTask<int> DeleteAsync(string key, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        CheckCall(key, @namespace, cancellationToken);
        var space = L1Space(@namespace);
        using var turn = await _pending.TakeTurnAsync(@namespace, key, cancellationToken).ConfigureAwait(false);
        if (_pending.ClearWaits(@namespace))
        {
            return DeferDelete(key, @namespace, space, cause: null);
        }

        int deleted;
        try
        {
            deleted = await Abandonable(L2.DeleteAsync(key, @namespace, CancellationToken.None), BackplaneAction.Delete, space, [key], cancellationToken, turn).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsUnreachable(ex))
        {
            return DeferDelete(key, @namespace, space, ex);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Abandoned(BackplaneAction.Delete, space, [key]);
            throw;
        }

        _pending.Written(@namespace, key);
        DropL1(key, space);
        Publish(BackplaneAction.Delete, space, [key]);
        return deleted;
    }

    /// <inheritdoc cref="Clear"/>
    public async ValueTask<bool> ClearAsync(string? @namespace = null, CancellationToken cancellationToken = default)
    {
        CheckClear(@namespace);
        cancellationToken.ThrowIfCancellationRequested();
        var space = L1Space(@namespace);
        using var turn = await _pending.TakeClearTurnAsync(@namespace, cancellationToken).ConfigureAwait(false);
        try
        {
            await Abandonable(L2.ClearAsync(@namespace, CancellationToken.None), BackplaneAction.Clear, space, [], cancellationToken, turn).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsUnreachable(ex))
        {
            _pending.Clear(@namespace, ex);
            ClearL1(space);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Abandoned(BackplaneAction.Clear, space, []);
            throw;
        }

        _pending.Cleared(@namespace);
        ClearL1(space);
        Publish(BackplaneAction.Clear, space, []);
        return true;
    }

    /// <inheritdoc cref="Expire"/>
    public async ValueTask<bool> ExpireAsync(string key, TimeSpan? ttl, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        CheckCall(key, @namespace, cancellationToken);
        var space = L1Space(@namespace);
        using var turn = await _pending.TakeTurnAsync(@namespace, key, cancellationToken).ConfigureAwait(false);
        if (ExpiryMustFollow(key, @namespace))
        {
            return DeferExpire(key, ttl, @namespace, space, cause: null);
        }

        bool changed;
        try
        {
            changed = await Abandonable(L2.ExpireAsync(key, ttl, @namespace, CancellationToken.None), BackplaneAction.Expire, space, [key], cancellationToken, turn).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsUnreachable(ex))
        {
            return DeferExpire(key, ttl, @namespace, space, ex);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Abandoned(BackplaneAction.Expire, space, [key]);
            throw;
        }

        DropL1(key, space);
        Publish(BackplaneAction.Expire, space, [key]);
        return changed;
    }

    /// <inheritdoc cref="Raw"/>
    public ValueTask<object?> RawAsync(string command, object?[]? args = null, CancellationToken cancellationToken = default)
        => DisposedProblem() is { } disposed ? ValueTask.FromException<object?>(disposed) : L2.RawAsync(command, args, cancellationToken);

    /// <summary>
    /// An L2 write under its caller's token. The write itself is not cancelled: once sent, a remote store may apply it
    /// whatever the caller does. The caller's wait is, and then, when the write ends, every node drops its copies once
    /// more (<see cref="Abandoned"/>): a node may have read the old value back from L2 between the caller's
    /// cancellation and the write landing. The keys' <paramref name="turn"/>, when given, lasts until the write ends, so
    /// that no write kept from an outage is replayed under it.
    /// </summary>
    private ValueTask<T> Abandonable<T>(ValueTask<T> write, BackplaneAction action, string? space, IReadOnlyList<string> keys, CancellationToken cancellationToken, PendingWrites.Turn? turn = null)
    {
        return write.IsCompleted || !cancellationToken.CanBeCanceled ? write : WaitAsync(write.AsTask());

        async ValueTask<T> WaitAsync(Task<T> pending)
        {
            try
            {
                return await TokenWait.WaitAsync(pending, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !pending.IsCompleted)
            {
                // The keys' turn lasts until the write ends: a replay of them must not land before it, nor look at the
                // kept writes before a write that landed has dropped those it replaces.
                turn?.Hold();
                _ = pending.ContinueWith(
                    static (ended, state) =>
                    {
                        _ = ended.Exception; // observed: the caller has left, and the outcome is only a reason to drop copies
                        var (cache, action, space, keys, turn) = ((MultiLevelCache, BackplaneAction, string?, IReadOnlyList<string>, PendingWrites.Turn?))state!;
                        try
                        {
                            if (turn is not null && ended.IsCompletedSuccessfully)
                            {
                                cache.LandedAfterCaller(action, space, keys);
                            }

                            cache.Abandoned(action, space, keys, ended.Exception?.InnerException);
                        }
                        finally
                        {
                            turn?.Dispose();
                        }
                    },
                    (this, action, space, keys, turn),
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
                throw;
            }
        }
    }

    /// <summary>
    /// An async write its caller cancelled while L2 had it: L2 may have applied it or not. So that no node serves a copy
    /// that differs from what L2 ends up holding, this node drops its copies and tells the other nodes to drop theirs;
    /// the next reads ask L2. The caller still gets its cancellation.
    /// </summary>
    private void Abandoned(BackplaneAction action, string? space, IReadOnlyList<string> keys, Exception? failure = null)
    {
        if (action == BackplaneAction.Tags)
        {
            // The names are the tags: an invalidation L2 could not take after all is kept, as it would have been.
            var names = keys.ToArray();
            if (failure is not null && IsUnreachable(failure))
            {
                _pending.InvalidateTags(names, failure);
            }

            InvalidateInL1(names);
        }
        else if (action == BackplaneAction.Clear)
        {
            ClearL1(space);
        }
        else
        {
            foreach (var key in keys)
            {
                DropL1(key, space);
            }
        }

        Publish(action, space, keys);
    }
}
