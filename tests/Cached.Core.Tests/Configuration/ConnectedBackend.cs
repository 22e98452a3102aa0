using System.Collections.Concurrent;
using Cached.Serializers;

namespace Cached.Tests.Configuration;

/// <summary>
/// A backend that behaves like one holding a connection: once disposed, every operation throws
/// <see cref="ObjectDisposedException"/>, as a RedisCache does. Created by configuration from its full name; every
/// instance is recorded in <see cref="Made"/>, and async reads wait for <see cref="ReadGate"/> when it is set.
/// </summary>
internal sealed class ConnectedBackend : BaseCache
{
    private readonly ConcurrentDictionary<string, object?> _store = new(StringComparer.Ordinal);
    private int _disposeCount;

    public ConnectedBackend()
    {
        Made.Enqueue(this);
    }

    /// <summary>Every instance created since the last <see cref="ConcurrentQueue{T}.Clear"/>, in order.</summary>
    public static ConcurrentQueue<ConnectedBackend> Made { get; } = new();

    /// <summary>How many times the backend was disposed.</summary>
    public int DisposeCount => Volatile.Read(ref _disposeCount);

    /// <summary>When set, async reads wait for it and only then touch the connection.</summary>
    public Task? ReadGate { get; set; }

    protected override bool StoresReferences => true;

    protected override ISerializer CreateDefaultSerializer() => NullSerializer.Instance;

    private ConcurrentDictionary<string, object?> Connection()
    {
        ObjectDisposedException.ThrowIf(DisposeCount != 0, this);
        return _store;
    }

    protected override CacheResult<object?> GetEntry(string key)
        => Connection().TryGetValue(key, out var value) ? CacheResult<object?>.Hit(value) : CacheResult<object?>.Miss;

    protected override async ValueTask<CacheResult<object?>> GetEntryAsync(string key, CancellationToken cancellationToken)
    {
        if (ReadGate is { } gate)
        {
            await gate.WaitAsync(cancellationToken);
        }

        return GetEntry(key);
    }

    protected override bool AddEntry(string key, string? @namespace, object? payload, TimeSpan? ttl) => Connection().TryAdd(key, payload);

    protected override bool SetEntry(string key, string? @namespace, object? payload, TimeSpan? ttl)
    {
        Connection()[key] = payload;
        return true;
    }

    protected override bool ContainsEntry(string key) => Connection().ContainsKey(key);

    protected override long IncrementEntry(string key, string? @namespace, long delta)
        => (long)Connection().AddOrUpdate(key, delta, (_, value) => (long)value! + delta)!;

    protected override int RemoveEntry(string key) => Connection().TryRemove(key, out _) ? 1 : 0;

    protected override bool ClearEntries(string? @namespace)
    {
        Connection().Clear();
        return true;
    }

    protected override bool ExpireEntry(string key, TimeSpan? ttl) => Connection().ContainsKey(key);

    protected override object? ExecuteRaw(string command, object?[] args) => Connection().Count;

    // DisposeAsync calls this twice, disposing only once.
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Interlocked.Increment(ref _disposeCount);
        }

        base.Dispose(disposing);
    }
}
