using Cached.Plugins;
using Cached.Runtime;
using Cached.Serializers;

namespace Cached;

/// <summary>
/// The public commands. Each one: check arguments, answer as a miss when caching is switched off
/// (<see cref="Cache.Disabled"/>), resolve namespace and key, serialize, run pre hooks, call the backend
/// primitive (async: under the timeout), deserialize, run post hooks.
/// </summary>
public abstract partial class BaseCache
{
    /// <inheritdoc />
    public bool Add<T>(string key, T value, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null)
    {
        Guard.Key(key);
        var expiry = ResolveTtl(ttl);
        if (Cache.Disabled)
        {
            return true;
        }

        var ns = ResolveNamespace(@namespace);
        var fullKey = BuildKeyIn(key, ns);
        var payload = ToPayload(key, value, serializer ?? Serializer);
        var context = BeginCommand(CacheCommand.Add, key, null, ns, value, expiry);
        try
        {
            if (!AddEntry(fullKey, ns, payload, expiry))
            {
                throw new KeyExistsException(key);
            }

            EndCommand(context, true);
            return true;
        }
        catch (Exception ex) when (CommandFailed(context, ex))
        {
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> AddAsync<T>(string key, T value, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
    {
        Guard.Key(key);
        var expiry = ResolveTtl(ttl);
        cancellationToken.ThrowIfCancellationRequested();
        if (Cache.Disabled)
        {
            return true;
        }

        var ns = ResolveNamespace(@namespace);
        var fullKey = BuildKeyIn(key, ns);
        var payload = ToPayload(key, value, serializer ?? Serializer);
        var context = BeginCommand(CacheCommand.Add, key, null, ns, value, expiry);
        try
        {
            if (!await WithTimeout(AddEntryAsync(fullKey, ns, payload, expiry, cancellationToken), CacheCommand.Add, cancellationToken).ConfigureAwait(false))
            {
                throw new KeyExistsException(key);
            }

            EndCommand(context, true);
            return true;
        }
        catch (Exception ex) when (CommandFailed(context, ex))
        {
            throw;
        }
    }

    /// <inheritdoc />
    public T? Get<T>(string key, T? @default = default, string? @namespace = null, ISerializer? serializer = null)
    {
        var result = TryGetCore<T>(key, @namespace, serializer);
        return result.Found ? result.Value : @default;
    }

    /// <inheritdoc />
    public async ValueTask<T?> GetAsync<T>(string key, T? @default = default, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
    {
        var result = await TryGetAsync<T>(key, @namespace, serializer, cancellationToken).ConfigureAwait(false);
        return result.Found ? result.Value : @default;
    }

    /// <inheritdoc />
    public bool TryGet<T>(string key, out T? value, string? @namespace = null, ISerializer? serializer = null)
    {
        var result = TryGetCore<T>(key, @namespace, serializer);
        value = result.Value;
        return result.Found;
    }

    /// <inheritdoc />
    public ValueTask<CacheResult<T>> TryGetAsync<T>(string key, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
    {
        Guard.Key(key);
        cancellationToken.ThrowIfCancellationRequested();
        if (Cache.Disabled)
        {
            return ValueTask.FromResult(CacheResult<T>.Miss);
        }

        var ns = ResolveNamespace(@namespace);
        var fullKey = BuildKeyIn(key, ns);
        var context = BeginCommand(CacheCommand.Get, key, null, ns, null, null);
        try
        {
            var read = WithTimeout(GetEntryAsync(fullKey, cancellationToken), CacheCommand.Get, cancellationToken);
            if (read.IsCompletedSuccessfully)
            {
                // The common in-process case: no state machine, no allocation.
                return ValueTask.FromResult(CompleteGet<T>(key, read.Result, serializer, context));
            }

            return AwaitGet(key, read, serializer, context);
        }
        catch (Exception ex) when (CommandFailed(context, ex))
        {
            throw;
        }

        async ValueTask<CacheResult<T>> AwaitGet(string key, ValueTask<CacheResult<object?>> read, ISerializer? serializer, CacheCommandContext? context)
        {
            try
            {
                return CompleteGet<T>(key, await read.ConfigureAwait(false), serializer, context);
            }
            catch (Exception ex) when (CommandFailed(context, ex))
            {
                throw;
            }
        }
    }

    private CacheResult<T> TryGetCore<T>(string key, string? @namespace, ISerializer? serializer)
    {
        Guard.Key(key);
        if (Cache.Disabled)
        {
            return CacheResult<T>.Miss;
        }

        var ns = ResolveNamespace(@namespace);
        var fullKey = BuildKeyIn(key, ns);
        var context = BeginCommand(CacheCommand.Get, key, null, ns, null, null);
        try
        {
            return CompleteGet<T>(key, GetEntry(fullKey), serializer, context);
        }
        catch (Exception ex) when (CommandFailed(context, ex))
        {
            throw;
        }
    }

    private CacheResult<T> CompleteGet<T>(string key, CacheResult<object?> entry, ISerializer? serializer, CacheCommandContext? context)
    {
        var result = entry.Found ? CacheResult<T>.Hit(FromPayload<T>(key, entry.Value, serializer ?? Serializer)) : CacheResult<T>.Miss;
        EndCommand(context, result.Value, result.Found ? 1 : 0);
        return result;
    }

    /// <inheritdoc />
    public IReadOnlyList<T?> MultiGet<T>(IEnumerable<string> keys, string? @namespace = null, ISerializer? serializer = null)
        => ValuesOf(MultiTryGetCore<T>(keys, @namespace, serializer));

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<T?>> MultiGetAsync<T>(IEnumerable<string> keys, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
        => ValuesOf(await MultiTryGetCoreAsync<T>(keys, @namespace, serializer, cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    public IReadOnlyList<CacheResult<T>> MultiTryGet<T>(IEnumerable<string> keys, string? @namespace = null, ISerializer? serializer = null)
        => MultiTryGetCore<T>(keys, @namespace, serializer);

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<CacheResult<T>>> MultiTryGetAsync<T>(IEnumerable<string> keys, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
        => await MultiTryGetCoreAsync<T>(keys, @namespace, serializer, cancellationToken).ConfigureAwait(false);

    private CacheResult<T>[] MultiTryGetCore<T>(IEnumerable<string> keys, string? @namespace, ISerializer? serializer)
    {
        var given = MaterializeKeys(keys);
        if (Cache.Disabled)
        {
            return new CacheResult<T>[given.Length];
        }

        var ns = ResolveNamespace(@namespace);
        var fullKeys = BuildKeysIn(given, ns);
        var context = BeginCommand(CacheCommand.MultiGet, null, given, ns, null, null);
        try
        {
            var entries = given.Length == 0 ? [] : GetEntries(fullKeys);
            return CompleteMultiGet<T>(given, entries, serializer, context);
        }
        catch (Exception ex) when (CommandFailed(context, ex))
        {
            throw;
        }
    }

    private async ValueTask<CacheResult<T>[]> MultiTryGetCoreAsync<T>(IEnumerable<string> keys, string? @namespace, ISerializer? serializer, CancellationToken cancellationToken)
    {
        var given = MaterializeKeys(keys);
        cancellationToken.ThrowIfCancellationRequested();
        if (Cache.Disabled)
        {
            return new CacheResult<T>[given.Length];
        }

        var ns = ResolveNamespace(@namespace);
        var fullKeys = BuildKeysIn(given, ns);
        var context = BeginCommand(CacheCommand.MultiGet, null, given, ns, null, null);
        try
        {
            var entries = given.Length == 0 ? [] : await WithTimeout(GetEntriesAsync(fullKeys, cancellationToken), CacheCommand.MultiGet, cancellationToken).ConfigureAwait(false);
            return CompleteMultiGet<T>(given, entries, serializer, context);
        }
        catch (Exception ex) when (CommandFailed(context, ex))
        {
            throw;
        }
    }

    private static T?[] ValuesOf<T>(CacheResult<T>[] results)
    {
        var values = new T?[results.Length];
        for (var i = 0; i < results.Length; i++)
        {
            values[i] = results[i].Value;
        }

        return values;
    }

    private static string[] MaterializeKeys(IEnumerable<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var given = keys.ToArray();
        for (var i = 0; i < given.Length; i++)
        {
            if (string.IsNullOrEmpty(given[i]))
            {
                throw new ArgumentException($"The key at index {i} is {(given[i] is null ? "null" : "empty")}.", nameof(keys));
            }
        }

        return given;
    }

    private string[] BuildKeysIn(string[] keys, string? ns)
    {
        var built = new string[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            built[i] = BuildKeyIn(keys[i], ns);
        }

        return built;
    }

    private CacheResult<T>[] CompleteMultiGet<T>(string[] keys, CacheResult<object?>[] entries, ISerializer? serializer, CacheCommandContext? context)
    {
        if (entries.Length != keys.Length)
        {
            throw new CacheException($"The backend returned {entries.Length} values for {keys.Length} keys.");
        }

        var effective = serializer ?? Serializer;
        var results = new CacheResult<T>[keys.Length];
        var hits = 0;
        for (var i = 0; i < keys.Length; i++)
        {
            if (entries[i].Found)
            {
                results[i] = CacheResult<T>.Hit(FromPayload<T>(keys[i], entries[i].Value, effective));
                hits++;
            }
        }

        EndCommand(context, context is null ? null : ValuesOf(results), hits);
        return results;
    }

    /// <inheritdoc />
    public bool Set<T>(string key, T value, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null)
    {
        Guard.Key(key);
        var expiry = ResolveTtl(ttl);
        if (Cache.Disabled)
        {
            return true;
        }

        var ns = ResolveNamespace(@namespace);
        var fullKey = BuildKeyIn(key, ns);
        var payload = ToPayload(key, value, serializer ?? Serializer);
        var context = BeginCommand(CacheCommand.Set, key, null, ns, value, expiry);
        try
        {
            var stored = SetEntry(fullKey, ns, payload, expiry);
            EndCommand(context, stored);
            return stored;
        }
        catch (Exception ex) when (CommandFailed(context, ex))
        {
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> SetAsync<T>(string key, T value, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
    {
        Guard.Key(key);
        var expiry = ResolveTtl(ttl);
        cancellationToken.ThrowIfCancellationRequested();
        if (Cache.Disabled)
        {
            return true;
        }

        var ns = ResolveNamespace(@namespace);
        var fullKey = BuildKeyIn(key, ns);
        var payload = ToPayload(key, value, serializer ?? Serializer);
        var context = BeginCommand(CacheCommand.Set, key, null, ns, value, expiry);
        try
        {
            var stored = await WithTimeout(SetEntryAsync(fullKey, ns, payload, expiry, cancellationToken), CacheCommand.Set, cancellationToken).ConfigureAwait(false);
            EndCommand(context, stored);
            return stored;
        }
        catch (Exception ex) when (CommandFailed(context, ex))
        {
            throw;
        }
    }

    /// <inheritdoc />
    public bool MultiSet<T>(IEnumerable<KeyValuePair<string, T>> pairs, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null)
    {
        var expiry = ResolveTtl(ttl);
        var batch = PrepareMultiSet(pairs, @namespace, serializer, out var ns, out var keys, out var values);
        if (batch is null)
        {
            return true;
        }

        var context = BeginCommand(CacheCommand.MultiSet, null, keys, ns, values, expiry);
        try
        {
            var stored = batch.Length == 0 || SetEntries(batch, ns, expiry);
            EndCommand(context, stored);
            return stored;
        }
        catch (Exception ex) when (CommandFailed(context, ex))
        {
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> MultiSetAsync<T>(IEnumerable<KeyValuePair<string, T>> pairs, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
    {
        var expiry = ResolveTtl(ttl);
        cancellationToken.ThrowIfCancellationRequested();
        var batch = PrepareMultiSet(pairs, @namespace, serializer, out var ns, out var keys, out var values);
        if (batch is null)
        {
            return true;
        }

        var context = BeginCommand(CacheCommand.MultiSet, null, keys, ns, values, expiry);
        try
        {
            var stored = batch.Length == 0 || await WithTimeout(SetEntriesAsync(batch, ns, expiry, cancellationToken), CacheCommand.MultiSet, cancellationToken).ConfigureAwait(false);
            EndCommand(context, stored);
            return stored;
        }
        catch (Exception ex) when (CommandFailed(context, ex))
        {
            throw;
        }
    }

    /// <summary>Checks and serializes every pair before anything is written, so a bad pair leaves the store unchanged. Null when caching is off.</summary>
    private KeyValuePair<string, object?>[]? PrepareMultiSet<T>(IEnumerable<KeyValuePair<string, T>> pairs, string? @namespace, ISerializer? serializer, out string? ns, out string[] keys, out T[] values)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var given = pairs.ToArray();
        keys = new string[given.Length];
        values = new T[given.Length];
        for (var i = 0; i < given.Length; i++)
        {
            if (string.IsNullOrEmpty(given[i].Key))
            {
                throw new ArgumentException($"The key of the pair at index {i} is {(given[i].Key is null ? "null" : "empty")}.", nameof(pairs));
            }

            keys[i] = given[i].Key;
            values[i] = given[i].Value;
        }

        ns = ResolveNamespace(@namespace);
        if (Cache.Disabled)
        {
            return null;
        }

        var effective = serializer ?? Serializer;
        var batch = new KeyValuePair<string, object?>[given.Length];
        for (var i = 0; i < given.Length; i++)
        {
            batch[i] = new(BuildKeyIn(keys[i], ns), ToPayload(keys[i], values[i], effective));
        }

        return batch;
    }

    /// <inheritdoc />
    public bool Exists(string key, string? @namespace = null)
    {
        Guard.Key(key);
        if (Cache.Disabled)
        {
            return false;
        }

        var ns = ResolveNamespace(@namespace);
        var fullKey = BuildKeyIn(key, ns);
        var context = BeginCommand(CacheCommand.Exists, key, null, ns, null, null);
        try
        {
            var exists = ContainsEntry(fullKey);
            EndCommand(context, exists);
            return exists;
        }
        catch (Exception ex) when (CommandFailed(context, ex))
        {
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> ExistsAsync(string key, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        Guard.Key(key);
        cancellationToken.ThrowIfCancellationRequested();
        if (Cache.Disabled)
        {
            return false;
        }

        var ns = ResolveNamespace(@namespace);
        var fullKey = BuildKeyIn(key, ns);
        var context = BeginCommand(CacheCommand.Exists, key, null, ns, null, null);
        try
        {
            var exists = await WithTimeout(ContainsEntryAsync(fullKey, cancellationToken), CacheCommand.Exists, cancellationToken).ConfigureAwait(false);
            EndCommand(context, exists);
            return exists;
        }
        catch (Exception ex) when (CommandFailed(context, ex))
        {
            throw;
        }
    }

    /// <inheritdoc />
    public long Increment(string key, long delta = 1, string? @namespace = null)
    {
        Guard.Key(key);
        if (Cache.Disabled)
        {
            return delta;
        }

        var ns = ResolveNamespace(@namespace);
        var fullKey = BuildKeyIn(key, ns);
        var context = BeginCommand(CacheCommand.Increment, key, null, ns, delta, null);
        try
        {
            var value = IncrementEntry(fullKey, ns, delta);
            EndCommand(context, value);
            return value;
        }
        catch (Exception ex) when (CommandFailed(context, ex))
        {
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask<long> IncrementAsync(string key, long delta = 1, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        Guard.Key(key);
        cancellationToken.ThrowIfCancellationRequested();
        if (Cache.Disabled)
        {
            return delta;
        }

        var ns = ResolveNamespace(@namespace);
        var fullKey = BuildKeyIn(key, ns);
        var context = BeginCommand(CacheCommand.Increment, key, null, ns, delta, null);
        try
        {
            var value = await WithTimeout(IncrementEntryAsync(fullKey, ns, delta, cancellationToken), CacheCommand.Increment, cancellationToken).ConfigureAwait(false);
            EndCommand(context, value);
            return value;
        }
        catch (Exception ex) when (CommandFailed(context, ex))
        {
            throw;
        }
    }

    /// <inheritdoc />
    public int Delete(string key, string? @namespace = null)
    {
        Guard.Key(key);
        if (Cache.Disabled)
        {
            return 0;
        }

        var ns = ResolveNamespace(@namespace);
        var fullKey = BuildKeyIn(key, ns);
        var context = BeginCommand(CacheCommand.Delete, key, null, ns, null, null);
        try
        {
            var removed = RemoveEntry(fullKey);
            EndCommand(context, removed);
            return removed;
        }
        catch (Exception ex) when (CommandFailed(context, ex))
        {
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask<int> DeleteAsync(string key, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        Guard.Key(key);
        cancellationToken.ThrowIfCancellationRequested();
        if (Cache.Disabled)
        {
            return 0;
        }

        var ns = ResolveNamespace(@namespace);
        var fullKey = BuildKeyIn(key, ns);
        var context = BeginCommand(CacheCommand.Delete, key, null, ns, null, null);
        try
        {
            var removed = await WithTimeout(RemoveEntryAsync(fullKey, cancellationToken), CacheCommand.Delete, cancellationToken).ConfigureAwait(false);
            EndCommand(context, removed);
            return removed;
        }
        catch (Exception ex) when (CommandFailed(context, ex))
        {
            throw;
        }
    }

    /// <inheritdoc />
    public bool Clear(string? @namespace = null)
    {
        if (Cache.Disabled)
        {
            return true;
        }

        var ns = ResolveNamespace(@namespace);
        var context = BeginCommand(CacheCommand.Clear, null, null, ns, null, null);
        try
        {
            var cleared = ClearEntries(ns);
            EndCommand(context, cleared);
            return cleared;
        }
        catch (Exception ex) when (CommandFailed(context, ex))
        {
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> ClearAsync(string? @namespace = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Cache.Disabled)
        {
            return true;
        }

        var ns = ResolveNamespace(@namespace);
        var context = BeginCommand(CacheCommand.Clear, null, null, ns, null, null);
        try
        {
            var cleared = await WithTimeout(ClearEntriesAsync(ns, cancellationToken), CacheCommand.Clear, cancellationToken).ConfigureAwait(false);
            EndCommand(context, cleared);
            return cleared;
        }
        catch (Exception ex) when (CommandFailed(context, ex))
        {
            throw;
        }
    }

    /// <inheritdoc />
    public bool Expire(string key, TimeSpan? ttl, string? @namespace = null)
    {
        Guard.Key(key);
        var expiry = TtlRules.Normalize(ttl, nameof(ttl));
        if (Cache.Disabled)
        {
            return false;
        }

        var ns = ResolveNamespace(@namespace);
        var fullKey = BuildKeyIn(key, ns);
        var context = BeginCommand(CacheCommand.Expire, key, null, ns, null, expiry);
        try
        {
            var exists = ExpireEntry(fullKey, expiry);
            EndCommand(context, exists);
            return exists;
        }
        catch (Exception ex) when (CommandFailed(context, ex))
        {
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> ExpireAsync(string key, TimeSpan? ttl, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        Guard.Key(key);
        var expiry = TtlRules.Normalize(ttl, nameof(ttl));
        cancellationToken.ThrowIfCancellationRequested();
        if (Cache.Disabled)
        {
            return false;
        }

        var ns = ResolveNamespace(@namespace);
        var fullKey = BuildKeyIn(key, ns);
        var context = BeginCommand(CacheCommand.Expire, key, null, ns, null, expiry);
        try
        {
            var exists = await WithTimeout(ExpireEntryAsync(fullKey, expiry, cancellationToken), CacheCommand.Expire, cancellationToken).ConfigureAwait(false);
            EndCommand(context, exists);
            return exists;
        }
        catch (Exception ex) when (CommandFailed(context, ex))
        {
            throw;
        }
    }

    /// <inheritdoc />
    public object? Raw(string command, params object?[] args)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        args ??= [];
        if (Cache.Disabled)
        {
            return null;
        }

        var context = BeginCommand(CacheCommand.Raw, null, null, null, args, null);
        try
        {
            var result = ExecuteRaw(command, args);
            EndCommand(context, result);
            return result;
        }
        catch (Exception ex) when (CommandFailed(context, ex))
        {
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask<object?> RawAsync(string command, object?[]? args = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        args ??= [];
        cancellationToken.ThrowIfCancellationRequested();
        if (Cache.Disabled)
        {
            return null;
        }

        var context = BeginCommand(CacheCommand.Raw, null, null, null, args, null);
        try
        {
            var result = await WithTimeout(ExecuteRawAsync(command, args, cancellationToken), CacheCommand.Raw, cancellationToken).ConfigureAwait(false);
            EndCommand(context, result);
            return result;
        }
        catch (Exception ex) when (CommandFailed(context, ex))
        {
            throw;
        }
    }
}
