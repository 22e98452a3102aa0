using System.Collections.Concurrent;

namespace Cached.Tests.Capabilities;

/// <summary>
/// A backend written the way the storage contract promises a new one can be: the nine required sync operations over a
/// dictionary, nothing else. Namespaces, serialization, plugins, async twins, batches and timeouts come from BaseCache.
/// </summary>
internal sealed class ShortBackend : BaseCache
{
    private readonly ConcurrentDictionary<string, object?> _store = new(StringComparer.Ordinal);

    /// <summary>Every operation throws this when set, for the error-mapping tests.</summary>
    public Exception? Fault { get; set; }

    /// <summary>What <see cref="MapError"/> turns a fault into; <c>null</c> to let it pass.</summary>
    public Func<Exception, string, Exception?>? Mapping { get; init; }

    /// <summary>Keys are stored as UTF-8, as Redis stores them (<c>StoresKeysAsUtf8</c>): a lone surrogate is refused.</summary>
    public new bool KeysAsUtf8 { get; init; }

    protected override bool StoresKeysAsUtf8 => KeysAsUtf8;

    public int SingleReads;

    public int SingleWrites;

    protected override Exception? MapError(Exception exception, Cached.Plugins.CacheCommand command, string subject) => Mapping?.Invoke(exception, subject);

    /// <summary>A read of this key waits at <see cref="ReadGate"/> (after setting <see cref="ReadEntered"/>), for the race tests.</summary>
    public string? GatedKey { get; init; }

    public ManualResetEventSlim ReadEntered { get; } = new();

    public ManualResetEventSlim ReadGate { get; } = new();

    private string? _heldKey;

    /// <summary>
    /// The next read of <paramref name="key"/> reads its value, then waits at <see cref="ReadGate"/> (after setting
    /// <see cref="ReadEntered"/>) before answering it: a caller holding what it read while others write.
    /// </summary>
    public void HoldNextReadAfterReading(string key) => Volatile.Write(ref _heldKey, key);

    private string? _heldWrite;

    public ManualResetEventSlim WriteEntered { get; } = new();

    public ManualResetEventSlim WriteGate { get; } = new();

    /// <summary>
    /// The next write of <paramref name="key"/> waits at <see cref="WriteGate"/> (after setting <see cref="WriteEntered"/>)
    /// before it stores: a caller that has its value and is storing it.
    /// </summary>
    public void HoldNextWrite(string key) => Volatile.Write(ref _heldWrite, key);

    /// <summary>Drops <paramref name="key"/> as its time to live would: not a write or delete of the cache, so no fence moves.</summary>
    public void Evict(string key) => _store.TryRemove(key, out _);

    protected override CacheResult<object?> GetEntry(string key)
    {
        Throw();
        if (GatedKey is not null && key == GatedKey)
        {
            ReadEntered.Set();
            ReadGate.Wait(TimeSpan.FromSeconds(10));
        }

        Interlocked.Increment(ref SingleReads);
        var read = _store.TryGetValue(key, out var value) ? CacheResult<object?>.Hit(value) : CacheResult<object?>.Miss;
        if (TakeHold(ref _heldKey, key))
        {
            ReadEntered.Set();
            ReadGate.Wait(TimeSpan.FromSeconds(10));
        }

        return read;
    }

    protected override bool AddEntry(string key, string? @namespace, object? payload, TimeSpan? ttl)
    {
        Throw();
        return _store.TryAdd(key, payload);
    }

    protected override bool SetEntry(string key, string? @namespace, object? payload, TimeSpan? ttl)
    {
        Throw();
        if (TakeHold(ref _heldWrite, key))
        {
            WriteEntered.Set();
            WriteGate.Wait(TimeSpan.FromSeconds(10));
        }

        Interlocked.Increment(ref SingleWrites);
        _store[key] = payload;
        return true;
    }

    protected override bool ContainsEntry(string key)
    {
        Throw();
        return _store.ContainsKey(key);
    }

    protected override long IncrementEntry(string key, string? @namespace, long delta)
    {
        Throw();
        return (long)_store.AddOrUpdate(key, delta, (_, old) => (long)old! + delta)!;
    }

    protected override int RemoveEntry(string key)
    {
        Throw();
        return _store.TryRemove(key, out _) ? 1 : 0;
    }

    protected override bool ClearEntries(string? @namespace)
    {
        Throw();
        _store.Clear();
        return true;
    }

    protected override bool ExpireEntry(string key, TimeSpan? ttl)
    {
        Throw();
        return _store.ContainsKey(key);
    }

    protected override object? ExecuteRaw(string command, object?[] args) => _store.Count;

    /// <summary>
    /// Whether <paramref name="key"/> is the one held, taking the hold so that only one call waits: the exchange compares
    /// references, so it names the string it read, not the caller's equal one.
    /// </summary>
    private static bool TakeHold(ref string? held, string key)
    {
        var seen = Volatile.Read(ref held);
        return seen == key && ReferenceEquals(Interlocked.CompareExchange(ref held, null, seen), seen);
    }

    private void Throw()
    {
        if (Fault is { } fault)
        {
            throw fault;
        }
    }
}
