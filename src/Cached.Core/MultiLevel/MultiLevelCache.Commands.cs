using Cached.Capabilities;
using Cached.Serializers;

namespace Cached;

/// <summary>The synchronous commands, each with its two-level meaning.</summary>
public sealed partial class MultiLevelCache
{
    /// <summary>
    /// Adds to L2 (atomically, as L2 does), then copies to L1 and tells the other nodes. Fails as L2 does, and with a
    /// <see cref="CacheBackendException"/> (<see cref="CacheBackendException.Unreachable"/> true) while a write of the
    /// key made during an outage still waits to be written.
    /// </summary>
    /// <inheritdoc cref="ICache.Add{T}"/>
    public bool Add<T>(string key, T value, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null)
    {
        CheckCall(key, @namespace);
        ThrowIfHeldUp(nameof(Add), key, @namespace);
        var space = L1Space(@namespace);
        var write = BeginWrite(key, space);
        bool added;
        try
        {
            added = L2.Add(key, value, ttl, @namespace, serializer);
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

    /// <summary>Reads L1, then L2, copying an L2 hit into L1 for its remaining life (at most <see cref="L1Ttl"/>).</summary>
    /// <inheritdoc cref="ICache.Get{T}"/>
    public T? Get<T>(string key, T? @default = default, string? @namespace = null, ISerializer? serializer = null)
        => TryGet<T>(key, out var value, @namespace, serializer) ? value : @default;

    /// <summary>Reads L1, then L2, copying an L2 hit into L1 for its remaining life (at most <see cref="L1Ttl"/>).</summary>
    /// <inheritdoc cref="ICache.TryGet{T}"/>
    public bool TryGet<T>(string key, out T? value, string? @namespace = null, ISerializer? serializer = null)
    {
        CheckCall(key, @namespace);
        var space = L1Space(@namespace);
        if (L1.TryGet(key, out value, space, FirstLookInL1(serializer)))
        {
            return true;
        }

        if (_pending.Drops(@namespace, key))
        {
            // This node deleted the key while L2 was unreachable, and the delete still waits: L2's entry is gone here.
            return false;
        }

        using var fill = OpenL1Fill(key, space);
        CacheResult<T> result;
        TimeSpan? remaining;
        try
        {
            (result, remaining) = L2 is BaseCache level
                ? level.TryGetWithTtl<T>(key, @namespace, serializer)
                : (L2.TryGet<T>(key, out var read, @namespace, serializer) ? CacheResult<T>.Hit(read!) : CacheResult<T>.Miss, null);
        }
        catch (Exception ex) when (LastValueInL1<T>(ex, key, space, serializer) is { Found: true } last)
        {
            value = last.Value;
            return true;
        }

        if (result.Found)
        {
            FillL1(fill, key, result.Value, remaining, space);
        }

        value = result.Value;
        return result.Found;
    }

    /// <summary>Writes L2, then L1, then tells the other nodes. With L2 unreachable the value is kept in L1 and written to L2 when it returns.</summary>
    /// <inheritdoc cref="ICache.Set{T}(string, T, TimeSpan?, string?, ISerializer?)"/>
    public bool Set<T>(string key, T value, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null)
    {
        CheckCall(key, @namespace);
        var space = L1Space(@namespace);
        using var turn = _pending.TakeTurn(@namespace, key);
        if (_pending.ClearWaits(@namespace))
        {
            return DeferSet(key, value, ttl, @namespace, serializer, space, cause: null);
        }

        var write = BeginWrite(key, space);
        try
        {
            L2.Set(key, value, ttl, @namespace, serializer);
        }
        catch (Exception ex) when (IsUnreachable(ex))
        {
            write?.Dispose();
            return DeferSet(key, value, ttl, @namespace, serializer, space, ex);
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

    /// <summary>Answers from L1 what it holds and reads every other key from L2 in one batch, copying the hits into L1.</summary>
    /// <inheritdoc cref="ICache.MultiGet{T}"/>
    public IReadOnlyList<T?> MultiGet<T>(IEnumerable<string> keys, string? @namespace = null, ISerializer? serializer = null)
        => MultiTryGet<T>(keys, @namespace, serializer).Select(static result => result.Value).ToArray();

    /// <summary>Answers from L1 what it holds and reads every other key from L2 in one batch, copying the hits into L1.</summary>
    /// <inheritdoc cref="ICache.MultiTryGet{T}"/>
    public IReadOnlyList<CacheResult<T>> MultiTryGet<T>(IEnumerable<string> keys, string? @namespace = null, ISerializer? serializer = null)
    {
        var given = CheckBatch(keys, @namespace);
        var space = L1Space(@namespace);
        var results = L1.MultiTryGet<T>(given, space, FirstLookInL1(serializer)).ToArray();
        var missing = MissingKeys(given, results, out var positions);
        if (missing.Length == 0)
        {
            return results;
        }

        var fills = OpenL1Fills(missing, space);
        try
        {
            var (read, remaining) = L2 is BaseCache level
                ? level.MultiTryGetWithTtl<T>(missing, @namespace, serializer)
                : (L2.MultiTryGet<T>(missing, @namespace, serializer).ToArray(), new TimeSpan?[missing.Length]);
            MaskDropped(missing, read, @namespace);
            FillAll(results, positions, missing, read, remaining, fills, space);
        }
        catch (Exception ex) when (LastValuesInL1<T>(ex, missing, @namespace, space, serializer) is { } last)
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

    /// <summary>Writes every pair to L2 in one batch, then to L1, then tells the other nodes.</summary>
    /// <inheritdoc cref="ICache.MultiSet{T}"/>
    public bool MultiSet<T>(IEnumerable<KeyValuePair<string, T>> pairs, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null)
    {
        var given = CheckBatch(pairs, @namespace);
        var space = L1Space(@namespace);
        using var turn = _pending.TakeTurn(@namespace, given);
        if (_pending.ClearWaits(@namespace))
        {
            return DeferSets(given, ttl, @namespace, serializer, space, cause: null);
        }

        var writes = BeginWrites(given, space);
        try
        {
            L2.MultiSet(given, ttl, @namespace, serializer);
        }
        catch (Exception ex) when (IsUnreachable(ex))
        {
            Close(writes);
            return DeferSets(given, ttl, @namespace, serializer, space, ex);
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

    /// <summary>True when L1 holds the key, else asks L2.</summary>
    /// <inheritdoc cref="ICache.Exists"/>
    public bool Exists(string key, string? @namespace = null)
    {
        CheckCall(key, @namespace);
        return L1.Exists(key, L1Space(@namespace)) || L2.Exists(key, @namespace);
    }

    /// <summary>
    /// Increments in L2 (atomically across nodes), drops L1's copy and tells the other nodes. Fails as L2 does, and with
    /// a <see cref="CacheBackendException"/> (<see cref="CacheBackendException.Unreachable"/> true) while a write of the
    /// key made during an outage still waits to be written.
    /// </summary>
    /// <inheritdoc cref="ICache.Increment"/>
    public long Increment(string key, long delta = 1, string? @namespace = null)
    {
        CheckCall(key, @namespace);
        ThrowIfHeldUp(nameof(Increment), key, @namespace);
        var value = L2.Increment(key, delta, @namespace);
        var space = L1Space(@namespace);
        DropL1(key, space);
        Publish(BackplaneAction.Set, space, [key]);
        return value;
    }

    /// <summary>Deletes from L2, then L1, then tells the other nodes; with L2 unreachable the delete is retried when it returns.</summary>
    /// <returns>The entries L2 deleted (L1's count while L2 is unreachable).</returns>
    /// <inheritdoc cref="ICache.Delete"/>
    public int Delete(string key, string? @namespace = null)
    {
        CheckCall(key, @namespace);
        var space = L1Space(@namespace);
        using var turn = _pending.TakeTurn(@namespace, key);
        if (_pending.ClearWaits(@namespace))
        {
            return DeferDelete(key, @namespace, space, cause: null);
        }

        int deleted;
        try
        {
            deleted = L2.Delete(key, @namespace);
        }
        catch (Exception ex) when (IsUnreachable(ex))
        {
            return DeferDelete(key, @namespace, space, ex);
        }

        _pending.Written(@namespace, key);
        DropL1(key, space);
        Publish(BackplaneAction.Delete, space, [key]);
        return deleted;
    }

    /// <summary>Clears L2, then L1, then tells the other nodes; with L2 unreachable the clear is retried when it returns.</summary>
    /// <inheritdoc cref="ICache.Clear"/>
    public bool Clear(string? @namespace = null)
    {
        CheckClear(@namespace);
        var space = L1Space(@namespace);
        using var turn = _pending.TakeClearTurn(@namespace);
        try
        {
            L2.Clear(@namespace);
        }
        catch (Exception ex) when (IsUnreachable(ex))
        {
            _pending.Clear(@namespace, ex);
            ClearL1(space);
            return true;
        }

        _pending.Cleared(@namespace);
        ClearL1(space);
        Publish(BackplaneAction.Clear, space, []);
        return true;
    }

    /// <summary>Sets the time to live in L2, drops L1's copy (the next read takes the new life) and tells the other nodes.</summary>
    /// <inheritdoc cref="ICache.Expire"/>
    public bool Expire(string key, TimeSpan? ttl, string? @namespace = null)
    {
        CheckCall(key, @namespace);
        var space = L1Space(@namespace);
        using var turn = _pending.TakeTurn(@namespace, key);
        if (ExpiryMustFollow(key, @namespace))
        {
            return DeferExpire(key, ttl, @namespace, space, cause: null);
        }

        bool changed;
        try
        {
            changed = L2.Expire(key, ttl, @namespace);
        }
        catch (Exception ex) when (IsUnreachable(ex))
        {
            return DeferExpire(key, ttl, @namespace, space, ex);
        }

        DropL1(key, space);
        Publish(BackplaneAction.Expire, space, [key]);
        return changed;
    }

    /// <summary>Runs the command on L2; L1 is not touched, so a raw write is not seen through L1 until its copy expires.</summary>
    /// <inheritdoc cref="ICache.Raw"/>
    public object? Raw(string command, params object?[] args)
    {
        ThrowIfDisposed();
        return L2.Raw(command, args);
    }
}
