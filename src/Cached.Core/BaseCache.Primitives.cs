namespace Cached;

/// <summary>The raw storage operations a backend implements. Keys are fully built; payloads are stored as given.</summary>
public abstract partial class BaseCache
{
    /// <summary>Reads one payload.</summary>
    protected abstract CacheResult<object?> GetEntry(string key);

    /// <inheritdoc cref="GetEntry"/>
    protected abstract ValueTask<CacheResult<object?>> GetEntryAsync(string key, CancellationToken cancellationToken);

    /// <summary>Reads several payloads; the result has one element per key, in order.</summary>
    protected abstract CacheResult<object?>[] GetEntries(IReadOnlyList<string> keys);

    /// <inheritdoc cref="GetEntries"/>
    protected abstract ValueTask<CacheResult<object?>[]> GetEntriesAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken);

    /// <summary>Stores a payload only if the key holds none; returns false when it does.</summary>
    /// <param name="key">The backend key.</param>
    /// <param name="namespace">The namespace the key was built in (<c>null</c> for none), for backends that clear by namespace.</param>
    /// <param name="payload">The value or its serialized bytes.</param>
    /// <param name="ttl"><c>null</c> for no expiry, else a positive span.</param>
    protected abstract bool AddEntry(string key, string? @namespace, object? payload, TimeSpan? ttl);

    /// <inheritdoc cref="AddEntry"/>
    protected abstract ValueTask<bool> AddEntryAsync(string key, string? @namespace, object? payload, TimeSpan? ttl, CancellationToken cancellationToken);

    /// <summary>Stores a payload, replacing any other and its expiry.</summary>
    /// <inheritdoc cref="AddEntry" path="/param"/>
    protected abstract bool SetEntry(string key, string? @namespace, object? payload, TimeSpan? ttl);

    /// <inheritdoc cref="SetEntry"/>
    protected abstract ValueTask<bool> SetEntryAsync(string key, string? @namespace, object? payload, TimeSpan? ttl, CancellationToken cancellationToken);

    /// <summary>Stores several payloads with one expiry.</summary>
    protected abstract bool SetEntries(IReadOnlyList<KeyValuePair<string, object?>> entries, string? @namespace, TimeSpan? ttl);

    /// <inheritdoc cref="SetEntries"/>
    protected abstract ValueTask<bool> SetEntriesAsync(IReadOnlyList<KeyValuePair<string, object?>> entries, string? @namespace, TimeSpan? ttl, CancellationToken cancellationToken);

    /// <summary>Tells whether the key holds a payload.</summary>
    protected abstract bool ContainsEntry(string key);

    /// <inheritdoc cref="ContainsEntry"/>
    protected abstract ValueTask<bool> ContainsEntryAsync(string key, CancellationToken cancellationToken);

    /// <summary>Adds to the integer the key holds (a missing key starts at 0) and returns the new value.</summary>
    protected abstract long IncrementEntry(string key, string? @namespace, long delta);

    /// <inheritdoc cref="IncrementEntry"/>
    protected abstract ValueTask<long> IncrementEntryAsync(string key, string? @namespace, long delta, CancellationToken cancellationToken);

    /// <summary>Removes the key and returns how many entries were removed.</summary>
    protected abstract int RemoveEntry(string key);

    /// <inheritdoc cref="RemoveEntry"/>
    protected abstract ValueTask<int> RemoveEntryAsync(string key, CancellationToken cancellationToken);

    /// <summary>Removes every entry of <paramref name="namespace"/>, or every entry of the store when it is <c>null</c>.</summary>
    protected abstract bool ClearEntries(string? @namespace);

    /// <inheritdoc cref="ClearEntries"/>
    protected abstract ValueTask<bool> ClearEntriesAsync(string? @namespace, CancellationToken cancellationToken);

    /// <summary>Sets the key's expiry (<c>null</c>: none); returns false when the key does not exist.</summary>
    protected abstract bool ExpireEntry(string key, TimeSpan? ttl);

    /// <inheritdoc cref="ExpireEntry"/>
    protected abstract ValueTask<bool> ExpireEntryAsync(string key, TimeSpan? ttl, CancellationToken cancellationToken);

    /// <summary>Runs a command of the underlying store as given.</summary>
    protected abstract object? ExecuteRaw(string command, object?[] args);

    /// <inheritdoc cref="ExecuteRaw"/>
    protected abstract ValueTask<object?> ExecuteRawAsync(string command, object?[] args, CancellationToken cancellationToken);
}
