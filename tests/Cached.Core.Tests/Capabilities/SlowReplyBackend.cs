using System.Collections.Concurrent;

namespace Cached.Tests.Capabilities;

/// <summary>
/// A backend whose async writes happen at once but whose answer arrives only when the test opens a gate: how a Redis
/// <c>SET NX PX</c> looks to a caller cancelled after the server ran it and before the reply came back.
/// </summary>
internal sealed class SlowReplyBackend : BaseCache
{
    private readonly ConcurrentDictionary<string, object?> _store = new(StringComparer.Ordinal);

    /// <summary>Completed once an async add has stored its entry (its reply is still pending).</summary>
    public TaskCompletionSource<string> Stored { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The replies of async adds wait for this.</summary>
    public TaskCompletionSource Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool Holds(string key) => _store.ContainsKey(key);

    protected override bool StoresReferences => true;

    protected override bool SupportsConditionalOperations => true;

    protected override ValueTask<bool> AddEntryAsync(string key, string? @namespace, object? payload, TimeSpan? ttl, CancellationToken cancellationToken)
    {
        var added = _store.TryAdd(key, payload);
        Stored.TrySetResult(key);
        return AnswerLater(added);
    }

    private async ValueTask<bool> AnswerLater(bool added)
    {
        await Reply.Task;
        return added;
    }

    protected override CacheResult<object?> GetEntry(string key)
        => _store.TryGetValue(key, out var value) ? CacheResult<object?>.Hit(value) : CacheResult<object?>.Miss;

    protected override bool AddEntry(string key, string? @namespace, object? payload, TimeSpan? ttl) => _store.TryAdd(key, payload);

    protected override bool SetEntry(string key, string? @namespace, object? payload, TimeSpan? ttl)
    {
        _store[key] = payload;
        return true;
    }

    protected override bool ContainsEntry(string key) => _store.ContainsKey(key);

    protected override long IncrementEntry(string key, string? @namespace, long delta) => throw new NotSupportedException();

    protected override int RemoveEntry(string key) => _store.TryRemove(key, out _) ? 1 : 0;

    protected override bool RemoveEntryIfEquals(string key, object? expected)
        => _store.TryGetValue(key, out var current) && Equals(current, expected) && _store.TryRemove(new KeyValuePair<string, object?>(key, current));

    protected override bool ClearEntries(string? @namespace)
    {
        _store.Clear();
        return true;
    }

    protected override bool ExpireEntry(string key, TimeSpan? ttl) => _store.ContainsKey(key);

    protected override object? ExecuteRaw(string command, object?[] args) => null;
}
