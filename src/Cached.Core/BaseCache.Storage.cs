namespace Cached;

/// <summary>
/// The storage contract a backend implements: raw operations on fully built keys and stored payloads (the value itself,
/// or its bytes). Only the nine sync operations are required; everything else has a default built on them, so an
/// in-process backend is a short class:
/// <list type="bullet">
/// <item>each async twin runs its sync operation and completes synchronously: a backend that does I/O overrides them;</item>
/// <item>the batch operations (<see cref="GetEntries"/>, <see cref="SetEntries"/>) loop over the single ones: a backend
/// with a batch command (Redis MGET) overrides them;</item>
/// <item>the conditional operations behind locks, leases and <see cref="OptimisticLock"/> (<see cref="RemoveEntryIfEquals"/>,
/// <see cref="GetEntryVersion"/>, <see cref="SetEntryIfVersion"/>) throw <see cref="NotSupportedException"/> unless the
/// backend overrides them atomically and says so with <see cref="SupportsConditionalOperations"/>; without them,
/// <see cref="RedLock"/> and <see cref="OptimisticLock"/> refuse the cache at once, and a generated method's lease falls
/// back to running without one.</item>
/// </list>
/// Namespaces, serialization, plugins, telemetry, timeouts and error mapping are not the backend's concern: the
/// pipeline does them once for every backend (<see cref="MapError"/> is the backend's one hook into it).
/// </summary>
public abstract partial class BaseCache
{
    /// <summary>Reads one payload.</summary>
    protected abstract CacheResult<object?> GetEntry(string key);

    /// <summary>Stores a payload only if the key holds none; returns false when it does.</summary>
    /// <param name="key">The backend key.</param>
    /// <param name="namespace">The namespace the key was built in (<c>null</c> for none), for backends that clear by namespace.</param>
    /// <param name="payload">The value or its serialized bytes.</param>
    /// <param name="ttl"><c>null</c> for no expiry, else a positive span.</param>
    protected abstract bool AddEntry(string key, string? @namespace, object? payload, TimeSpan? ttl);

    /// <summary>Stores a payload, replacing any other and its expiry.</summary>
    /// <inheritdoc cref="AddEntry" path="/param"/>
    protected abstract bool SetEntry(string key, string? @namespace, object? payload, TimeSpan? ttl);

    /// <summary>Tells whether the key holds a payload.</summary>
    protected abstract bool ContainsEntry(string key);

    /// <summary>Adds to the integer the key holds (a missing key starts at 0) and returns the new value.</summary>
    protected abstract long IncrementEntry(string key, string? @namespace, long delta);

    /// <summary>Removes the key and returns how many entries were removed.</summary>
    protected abstract int RemoveEntry(string key);

    /// <summary>Removes every entry of <paramref name="namespace"/>, or every entry of the store when it is <c>null</c>.</summary>
    protected abstract bool ClearEntries(string? @namespace);

    /// <summary>Sets the key's expiry (<c>null</c>: none); returns false when the key does not exist.</summary>
    protected abstract bool ExpireEntry(string key, TimeSpan? ttl);

    /// <summary>Runs a command of the underlying store as given.</summary>
    /// <param name="command">The command's name, not blank.</param>
    /// <param name="args">The arguments <see cref="PrepareRawArguments"/> answered.</param>
    protected abstract object? ExecuteRaw(string command, object?[] args);

    /// <summary>
    /// Whether a raw command only reads. Any other raw command may change any key, so before it runs every fill of this
    /// cache open in this process is refused its store, as a <c>Clear</c> refuses them: a cached method's body that began
    /// before a raw write never stores its result over it. False unless a backend names its reading commands.
    /// </summary>
    /// <param name="command">The command's name as given, not blank.</param>
    protected virtual bool RawCommandOnlyReads(string command) => false;

