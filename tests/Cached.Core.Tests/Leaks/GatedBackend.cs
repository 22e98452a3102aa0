using System.Collections.Concurrent;

namespace Cached.Tests.Leaks;

/// <summary>
/// A remote-like backend (it stores no references, so its fences are per key) whose async reads and writes can be
/// held at a gate, and whose every operation can be made to fail: the leak review's way to stop a call at an await
/// of the backend, and to fault it.
/// </summary>
internal sealed class GatedBackend : BaseCache
{
    private readonly ConcurrentDictionary<string, object?> _entries = new(StringComparer.Ordinal);

    /// <summary>While set, every async read waits for it.</summary>
    public TaskCompletionSource? ReadGate { get; set; }

    /// <summary>While set, every async write waits for it.</summary>
    public TaskCompletionSource? WriteGate { get; set; }

    /// <summary>While true, every operation throws, as an unreachable server's client does.</summary>
    public bool Down { get; set; }

    /// <summary>While true, async reads and writes complete later, as a remote store's do.</summary>
    public bool Yield { get; init; }

    public int Count => _entries.Count;

    protected override CacheResult<object?> GetEntry(string key)
    {
        ThrowIfDown();
        return _entries.TryGetValue(key, out var payload) ? CacheResult<object?>.Hit(payload) : CacheResult<object?>.Miss;
    }

    protected override async ValueTask<CacheResult<object?>> GetEntryAsync(string key, CancellationToken cancellationToken)
    {
        await Pass(ReadGate, cancellationToken).ConfigureAwait(false);
        return GetEntry(key);
    }

    protected override bool AddEntry(string key, string? @namespace, object? payload, TimeSpan? ttl)
    {
        ThrowIfDown();
        return _entries.TryAdd(key, payload);
    }

    protected override bool SetEntry(string key, string? @namespace, object? payload, TimeSpan? ttl)
    {
        ThrowIfDown();
        _entries[key] = payload;
        return true;
    }

    protected override async ValueTask<bool> SetEntryAsync(string key, string? @namespace, object? payload, TimeSpan? ttl, CancellationToken cancellationToken)
    {
        await Pass(WriteGate, cancellationToken).ConfigureAwait(false);
        return SetEntry(key, @namespace, payload, ttl);
    }

    protected override bool ContainsEntry(string key)
    {
        ThrowIfDown();
        return _entries.ContainsKey(key);
    }

    protected override long IncrementEntry(string key, string? @namespace, long delta)
    {
        ThrowIfDown();
        return (long)_entries.AddOrUpdate(key, delta, (_, old) => (long)old! + delta)!;
    }

    protected override int RemoveEntry(string key)
    {
        ThrowIfDown();
        return _entries.TryRemove(key, out _) ? 1 : 0;
    }

    protected override bool ClearEntries(string? @namespace)
    {
        ThrowIfDown();
        _entries.Clear();
        return true;
    }

    protected override bool ExpireEntry(string key, TimeSpan? ttl)
    {
        ThrowIfDown();
        return _entries.ContainsKey(key);
    }

    protected override object? ExecuteRaw(string command, object?[] args) => _entries.Count;

    private async ValueTask Pass(TaskCompletionSource? gate, CancellationToken cancellationToken)
    {
        if (gate is not null)
        {
            await gate.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        else if (Yield)
        {
            await Task.Yield();
        }
    }

    private void ThrowIfDown()
    {
        if (Down)
        {
            throw new InvalidOperationException("the backend is down");
        }
    }
}
