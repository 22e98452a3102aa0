using Cached.Capabilities;
using Cached.Serializers;

namespace Cached;

/// <summary>The synchronous commands, each with its two-level meaning.</summary>
public sealed partial class MultiLevelCache
{
    /// <summary>Adds to L2 (atomically, as L2 does), then copies to L1 and tells the other nodes.</summary>
    /// <inheritdoc cref="ICache.Add{T}"/>
    public bool Add<T>(string key, T value, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null)
    {
        ThrowIfDisposed();
        var added = L2.Add(key, value, ttl, @namespace, serializer);
        WriteL1(key, value, ttl, @namespace);
        Publish(BackplaneAction.Set, @namespace, [key]);
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
        ThrowIfDisposed();
        if (L1.TryGet(key, out value, @namespace))
        {
            return true;
        }

        using var fill = OpenL1Fill(key, @namespace);
        var (result, remaining) = L2 is BaseCache level
            ? level.TryGetWithTtl<T>(key, @namespace, serializer)
            : (L2.TryGet<T>(key, out var read, @namespace, serializer) ? CacheResult<T>.Hit(read!) : CacheResult<T>.Miss, null);
        if (result.Found)
        {
            FillL1(fill, key, result.Value, remaining, @namespace);
        }

        value = result.Value;
        return result.Found;
    }