    /// <summary>
    /// Checks <see cref="ICache.Raw"/>'s arguments before the command enters the pipeline, and answers those to send to
    /// <see cref="ExecuteRaw"/>. A bad argument is the caller's error, not a store fault: refused here, it fails the call
    /// with its <see cref="ArgumentException"/> (the task of <see cref="ICache.RawAsync"/>, whatever its token), and
    /// plugins, the circuit breaker and the logs never see it. By default, every argument as given.
    /// </summary>
    /// <param name="command">The command's name, not blank.</param>
    /// <param name="args">The caller's arguments (an empty array for none); the override must not change it.</param>
    /// <returns>The arguments to send: <paramref name="args"/>, or a new array with some of them converted.</returns>
    /// <exception cref="ArgumentException">An argument the store cannot take; its <see cref="ArgumentException.ParamName"/> is <c>args</c>.</exception>
    protected virtual object?[] PrepareRawArguments(string command, object?[] args) => args;

    /// <inheritdoc cref="GetEntry"/>
    protected virtual ValueTask<CacheResult<object?>> GetEntryAsync(string key, CancellationToken cancellationToken)
        => ValueTask.FromResult(GetEntry(key));

    /// <summary>
    /// Starts an async read of one entry as its client's own task, when the client can take the command at once:
    /// the pipeline then awaits that task directly instead of <see cref="GetEntryAsync"/>'s, one async frame fewer on
    /// every remote read that does not complete synchronously. Answers <c>false</c> (the default) to leave the read to
    /// <see cref="GetEntryAsync"/>, for example while a connection is still being made. The read must be the one
    /// <see cref="GetEntryAsync"/> would make; the pipeline owns its timeout and the caller's token as for any read.
    /// </summary>
    /// <param name="key">The full key, as <see cref="GetEntryAsync"/> gets it.</param>
    /// <param name="read">The started read, when this answers <c>true</c>.</param>
    protected virtual bool TryStartEntryRead(string key, out PendingEntryRead read)
    {
        read = default;
        return false;
    }

    /// <inheritdoc cref="AddEntry"/>
    protected virtual ValueTask<bool> AddEntryAsync(string key, string? @namespace, object? payload, TimeSpan? ttl, CancellationToken cancellationToken)
        => ValueTask.FromResult(AddEntry(key, @namespace, payload, ttl));

    /// <inheritdoc cref="SetEntry"/>
    protected virtual ValueTask<bool> SetEntryAsync(string key, string? @namespace, object? payload, TimeSpan? ttl, CancellationToken cancellationToken)
        => ValueTask.FromResult(SetEntry(key, @namespace, payload, ttl));

    /// <inheritdoc cref="ContainsEntry"/>
    protected virtual ValueTask<bool> ContainsEntryAsync(string key, CancellationToken cancellationToken)
        => ValueTask.FromResult(ContainsEntry(key));

    /// <inheritdoc cref="IncrementEntry"/>
    protected virtual ValueTask<long> IncrementEntryAsync(string key, string? @namespace, long delta, CancellationToken cancellationToken)
        => ValueTask.FromResult(IncrementEntry(key, @namespace, delta));

    /// <inheritdoc cref="RemoveEntry"/>
    protected virtual ValueTask<int> RemoveEntryAsync(string key, CancellationToken cancellationToken)
        => ValueTask.FromResult(RemoveEntry(key));

    /// <inheritdoc cref="ClearEntries"/>
    protected virtual ValueTask<bool> ClearEntriesAsync(string? @namespace, CancellationToken cancellationToken)
        => ValueTask.FromResult(ClearEntries(@namespace));

    /// <inheritdoc cref="ExpireEntry"/>
    protected virtual ValueTask<bool> ExpireEntryAsync(string key, TimeSpan? ttl, CancellationToken cancellationToken)
        => ValueTask.FromResult(ExpireEntry(key, ttl));

    /// <inheritdoc cref="ExecuteRaw"/>
    protected virtual ValueTask<object?> ExecuteRawAsync(string command, object?[] args, CancellationToken cancellationToken)
        => ValueTask.FromResult(ExecuteRaw(command, args));

    /// <summary>Reads several payloads; the result has one element per key, in order. By default, one read per key.</summary>
    protected virtual CacheResult<object?>[] GetEntries(IReadOnlyList<string> keys)
    {
        var results = new CacheResult<object?>[keys.Count];
        for (var i = 0; i < results.Length; i++)
        {
            results[i] = GetEntry(keys[i]);
        }

        return results;
    }

