using Cached.Serializers;
using Cached.Pipeline;

namespace Cached.MultiLevel;

/// <summary>
/// The writes a <see cref="MultiLevelCache"/> could not make to its L2, retried in the background until L2 takes
/// them: one per key (a newer write to the same key replaces the waiting one and goes to the back), in the order they
/// were made, at most <see cref="Limit"/> (the oldest is dropped and logged beyond that). A retry backs off while L2
/// stays unreachable; a write L2 refuses for another reason is dropped and logged. Each write that lands is announced
/// on the backplane, as it would have been at once. A replay and a direct write of the same key take turns
/// (<see cref="TakeTurn(string?, string)"/>), so that the older one never lands last.
/// </summary>
internal sealed partial class PendingWrites : IDisposable
{
    private readonly MultiLevelCache _owner;
    private readonly object _gate = new();
    private readonly Dictionary<string, LinkedListNode<Write>> _bySlot = new(StringComparer.Ordinal);
    private readonly LinkedList<Write> _queue = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _worker = Task.CompletedTask;
    private bool _running;

    // The queue's length, read without the lock by the direct writes' check (nearly always 0).
    private int _waiting;

    public PendingWrites(MultiLevelCache owner) => _owner = owner;

    public int Limit { get; set; } = 10_000;

    /// <summary>The wait after the first failed retry; it doubles up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>The waiting writes, first in line first: what the retry loop will try, in its order.</summary>
    public Write[] Queued
    {
        get
        {
            lock (_gate)
            {
                return [.. _queue];
            }
        }
    }

    /// <summary>Completes when the queue has run dry (or stopped); for tests and for an orderly shutdown.</summary>
    public Task Drained
    {
        get
        {
            lock (_gate)
            {
                return _worker;
            }
        }
    }

    public void Set<T>(string key, T value, TimeSpan? ttl, string? @namespace, ISerializer? serializer, Exception? cause)
        => Enqueue(new Write(Slot(@namespace, key), BackplaneAction.Set, @namespace, key, _owner.ExpiryOf(ttl), DateTimeOffset.UtcNow,
            async (l2, expiry, ct) => await l2.SetAsync(key, value, expiry, @namespace, serializer, ct).ConfigureAwait(false)), cause);

    public void Delete(string key, string? @namespace, Exception? cause)
        => Enqueue(new Write(Slot(@namespace, key), BackplaneAction.Delete, @namespace, key, null, DateTimeOffset.UtcNow,
            async (l2, _, ct) => await l2.DeleteAsync(key, @namespace, ct).ConfigureAwait(false)), cause);

    public void Expire(string key, TimeSpan? ttl, string? @namespace, Exception? cause)
        => Enqueue(new Write(Slot(@namespace, key), BackplaneAction.Expire, @namespace, key, ttl is null ? null : _owner.ExpiryOf(ttl), DateTimeOffset.UtcNow,
            async (l2, expiry, ct) => await l2.ExpireAsync(key, expiry, @namespace, ct).ConfigureAwait(false)), cause);

    public void Clear(string? @namespace, Exception? cause)
        => Enqueue(new Write(ClearSlot(@namespace), BackplaneAction.Clear, @namespace, null, null, DateTimeOffset.UtcNow,
            async (l2, _, ct) => await l2.ClearAsync(@namespace, ct).ConfigureAwait(false)), cause);

    /// <summary>
    /// A tag invalidation L2 could not take. It needs no turn with the writes of keys: a tagged write is never kept
    /// (it fails as L2 does), and the entries an invalidation must miss carry the tokens it replaces whenever it lands.
    /// </summary>
    public void InvalidateTags(string[] names, Exception? cause)
        => Enqueue(new Write("\0tags\0" + string.Join("\0", names), BackplaneAction.Tags, null, null, null, DateTimeOffset.UtcNow,
            async (l2, _, ct) => await l2.InvalidateTagsAsync(names, ct).ConfigureAwait(false), names), cause);

    /// <summary>A write of the key reached L2 directly: a write of it still waiting is older and must not follow it.</summary>
    public void Written(string? @namespace, string key)
    {
        if (Volatile.Read(ref _waiting) == 0)
        {
            return;
        }

        lock (_gate)
        {
            if (_bySlot.Remove(Slot(@namespace, key), out var older))
            {
                _queue.Remove(older);
                Volatile.Write(ref _waiting, _queue.Count);
            }
        }
    }

    /// <summary>The namespace was cleared in L2 directly: every write to it still waiting is older.</summary>
    public void Cleared(string? @namespace)
    {
        if (Volatile.Read(ref _waiting) == 0)
        {
            return;
        }

        var space = _owner.L1Space(@namespace);
        lock (_gate)
        {
            for (var node = _queue.First; node is not null;)
            {
                var next = node.Next;
                if (node.Value.Action != BackplaneAction.Tags && string.Equals(_owner.L1Space(node.Value.Namespace), space, StringComparison.Ordinal))
                {
                    _bySlot.Remove(node.Value.Slot);
                    _queue.Remove(node);
                }

                node = next;
            }

            Volatile.Write(ref _waiting, _queue.Count);
        }
    }

