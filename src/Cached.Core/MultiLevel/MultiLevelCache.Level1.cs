using Cached.Capabilities;
using Cached.MultiLevel;
using Cached.Resilience;

namespace Cached;

/// <summary>
/// How L1 takes a copy. Every copy goes in through a fill ticket opened before the value was read or written, so a
/// change that overtakes it (a write on this node, or a message from another, each of which drops L1's copy and so
/// moves the key's fence) makes the copy refused instead of stale. L1 is called synchronously: it is in-process.
/// </summary>
public sealed partial class MultiLevelCache
{
    private static void Close(FillTicket?[]? fills)
    {
        foreach (var fill in fills ?? [])
        {
            fill?.Dispose();
        }
    }

    /// <summary>Copies a value read from L2 into L1 for its remaining life, unless a change overtook the read.</summary>
    private void FillL1<T>(FillTicket? fill, string key, T? value, TimeSpan? remaining, string? space)
    {
        var life = L1Life(remaining);
        if (life is { Ticks: <= 0 } || !ReadyForL1(ref value, life))
        {
            return;
        }

        // Without a ticket a fenced L1 takes nothing: the read began before the backplane was subscribed.
        if (fill is null && (L1 is IFencedFillCache || !CanFillL1(wait: false)))
        {
            return;
        }

        try
        {
            Track(space);
            if (fill is not null)
            {
                ((IFencedFillCache)L1).TryFill(fill, value, life);
            }
            else
            {
                L1.Set(key, value, life, space);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            MultiLevelLog.L1WriteFailed(CachedLogging.Logger, ex, key, AliasForLogs);
        }
        finally
        {
            Track(space);
        }
    }

    /// <summary>
    /// The serializer of a read's first look at L1, one key or a batch: a stamped read (fail-safe, eager refresh, tags)
    /// adopts a plain copy, as L2's read adopts a plain value, so the answer does not depend on whether this node holds a
    /// copy; a stale stamped copy is still a miss there, which sends the read on to L2, where another node may have
    /// written a fresher value (<see cref="LastValueInL1{T}"/> and <see cref="LastValuesInL1{T}"/> serve the copy when L2
    /// fails). Any other serializer is for L2's bytes.
    /// </summary>
    private static Serializers.ISerializer? FirstLookInL1(Serializers.ISerializer? serializer)
        => serializer is Resilience.IPayloadAdopter stamps ? stamps.FreshOnly : null;

    /// <summary>
    /// For a read-through call with fail-safe (its serializer adopts stamps) whose read of L2 failed: the stale entry
    /// L1 still holds, which a plain read of L1 answers as a miss, so that the call serves it as its last value while L2
    /// is down. Nothing for any other read, or when L1 holds nothing: the failure then goes on to the caller.
    /// </summary>
    private CacheResult<T> LastValueInL1<T>(Exception failure, string key, string? space, Serializers.ISerializer? serializer)
    {
        if (serializer is not Resilience.IPayloadAdopter || failure is OperationCanceledException or OutOfMemoryException)
        {
            return CacheResult<T>.Miss;
        }

        try
        {
            var last = L1.TryGet<T>(key, out var value, space, serializer) ? CacheResult<T>.Hit(value!) : CacheResult<T>.Miss;
            if (last.Found)
            {
                MultiLevelLog.ServedFromL1(CachedLogging.Logger, failure, key, AliasForLogs);
            }

            return last;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            MultiLevelLog.L1WriteFailed(CachedLogging.Logger, ex, key, AliasForLogs);
            return CacheResult<T>.Miss;
        }
    }

    /// <summary>
    /// <see cref="LastValueInL1{T}"/> for a batch: the stale entries L1 still holds for the keys whose read of L2 failed,
    /// when it holds one for every key, so that the call serves them as their last values while L2 is down, as it did
    /// when L1 answered them all without asking L2. A key this node deleted while L2 was unreachable, whose delete still
    /// waits (<see cref="PendingWrites.Drops"/>), is a miss, as a one-key read answers it before asking L2. <c>null</c>
    /// when another key has none: the failure then goes on to the caller.
    /// </summary>
    private CacheResult<T>[]? LastValuesInL1<T>(Exception failure, string[] keys, string? @namespace, string? space, Serializers.ISerializer? serializer)
    {
        if (serializer is not Resilience.IPayloadAdopter || failure is OperationCanceledException or OutOfMemoryException)
        {
            return null;
        }

        try
        {
            var last = L1.MultiTryGet<T>(keys, space, serializer).ToArray();
            for (var i = 0; i < keys.Length; i++)
            {
                if (!last[i].Found && !_pending.Drops(@namespace, keys[i]))
                {
                    return null;
                }
            }

            for (var i = 0; i < keys.Length; i++)
            {
                if (last[i].Found)
                {
                    MultiLevelLog.ServedFromL1(CachedLogging.Logger, failure, keys[i], AliasForLogs);
                }
            }

            return last;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            MultiLevelLog.L1WriteFailed(CachedLogging.Logger, ex, keys[0], AliasForLogs);
            return null;
        }
    }

    /// <summary>
    /// Fail-safe's throttle while L2 cannot be read: the last value this node's L1 still holds is made fresh again in
    /// L1 alone, so that this node's calls are hits for the throttle instead of each calling a failing source (L2 is not
    /// written: it may hold a newer value this node cannot see). Only over the entry the call served
    /// (<paramref name="holdsLast"/>), through an L1 fill opened before that look, so a change meanwhile wins.
    /// </summary>
    internal void ThrottleInL1<T>(string key, string? @namespace, T throttled, TimeSpan? ttl, Serializers.ISerializer serializer, Func<T?, bool> holdsLast)
    {
        var space = L1Space(@namespace);
        // Reached from async calls too, whose read attempted the subscription already.
        var fill = OpenL1Fill(key, space, wait: false);
        if (fill is null)
        {
            return;
        }

        try
        {
            if (L1.TryGet<T>(key, out var now, space, serializer) && holdsLast(now))
            {
                FillL1(fill, key, throttled, ExpiryOf(ttl), space);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            MultiLevelLog.L1WriteFailed(CachedLogging.Logger, ex, key, AliasForLogs);
        }
        finally
        {
            fill.Dispose();
        }
    }

    /// <summary>
    /// Turns into misses the entries L2 answered for keys this node deleted while L2 was unreachable and whose deletes
    /// still wait (<see cref="PendingWrites.Drops"/>), before L1 copies anything: L2 still holds them until the deletes land.
    /// </summary>
    private void MaskDropped<T>(string[] keys, CacheResult<T>[] read, string? @namespace)
    {
        for (var i = 0; i < keys.Length; i++)
        {
            if (read[i].Found && _pending.Drops(@namespace, keys[i]))
            {
                read[i] = CacheResult<T>.Miss;
            }
        }
    }

    private void FillAll<T>(CacheResult<T>[] results, int[] positions, string[] missing, CacheResult<T>[] read, TimeSpan?[] remaining, FillTicket?[]? fills, string? space)
    {
        for (var i = 0; i < missing.Length; i++)
        {
            results[positions[i]] = read[i];
            if (read[i].Found)
            {
                FillL1(fills?[i], missing[i], read[i].Value, remaining[i], space);
            }
        }
    }

    /// <summary>
    /// Starts a write of this node: drops L1's copy, which moves the key's fence so that no read or write that began
    /// earlier can put its value in afterwards, and opens the ticket the new value will go in with.
    /// </summary>
    private FillTicket? BeginWrite(string key, string? space, bool wait = true)
    {
        DropL1(key, space);
        return OpenL1Fill(key, space, wait);
    }

    private FillTicket?[]? BeginWrites<T>(KeyValuePair<string, T>[] pairs, string? space, bool wait = true)
    {
        var keys = KeysOf(pairs);
        foreach (var key in keys)
        {
            DropL1(key, space);
        }

        return OpenL1Fills(keys, space, wait);
    }

    /// <summary>
    /// Ends a write L2 took: the value goes into L1 through the ticket. When the ticket is refused, another write or a
    /// message came between, and L2 may hold either value; L1 then drops the key again and the next read asks L2.
    /// </summary>
    private void EndWrite<T>(FillTicket? write, string key, T value, TimeSpan? ttl, string? space, bool stored = true)
    {
        using (write)
        {
            var life = L1LifeOfWrite(ttl);
            if (!stored || (write is null && (L1 is IFencedFillCache || !CanFillL1(wait: false))))
            {
                return;
            }

            if (life is { Ticks: <= 0 } || !ReadyForL1(ref value, life))
            {
                // Nothing goes into L1 (a LocalTtl of zero; a tagged value without a backplane). The write dropped L1's
                // copy as it began; dropping it again now moves the fence, as putting the value in would, so that a
                // read that saw L2 before the write landed cannot put its older value in afterwards.
                if (write is not null)
                {
                    DropL1(key, space);
                }

                return;
            }

            try
            {
                Track(space);
                if (write is null)
                {
                    L1.Set(key, value, life, space);
                }
                else if (!WriteThroughL1(write, value, life))
                {
                    DropL1(key, space);
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                MultiLevelLog.L1WriteFailed(CachedLogging.Logger, ex, key, AliasForLogs);
                DropL1(key, space);
            }
            finally
            {
                Track(space);
            }
        }
    }

    /// <summary>
    /// Puts a write's value into L1 through its ticket, moving the key's fence as it does: a read or fill that opened its
    /// ticket after this write began, but read L2 before the write landed, holds an older value and must not put it in
    /// afterwards. An L1 that cannot do both at once takes nothing; the caller drops the key and the next read asks L2.
    /// </summary>
    private bool WriteThroughL1<T>(FillTicket write, T value, TimeSpan? life)
        => L1 is BaseCache { OpensFillsInProcess: true } local && local.TryWriteThroughInProcess(write, value, life);

    private void EndWrites<T>(FillTicket?[]? writes, KeyValuePair<string, T>[] pairs, TimeSpan? ttl, string? @namespace, string? space)
    {
        foreach (var pair in pairs)
        {
            _pending.Written(@namespace, pair.Key);
        }

        if (writes is not null && TryEndWritesTogether(writes, pairs, ttl, space))
        {
            return;
        }

        for (var i = 0; i < pairs.Length; i++)
        {
            EndWrite(writes?[i], pairs[i].Key, pairs[i].Value, ttl, space);
        }
    }

    /// <summary>
    /// Ends a batch write L2 took with one write-through into L1 (<see cref="BaseCache.TryWriteThroughAllInProcess"/>):
    /// one key after another, the batch's own fence moves refused the copies of keys sharing a fence with more than 8
    /// others of it. False, with nothing done, when each key must go its own way (<see cref="EndWrite"/>): an L1 of
    /// another kind, no copy to keep, a tagged value, a key without a ticket.
    /// </summary>
    private bool TryEndWritesTogether<T>(FillTicket?[] writes, KeyValuePair<string, T>[] pairs, TimeSpan? ttl, string? space)
    {
        var life = L1LifeOfWrite(ttl);
        if (pairs.Length < 2 || L1 is not BaseCache { OpensFillsInProcess: true } local || life is { Ticks: <= 0 })
        {
            return false;
        }

        var batch = new KeyValuePair<FillTicket, T>[pairs.Length];
        for (var i = 0; i < pairs.Length; i++)
        {
            if (writes[i] is not { } write || pairs[i].Value is IStamped { Tags: not null })
            {
                return false;
            }

            batch[i] = KeyValuePair.Create(write, pairs[i].Value);
        }

        try
        {
            Track(space);
            var stored = local.TryWriteThroughAllInProcess(batch, life);
            for (var i = 0; i < pairs.Length; i++)
            {
                if (!stored[i])
                {
                    DropL1(pairs[i].Key, space);
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            MultiLevelLog.L1WriteFailed(CachedLogging.Logger, ex, pairs[0].Key, AliasForLogs);
            foreach (var pair in pairs)
            {
                DropL1(pair.Key, space);
            }
        }
        finally
        {
            Track(space);
            Close(writes);
        }

        return true;
    }

    /// <summary>With L2 unreachable, this node's newest value: kept in L1 until L2 takes it.</summary>
    private void KeepInL1<T>(string key, T value, TimeSpan? ttl, string? space)
    {
        var life = L1LifeOfWrite(ttl);
        if (life is { Ticks: <= 0 } || !ReadyForL1(ref value, life))
        {
            DropL1(key, space);
            return;
        }

        try
        {
            Track(space);
            L1.Set(key, value, life, space);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            MultiLevelLog.L1WriteFailed(CachedLogging.Logger, ex, key, AliasForLogs);
            DropL1(key, space);
        }
        finally
        {
            Track(space);
        }
    }

    internal void DropL1(string key, string? space)
    {
        try
        {
            L1.Delete(key, space);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            MultiLevelLog.L1WriteFailed(CachedLogging.Logger, ex, key, AliasForLogs);
        }
    }

    /// <summary>
    /// Empties L1 after a clear of <paramref name="space"/>: every namespace of it, not only that one, because one L2
    /// entry may have copies under several names in L1. On Redis a key written without a namespace as <c>user:2</c> is
    /// the entry <c>2</c> of namespace <c>user</c>, which L2's clear of <c>user</c> removes; L1 clears by the namespace
    /// each entry was written under, so clearing only <c>user</c> there would leave a copy written as <c>user:2</c>.
    /// </summary>
    internal void ClearL1(string? space)
    {
        try
        {
            L1.Clear(space);
            FlushL1();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            MultiLevelLog.L1WriteFailed(CachedLogging.Logger, ex, "(clear)", AliasForLogs);
        }
    }

    private static string[] Keys(IEnumerable<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return keys as string[] ?? keys.ToArray();
    }

    private static string[] KeysOf<T>(KeyValuePair<string, T>[] pairs)
    {
        var keys = new string[pairs.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = pairs[i].Key;
        }

        return keys;
    }

    private static string[] MissingKeys<T>(string[] keys, CacheResult<T>[] results, out int[] positions)
    {
        var missing = new List<int>();
        for (var i = 0; i < results.Length; i++)
        {
            if (!results[i].Found)
            {
                missing.Add(i);
            }
        }

        positions = missing.ToArray();
        return Array.ConvertAll(positions, i => keys[i]);
    }
}