    /// <inheritdoc cref="GetEntries"/>
    protected virtual async ValueTask<CacheResult<object?>[]> GetEntriesAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var results = new CacheResult<object?>[keys.Count];
        for (var i = 0; i < results.Length; i++)
        {
            results[i] = await GetEntryAsync(keys[i], cancellationToken).ConfigureAwait(false);
        }

        return results;
    }

    /// <summary>Stores several payloads with one expiry. By default, one write per entry.</summary>
    protected virtual bool SetEntries(IReadOnlyList<KeyValuePair<string, object?>> entries, string? @namespace, TimeSpan? ttl)
    {
        var stored = true;
        foreach (var entry in entries)
        {
            stored &= SetEntry(entry.Key, @namespace, entry.Value, ttl);
        }

        return stored;
    }

    /// <inheritdoc cref="SetEntries"/>
    protected virtual async ValueTask<bool> SetEntriesAsync(IReadOnlyList<KeyValuePair<string, object?>> entries, string? @namespace, TimeSpan? ttl, CancellationToken cancellationToken)
    {
        var stored = true;
        foreach (var entry in entries)
        {
            stored &= await SetEntryAsync(entry.Key, @namespace, entry.Value, ttl, cancellationToken).ConfigureAwait(false);
        }

        return stored;
    }

    /// <summary>
    /// True when the backend overrides the conditional operations below with atomic ones. Locks check it before they
    /// take anything, so that a lock is never taken that could not be released.
    /// </summary>
    protected virtual bool SupportsConditionalOperations => false;

    /// <summary>Removes the key only if it holds <paramref name="expected"/> (compared by value; byte arrays by content), atomically.</summary>
    /// <returns>True when removed.</returns>
    protected virtual bool RemoveEntryIfEquals(string key, object? expected) => throw NotAtomic(nameof(RemoveEntryIfEquals));

    /// <inheritdoc cref="RemoveEntryIfEquals"/>
    protected virtual ValueTask<bool> RemoveEntryIfEqualsAsync(string key, object? expected, CancellationToken cancellationToken)
        => ValueTask.FromResult(RemoveEntryIfEquals(key, expected));

    /// <summary>An opaque token that changes whenever the key is written; <c>null</c> when the key is missing.</summary>
    protected virtual object? GetEntryVersion(string key) => throw NotAtomic(nameof(GetEntryVersion));

    /// <inheritdoc cref="GetEntryVersion"/>
    protected virtual ValueTask<object?> GetEntryVersionAsync(string key, CancellationToken cancellationToken)
        => ValueTask.FromResult(GetEntryVersion(key));

    /// <summary>
    /// Stores the payload only if the key's version is still <paramref name="version"/> (<c>null</c>: the key is still
    /// missing), atomically. Found when stored, with the key's new version as the value.
    /// </summary>
    protected virtual CacheResult<object?> SetEntryIfVersion(string key, string? @namespace, object? version, object? payload, TimeSpan? ttl)
        => throw NotAtomic(nameof(SetEntryIfVersion));

    /// <inheritdoc cref="SetEntryIfVersion"/>
    protected virtual ValueTask<CacheResult<object?>> SetEntryIfVersionAsync(string key, string? @namespace, object? version, object? payload, TimeSpan? ttl, CancellationToken cancellationToken)
        => ValueTask.FromResult(SetEntryIfVersion(key, @namespace, version, payload, ttl));

    private NotSupportedException NotAtomic(string operation)
        => new($"{GetType().Name} does not implement {operation}, so it cannot take locks, leases or optimistic locks: override it with an atomic operation of the store.");

    /// <summary>Refuses lock and version traffic on a backend without atomic conditional operations.</summary>
    private void RequireConditionalOperations()
    {
        if (!SupportsConditionalOperations)
        {
            throw new NotSupportedException($"{GetType().Name} has no atomic compare-and-delete or compare-and-set, so it cannot take locks, leases or optimistic locks.");
        }
    }
}