    public void Stop()
    {
        _stop.Cancel();
        ReportAbandoned();
    }

    public async Task StopAsync()
    {
        _stop.Cancel();
        try
        {
            await Drained.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        ReportAbandoned();
    }

    /// <summary>Stops; the token source is released once the worker no longer reads it.</summary>
    public void Dispose()
    {
        Stop();
        if (Drained.IsCompleted)
        {
            _stop.Dispose();
        }
    }

    private void ReportAbandoned()
    {
        lock (_gate)
        {
            if (_queue.Count > 0)
            {
                MultiLevelLog.PendingWritesAbandoned(CachedLogging.Logger, _queue.Count, _owner.AliasForLogs);
                foreach (var write in _queue)
                {
                    MultiLevelTelemetry.Dropped(_owner, write.Action.ToString());
                }
            }

            _queue.Clear();
            _bySlot.Clear();
            Volatile.Write(ref _waiting, 0);
        }
    }

    /// <summary>
    /// Queues <paramref name="write"/>: because L2 could not be reached (<paramref name="cause"/>, logged), or, with no
    /// cause, because an older write it must follow still waits (<see cref="ClearWaits"/>, <see cref="HoldsUp"/>).
    /// </summary>
    private void Enqueue(Write write, Exception? cause)
    {
        if (cause is not null)
        {
            MultiLevelLog.WriteDeferred(CachedLogging.Logger, cause, write.Action.ToString(), _owner.AliasForLogs);
        }

        MultiLevelTelemetry.Deferred(_owner, write.Action.ToString());
        lock (_gate)
        {
            if (_bySlot.Remove(write.Slot, out var older))
            {
                _queue.Remove(older);
                write = Merge(older.Value, write);
            }

            // A tag invalidation goes first: until it lands every node reads the entries it invalidates back from L2,
            // and it needs no order with the writes of keys (see InvalidateTags).
            _bySlot[write.Slot] = write.Tags is null ? _queue.AddLast(write) : _queue.AddFirst(write);
            Volatile.Write(ref _waiting, _queue.Count);
            while (_queue.Count > Limit)
            {
                // The oldest write of a key goes, not a tag invalidation: losing one would bring back every entry of its tags.
                var victim = _queue.First!;
                while (victim.Value.Tags is not null && victim.Next is { } next)
                {
                    victim = next;
                }

                var oldest = victim.Value;
                _queue.Remove(victim);
                _bySlot.Remove(oldest.Slot);
                MultiLevelLog.PendingWriteDropped(CachedLogging.Logger, oldest.Action.ToString(), Limit, _owner.AliasForLogs);
                MultiLevelTelemetry.Dropped(_owner, oldest.Action.ToString());
            }

            Volatile.Write(ref _waiting, _queue.Count);

            if (!_running && !_stop.IsCancellationRequested)
            {
                _running = true;
                _worker = Task.Run(RunAsync);
            }
        }
    }

    /// <summary>
    /// What one waiting write of a key becomes when another follows it: the newer one, except that an expiry changes
    /// a waiting value's life (the value stays) and is nothing after a waiting delete.
    /// </summary>
    private static Write Merge(Write older, Write newer)
        => (older.Action, newer.Action) switch
        {
            (BackplaneAction.Set, BackplaneAction.Expire) => older with { Ttl = newer.Ttl, Made = newer.Made },
            (BackplaneAction.Delete, BackplaneAction.Expire) => older,
            _ => newer,
        };

    private async Task RunAsync()
    {
        var delay = FirstRetryDelay;
        var written = 0;
        var token = _stop.Token;
        while (true)
        {
            Write next;
            Task? turnsEnded;
            lock (_gate)
            {
                if (_queue.First is not { } first || token.IsCancellationRequested)
                {
                    _running = false;
                    break;
                }

                next = first.Value;
                turnsEnded = StartFlight(next);
            }

            if (turnsEnded is not null)
            {
                // A direct write of the key is under way: it decides what L2 holds, and then this write is gone or stays.
                if (!await WaitOrStop(turnsEnded, token).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            Exception? failure = null;
            try
            {
                await Replay(next, token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                failure = ex;
            }

            if (failure is null)
            {
                written++;
                delay = FirstRetryDelay;
                try
                {
                    Landed(next);
                }
                finally
                {
                    // Landed's steps log their own faults and do not throw; were one to, a direct write waiting for this
                    // replay must still not wait for ever.
                    EndFlight();
                }

                continue;
            }

            // Before any wait: a direct write that waited for this replay goes on now.
            EndFlight();
            if (failure is OperationCanceledException && token.IsCancellationRequested)
            {
                Stopped();
                return;
            }

            if (MultiLevelCache.IsUnreachable(failure))
            {
                if (!await WaitOrStop(BackOff(delay, token), token).ConfigureAwait(false))
                {
                    return;
                }

                delay = delay * 2 < MaxRetryDelay ? delay * 2 : MaxRetryDelay;
                continue;
            }

            Remove(next);
            MultiLevelLog.PendingWriteRefused(CachedLogging.Logger, failure, next.Action.ToString(), _owner.AliasForLogs);
            MultiLevelTelemetry.Dropped(_owner, next.Action.ToString());
        }

        if (written > 0)
        {
            MultiLevelLog.PendingWritesDone(CachedLogging.Logger, written, _owner.AliasForLogs);
        }
    }

    /// <summary>What follows a replay that L2 took: this node's copy dropped, the other nodes told, the write done.</summary>
    private void Landed(Write write)
    {
        if (write.Tags is { } names)
        {
            // The other nodes were told when it was made, but may have copied entries from L2 since, which held the
            // old records until now: each node invalidates again.
            _owner.InvalidateInL1(names);
            _owner.Publish(BackplaneAction.Tags, null, names);
            Remove(write);
            return;
        }

        // This node's L1 may have taken an older value from L2 meanwhile (after a reconnect emptied it), and it skips its
        // own message: it drops the key itself, before the write stops counting as waiting, so that nobody who sees the
        // count at zero reads the older copy.
        var space = _owner.L1Space(write.Namespace);
        if (write.Key is null)
        {
            _owner.ClearL1(space);
        }
        else
        {
            _owner.DropL1(write.Key, space);
        }

        // Announced before it stops counting as waiting: whoever sees the count at zero may count on the other nodes
        // having been told (handed to the backplane, which never throws here).
        _owner.Publish(write.Action, space, write.Key is null ? [] : [write.Key]);
        Remove(write);
    }

    /// <summary>Waits for <paramref name="wait"/>; false, with the loop marked stopped, when the queue is stopped meanwhile.</summary>
    private async ValueTask<bool> WaitOrStop(Task wait, CancellationToken token)
    {
        try
        {
            await TokenWait.WaitAsync(wait, token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            Stopped();
            return false;
        }
    }

    private void Stopped()
    {
        lock (_gate)
        {
            _running = false;
        }
    }

    /// <summary>
    /// Makes the write with what is left of its time to live (the write's <see cref="Write.Ttl"/> is its expiry, null
    /// for none, passed on as <see cref="TimeSpan.Zero"/>, which every cache reads as no expiry): a value that would
    /// have expired while it waited is not written; the key is deleted instead, so that no older value outlives it.
    /// </summary>
    private async ValueTask Replay(Write write, CancellationToken cancellationToken)
    {
        var ttl = write.Ttl;
        if (ttl is { } given)
        {
            var left = given - (DateTimeOffset.UtcNow - write.Made);
            if (left <= TimeSpan.Zero)
            {
                if (write.Action == BackplaneAction.Set)
                {
                    await _owner.L2.DeleteAsync(write.Key!, write.Namespace, cancellationToken).ConfigureAwait(false);
                    return;
                }

                left = TimeSpan.FromMilliseconds(1);
            }

            ttl = left;
        }
        else if (write.Action is BackplaneAction.Set or BackplaneAction.Expire)
        {
            ttl = TimeSpan.Zero;
        }

        await write.Run(_owner.L2, ttl, cancellationToken).ConfigureAwait(false);
    }

    private void Remove(Write write)
    {
        lock (_gate)
        {
            if (_bySlot.TryGetValue(write.Slot, out var node) && ReferenceEquals(node.Value, write))
            {
                _bySlot.Remove(write.Slot);
                _queue.Remove(node);
                Volatile.Write(ref _waiting, _queue.Count);
            }
        }
    }

    // By the namespace L1 knows the key by (null reads as L2's own), as turns compare them: a write made with no
    // namespace and one made with L2's own name are of the same key, and the later replaces the earlier.
    private string Slot(string? @namespace, string key) => (_owner.L1Space(@namespace) ?? "\0") + "\0" + key;

    private string ClearSlot(string? @namespace) => "\0clear\0" + (_owner.L1Space(@namespace) ?? "\0");

    /// <summary>One write kept for L2: of a key, a clear of a namespace (no <see cref="Key"/>), or a tag invalidation (<see cref="Tags"/>).</summary>
    internal sealed record Write(string Slot, BackplaneAction Action, string? Namespace, string? Key, TimeSpan? Ttl, DateTimeOffset Made, Func<ICache, TimeSpan?, CancellationToken, Task> Run, string[]? Tags = null);
}
