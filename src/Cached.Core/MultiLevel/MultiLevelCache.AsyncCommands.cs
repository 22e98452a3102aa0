using Cached.Capabilities;
using Cached.Serializers;

namespace Cached;

/// <summary>The asynchronous twins, with the same two-level meaning as the synchronous commands.</summary>
public sealed partial class MultiLevelCache
{
    /// <inheritdoc cref="Add{T}"/>
    public async ValueTask<bool> AddAsync<T>(string key, T value, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        var added = await L2.AddAsync(key, value, ttl, @namespace, serializer, cancellationToken).ConfigureAwait(false);
        WriteL1(key, value, ttl, @namespace);
        await PublishAsync(BackplaneAction.Set, @namespace, [key], cancellationToken).ConfigureAwait(false);
        return added;
    }

    /// <inheritdoc cref="Get{T}"/>
    public async ValueTask<T?> GetAsync<T>(string key, T? @default = default, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
    {
        var result = await TryGetAsync<T>(key, @namespace, serializer, cancellationToken).ConfigureAwait(false);
        return result.Found ? result.Value : @default;
    }

    /// <inheritdoc cref="TryGet{T}"/>
    public ValueTask<CacheResult<T>> TryGetAsync<T>(string key, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        var first = L1.TryGetAsync<T>(key, @namespace, null, cancellationToken);
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
        using var fill = await OpenL1FillAsync(key, @namespace, cancellationToken).ConfigureAwait(false);
        var (result, remaining) = L2 is BaseCache level
            ? await level.TryGetWithTtlAsync<T>(key, @namespace, serializer, cancellationToken).ConfigureAwait(false)
            : (await L2.TryGetAsync<T>(key, @namespace, serializer, cancellationToken).ConfigureAwait(false), null);
        if (result.Found)
        {
            FillL1(fill, key, result.Value, remaining, @namespace);
        }

        return result;
    }

    /// <inheritdoc cref="Set{T}"/>
    public async ValueTask<bool> SetAsync<T>(string key, T value, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        try
        {
            await L2.SetAsync(key, value, ttl, @namespace, serializer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsUnreachable(ex))
        {
            WriteL1(key, value, ttl, @namespace);
            _pending.Set(key, value, ttl, @namespace, serializer, ex);
            return true;
        }

        WriteL1(key, value, ttl, @namespace);
        await PublishAsync(BackplaneAction.Set, @namespace, [key], cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc cref="MultiGet{T}"/>
    public async ValueTask<IReadOnlyList<T?>> MultiGetAsync<T>(IEnumerable<string> keys, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
        => (await MultiTryGetAsync<T>(keys, @namespace, serializer, cancellationToken).ConfigureAwait(false)).Select(static result => result.Value).ToArray();

    /// <inheritdoc cref="MultiTryGet{T}"/>
    public async ValueTask<IReadOnlyList<CacheResult<T>>> MultiTryGetAsync<T>(IEnumerable<string> keys, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        var given = Keys(keys);
        var results = (await L1.MultiTryGetAsync<T>(given, @namespace, null, cancellationToken).ConfigureAwait(false)).ToArray();
        var missing = MissingKeys(given, results, out var positions);
        if (missing.Length == 0)
        {
            return results;
        }

        var fills = await OpenL1FillsAsync(missing, @namespace, cancellationToken).ConfigureAwait(false);
        try
        {
            var (read, remaining) = L2 is BaseCache level
                ? await level.MultiTryGetWithTtlAsync<T>(missing, @namespace, serializer, cancellationToken).ConfigureAwait(false)
                : ((await L2.MultiTryGetAsync<T>(missing, @namespace, serializer, cancellationToken).ConfigureAwait(false)).ToArray(), new TimeSpan?[missing.Length]);
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

    /// <inheritdoc cref="MultiSet{T}"/>
    public async ValueTask<bool> MultiSetAsync<T>(IEnumerable<KeyValuePair<string, T>> pairs, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(pairs);
        var given = pairs.ToArray();
        try
        {
            await L2.MultiSetAsync(given, ttl, @namespace, serializer, cancellationToken).ConfigureAwait(false);
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
        await PublishAsync(BackplaneAction.Set, @namespace, KeysOf(given), cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc cref="Exists"/>
    public async ValueTask<bool> ExistsAsync(string key, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return await L1.ExistsAsync(key, @namespace, cancellationToken).ConfigureAwait(false)
            || await L2.ExistsAsync(key, @namespace, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc cref="Increment"/>
    public async ValueTask<long> IncrementAsync(string key, long delta = 1, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        var value = await L2.IncrementAsync(key, delta, @namespace, cancellationToken).ConfigureAwait(false);
        DropL1(key, @namespace);
        await PublishAsync(BackplaneAction.Set, @namespace, [key], cancellationToken).ConfigureAwait(false);
        return value;
    }

    /// <inheritdoc cref="Delete"/>
    public async ValueTask<int> DeleteAsync(string key, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        int deleted;
        try
        {
            deleted = await L2.DeleteAsync(key, @namespace, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsUnreachable(ex))
        {
            _pending.Delete(key, @namespace, ex);
            return L1.Delete(key, @namespace);
        }

        DropL1(key, @namespace);
        await PublishAsync(BackplaneAction.Delete, @namespace, [key], cancellationToken).ConfigureAwait(false);
        return deleted;
    }

    /// <inheritdoc cref="Clear"/>
    public async ValueTask<bool> ClearAsync(string? @namespace = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        try
        {
            await L2.ClearAsync(@namespace, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsUnreachable(ex))
        {
            _pending.Clear(@namespace, ex);
            L1.Clear(@namespace);
            return true;
        }

        L1.Clear(@namespace);
        await PublishAsync(BackplaneAction.Clear, @namespace, [], cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc cref="Expire"/>
    public async ValueTask<bool> ExpireAsync(string key, TimeSpan? ttl, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        bool changed;
        try
        {
            changed = await L2.ExpireAsync(key, ttl, @namespace, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsUnreachable(ex))
        {
            _pending.Expire(key, ttl, @namespace, ex);
            DropL1(key, @namespace);
            return true;
        }

        DropL1(key, @namespace);
        await PublishAsync(BackplaneAction.Expire, @namespace, [key], cancellationToken).ConfigureAwait(false);
        return changed;
    }

    /// <inheritdoc cref="Raw"/>
    public ValueTask<object?> RawAsync(string command, object?[]? args = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return L2.RawAsync(command, args, cancellationToken);
    }

    private async ValueTask<FillTicket?> OpenL1FillAsync(string key, string? @namespace, CancellationToken cancellationToken)
        => CanFillL1() && L1 is IFencedFillCache fills ? await fills.OpenFillAsync(key, @namespace, cancellationToken).ConfigureAwait(false) : null;

    private async ValueTask<FillTicket?[]?> OpenL1FillsAsync(string[] keys, string? @namespace, CancellationToken cancellationToken)
        => CanFillL1() && L1 is IFencedFillCache fills ? (await fills.OpenFillsAsync(keys, @namespace, cancellationToken).ConfigureAwait(false)).ToArray() : null;
}