    /// <summary>Writes L2, then L1, then tells the other nodes. With L2 unreachable the value is kept in L1 and written to L2 when it returns.</summary>
    /// <inheritdoc cref="ICache.Set{T}"/>
    public bool Set<T>(string key, T value, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null)
    {
        ThrowIfDisposed();
        try
        {
            L2.Set(key, value, ttl, @namespace, serializer);
        }
        catch (Exception ex) when (IsUnreachable(ex))
        {
            WriteL1(key, value, ttl, @namespace);
            _pending.Set(key, value, ttl, @namespace, serializer, ex);
            return true;
        }

        WriteL1(key, value, ttl, @namespace);
        Publish(BackplaneAction.Set, @namespace, [key]);
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
        ThrowIfDisposed();
        var given = Keys(keys);
        var results = L1.MultiTryGet<T>(given, @namespace).ToArray();
        var missing = MissingKeys(given, results, out var positions);
        if (missing.Length == 0)
        {
            return results;
        }

        var fills = OpenL1Fills(missing, @namespace);
        try
        {
            var (read, remaining) = L2 is BaseCache level
                ? level.MultiTryGetWithTtl<T>(missing, @namespace, serializer)
                : (L2.MultiTryGet<T>(missing, @namespace, serializer).ToArray(), new TimeSpan?[missing.Length]);
            for (var i = 0; i < missing.Length; i++)
            {
                results[positions[i]] = read[i];
                if (read[i].Found)
                {
                    FillL1(fills?[i], missing[i], read[i].Value, remaining[i], @namespace);
                }
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
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(pairs);
        var given = pairs.ToArray();
        try
        {
            L2.MultiSet(given, ttl, @namespace, serializer);
        }
        catch (Exception ex) when (IsUnreachable(ex))
        {
            WriteAllL1(given, ttl, @namespace);
            foreach (var pair in given)
            {
                _pending.Set(pair.Key, pair.Value, ttl, @namespace, serializer, ex);
            }

            return true;
        }

        WriteAllL1(given, ttl, @namespace);
        Publish(BackplaneAction.Set, @namespace, KeysOf(given));
        return true;
    }

    /// <summary>True when L1 holds the key, else asks L2.</summary>
    /// <inheritdoc cref="ICache.Exists"/>
    public bool Exists(string key, string? @namespace = null)
    {
        ThrowIfDisposed();
        return L1.Exists(key, @namespace) || L2.Exists(key, @namespace);
    }

    /// <summary>Increments in L2 (atomically across nodes), drops L1's copy and tells the other nodes.</summary>
    /// <inheritdoc cref="ICache.Increment"/>
    public long Increment(string key, long delta = 1, string? @namespace = null)
    {
        ThrowIfDisposed();
        var value = L2.Increment(key, delta, @namespace);
        DropL1(key, @namespace);
        Publish(BackplaneAction.Set, @namespace, [key]);
        return value;
    }

    /// <summary>Deletes from L2, then L1, then tells the other nodes; with L2 unreachable the delete is retried when it returns.</summary>
    /// <returns>The entries L2 deleted (L1's count while L2 is unreachable).</returns>
    /// <inheritdoc cref="ICache.Delete"/>
    public int Delete(string key, string? @namespace = null)
    {
        ThrowIfDisposed();
        int deleted;
        try
        {
            deleted = L2.Delete(key, @namespace);
        }
        catch (Exception ex) when (IsUnreachable(ex))
        {
            _pending.Delete(key, @namespace, ex);
            return L1.Delete(key, @namespace);
        }

        DropL1(key, @namespace);
        Publish(BackplaneAction.Delete, @namespace, [key]);
        return deleted;
    }

    /// <summary>Clears L2, then L1, then tells the other nodes; with L2 unreachable the clear is retried when it returns.</summary>
    /// <inheritdoc cref="ICache.Clear"/>
    public bool Clear(string? @namespace = null)
    {
        ThrowIfDisposed();
        try
        {
            L2.Clear(@namespace);
        }
        catch (Exception ex) when (IsUnreachable(ex))
        {
            _pending.Clear(@namespace, ex);
            L1.Clear(@namespace);
            return true;
        }

        L1.Clear(@namespace);
        Publish(BackplaneAction.Clear, @namespace, []);
        return true;
    }

    /// <summary>Sets the time to live in L2, drops L1's copy (the next read takes the new life) and tells the other nodes.</summary>
    /// <inheritdoc cref="ICache.Expire"/>
    public bool Expire(string key, TimeSpan? ttl, string? @namespace = null)
    {
        ThrowIfDisposed();
        bool changed;
        try
        {
            changed = L2.Expire(key, ttl, @namespace);
        }
        catch (Exception ex) when (IsUnreachable(ex))
        {
            _pending.Expire(key, ttl, @namespace, ex);
            DropL1(key, @namespace);
            return true;
        }

        DropL1(key, @namespace);
        Publish(BackplaneAction.Expire, @namespace, [key]);
        return changed;
    }

    /// <summary>Runs the command on L2; L1 is not touched, so a raw write is not seen through L1 until its copy expires.</summary>
    /// <inheritdoc cref="ICache.Raw"/>
    public object? Raw(string command, params object?[] args)
    {
        ThrowIfDisposed();
        return L2.Raw(command, args);
    }

    private FillTicket? OpenL1Fill(string key, string? @namespace)
        => CanFillL1() && L1 is IFencedFillCache fills ? fills.OpenFill(key, @namespace) : null;

    private FillTicket?[]? OpenL1Fills(string[] keys, string? @namespace)
        => CanFillL1() && L1 is IFencedFillCache fills ? fills.OpenFills(keys, @namespace).ToArray() : null;

    private static void Close(FillTicket?[]? fills)
    {
        foreach (var fill in fills ?? [])
        {
            fill?.Dispose();
        }
    }

    /// <summary>
    /// Copies a value read from L2 into L1, unless L1's key changed since the read began (the fill's fence moved: a
    /// write, or a backplane message, got there first) or the entry has no life left.
    /// </summary>
    private void FillL1<T>(FillTicket? fill, string key, T? value, TimeSpan? remaining, string? @namespace)
    {
        var life = L1Life(remaining);
        if (life is { Ticks: <= 0 } || (fill is null && !CanFillL1()))
        {
            return;
        }

        try
        {
            if (fill is not null)
            {
                ((IFencedFillCache)L1).TryFill(fill, value, life);
            }
            else
            {
                L1.Set(key, value, life, @namespace);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            MultiLevel.MultiLevelLog.L1WriteFailed(CachedLogging.Logger, ex, key, AliasForLogs);
        }
    }

    /// <summary>Writes a value this node wrote to L2 into L1 too, or drops L1's copy when L1 may not take it.</summary>
    private void WriteL1<T>(string key, T value, TimeSpan? ttl, string? @namespace)
    {
        var life = L1LifeOfWrite(ttl);
        if (life is { Ticks: <= 0 } || !CanFillL1())
        {
            DropL1(key, @namespace);
            return;
        }

        try
        {
            L1.Set(key, value, life, @namespace);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            MultiLevel.MultiLevelLog.L1WriteFailed(CachedLogging.Logger, ex, key, AliasForLogs);
            DropL1(key, @namespace);
        }
    }

    private void WriteAllL1<T>(KeyValuePair<string, T>[] pairs, TimeSpan? ttl, string? @namespace)
    {
        foreach (var pair in pairs)
        {
            WriteL1(pair.Key, pair.Value, ttl, @namespace);
        }
    }

    private void DropL1(string key, string? @namespace)
    {
        try
        {
            L1.Delete(key, @namespace);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            MultiLevel.MultiLevelLog.L1WriteFailed(CachedLogging.Logger, ex, key, AliasForLogs);
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
