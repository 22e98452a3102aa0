using System.Collections.Concurrent;
using Cached.Plugins;
using Cached.Serializers;
using Microsoft.Extensions.Logging;

namespace Cached.Tests.Runtime;

/// <summary>One log entry written through <see cref="CachedLogging"/>.</summary>
internal sealed record LogEntry(string Category, LogLevel Level, int EventId, string Message, Exception? Exception);

/// <summary>A logger factory that records every entry its loggers write.</summary>
internal sealed class RecordingLoggerFactory : ILoggerFactory
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyList<LogEntry> Entries => _entries.ToArray();

    public ILogger CreateLogger(string categoryName) => new RecordingLogger(categoryName, _entries);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class RecordingLogger(string category, ConcurrentQueue<LogEntry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => entries.Enqueue(new LogEntry(category, logLevel, eventId.Id, formatter(state, exception), exception));
    }
}

/// <summary>Counts the commands a cache runs, and records the keys of its multi commands.</summary>
internal sealed class CountingPlugin : CachePlugin
{
    private int _gets;
    private int _multiGets;
    private int _sets;
    private int _multiSets;
    private int _deletes;

    public int Gets => Volatile.Read(ref _gets);

    public int MultiGets => Volatile.Read(ref _multiGets);

    public int Sets => Volatile.Read(ref _sets);

    public int MultiSets => Volatile.Read(ref _multiSets);

    public int Deletes => Volatile.Read(ref _deletes);

    public ConcurrentQueue<string[]> MultiGetKeys { get; } = new();

    public ConcurrentQueue<string[]> MultiSetKeys { get; } = new();

    public ConcurrentQueue<TimeSpan?> MultiSetTtls { get; } = new();

    public ConcurrentQueue<TimeSpan?> SetTtls { get; } = new();

    protected override void PostGet(CacheCommandContext context) => Interlocked.Increment(ref _gets);

    protected override void PostMultiGet(CacheCommandContext context)
    {
        MultiGetKeys.Enqueue(context.Keys?.ToArray() ?? []);
        Interlocked.Increment(ref _multiGets);
    }

    protected override void PostSet(CacheCommandContext context)
    {
        SetTtls.Enqueue(context.Ttl);
        Interlocked.Increment(ref _sets);
    }

    protected override void PostMultiSet(CacheCommandContext context)
    {
        MultiSetKeys.Enqueue(context.Keys?.ToArray() ?? []);
        MultiSetTtls.Enqueue(context.Ttl);
        Interlocked.Increment(ref _multiSets);
    }

    protected override void PostDelete(CacheCommandContext context) => Interlocked.Increment(ref _deletes);
}

/// <summary>
/// A dictionary-backed backend whose commands can be made to fail (reads, writes, deletes), whose async reads can be
/// held at a gate (a slow server), and whose sync reads can call a hook after the lookup.
/// </summary>
internal sealed class TestBackend : BaseCache
{
    private readonly ConcurrentDictionary<string, object?> _store = new(StringComparer.Ordinal);

    /// <summary>Reads (Get, MultiGet, Exists) throw <see cref="Fault"/>.</summary>
    public bool FailReads { get; set; }

    /// <summary>Writes (Set, MultiSet, Increment, Expire) throw <see cref="Fault"/>. Add (the lock) is unaffected.</summary>
    public bool FailWrites { get; set; }

    /// <summary>Delete and Clear throw <see cref="Fault"/>.</summary>
    public bool FailDeletes { get; set; }

    /// <summary>A lock's release (the compare-and-delete) throws <see cref="Fault"/>.</summary>
    public bool FailReleases { get; set; }

    /// <summary>Every command throws.</summary>
    public bool FailAll
    {
        set
        {
            FailReads = value;
            FailWrites = value;
            FailDeletes = value;
        }
    }

    /// <summary>True: a failing async primitive throws before returning; false: it returns a faulted task.</summary>
    public bool FaultsAreSynchronous { get; set; } = true;

    public CacheException Fault { get; } = new("backend down");

    /// <summary>When set, async reads wait for it.</summary>
    public Task? ReadGate { get; set; }

    /// <summary>
    /// A gated read looks its key up before it waits rather than after: a server that answered, and a reply that
    /// reaches the caller later.
    /// </summary>
    public bool LooksUpBeforeGate { get; set; }

    /// <summary>Called by sync reads after the lookup, before returning its result.</summary>
    public Action<string>? AfterRead { get; set; }

    /// <summary>The key of every single-key read, sync or async, in the order they reached the backend.</summary>
    public ConcurrentQueue<string> ReadKeys { get; } = new();

    /// <summary>The raw store, by backend key.</summary>
    public IReadOnlyDictionary<string, object?> Store => _store;

    protected override bool StoresReferences => true;

    /// <summary>Making the default serializer throws <see cref="Fault"/> (a backend that insists on being given one).</summary>
    public bool SerializerFails { get; init; }

    protected override ISerializer CreateDefaultSerializer() => SerializerFails ? throw Fault : NullSerializer.Instance;

    private ValueTask<T> Async<T>(bool fail, Func<T> operation)
    {
        if (fail)
        {
            if (FaultsAreSynchronous)
            {
                throw Fault;
            }

            return ValueTask.FromException<T>(Fault);
        }

        return ValueTask.FromResult(operation());
    }

    private void Check(bool fail)
    {
        if (fail)
        {
            throw Fault;
        }
    }

    private CacheResult<object?> Lookup(string key)
        => _store.TryGetValue(key, out var value) ? CacheResult<object?>.Hit(value) : CacheResult<object?>.Miss;

    protected override CacheResult<object?> GetEntry(string key)
    {
        ReadKeys.Enqueue(key);
        Check(FailReads);
        var result = Lookup(key);
        AfterRead?.Invoke(key);
        return result;
    }

    protected override ValueTask<CacheResult<object?>> GetEntryAsync(string key, CancellationToken cancellationToken)
    {
        ReadKeys.Enqueue(key);
        if (ReadGate is { } gate && !FailReads)
        {
            return Gated(gate, key, cancellationToken);
        }

        return Async(FailReads, () => Lookup(key));

        async ValueTask<CacheResult<object?>> Gated(Task gate, string key, CancellationToken cancellationToken)
        {
            var early = LooksUpBeforeGate ? Lookup(key) : default;
            await gate.WaitAsync(cancellationToken);
            return LooksUpBeforeGate ? early : Lookup(key);
        }
    }

    protected override CacheResult<object?>[] GetEntries(IReadOnlyList<string> keys)
    {
        Check(FailReads);
        return keys.Select(Lookup).ToArray();
    }

    protected override ValueTask<CacheResult<object?>[]> GetEntriesAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
        => Async(FailReads, () => keys.Select(Lookup).ToArray());

    protected override bool AddEntry(string key, string? @namespace, object? payload, TimeSpan? ttl) => _store.TryAdd(key, payload);

    protected override ValueTask<bool> AddEntryAsync(string key, string? @namespace, object? payload, TimeSpan? ttl, CancellationToken cancellationToken)
        => ValueTask.FromResult(_store.TryAdd(key, payload));

    protected override bool SetEntry(string key, string? @namespace, object? payload, TimeSpan? ttl)
    {
        Check(FailWrites);
        _store[key] = payload;
        return true;
    }

    protected override ValueTask<bool> SetEntryAsync(string key, string? @namespace, object? payload, TimeSpan? ttl, CancellationToken cancellationToken)
        => Async(FailWrites, () => SetEntry(key, @namespace, payload, ttl));

    protected override bool SetEntries(IReadOnlyList<KeyValuePair<string, object?>> entries, string? @namespace, TimeSpan? ttl)
    {
        Check(FailWrites);
        foreach (var (key, value) in entries)
        {
            _store[key] = value;
        }

        return true;
    }

    protected override ValueTask<bool> SetEntriesAsync(IReadOnlyList<KeyValuePair<string, object?>> entries, string? @namespace, TimeSpan? ttl, CancellationToken cancellationToken)
        => Async(FailWrites, () => SetEntries(entries, @namespace, ttl));

    protected override bool ContainsEntry(string key)
    {
        Check(FailReads);
        return _store.ContainsKey(key);
    }

    protected override ValueTask<bool> ContainsEntryAsync(string key, CancellationToken cancellationToken)
        => Async(FailReads, () => _store.ContainsKey(key));

    protected override long IncrementEntry(string key, string? @namespace, long delta)
    {
        Check(FailWrites);
        throw new NotSupportedException();
    }

    protected override ValueTask<long> IncrementEntryAsync(string key, string? @namespace, long delta, CancellationToken cancellationToken)
        => Async<long>(FailWrites, () => throw new NotSupportedException());

    protected override int RemoveEntry(string key)
    {
        Check(FailDeletes);
        return _store.TryRemove(key, out _) ? 1 : 0;
    }

    protected override ValueTask<int> RemoveEntryAsync(string key, CancellationToken cancellationToken)
        => Async(FailDeletes, () => _store.TryRemove(key, out _) ? 1 : 0);

    protected override bool ClearEntries(string? @namespace)
    {
        Check(FailDeletes);
        _store.Clear();
        return true;
    }

    protected override ValueTask<bool> ClearEntriesAsync(string? @namespace, CancellationToken cancellationToken)
        => Async(FailDeletes, () => ClearEntries(@namespace));

    protected override bool ExpireEntry(string key, TimeSpan? ttl)
    {
        Check(FailWrites);
        return _store.ContainsKey(key);
    }

    protected override ValueTask<bool> ExpireEntryAsync(string key, TimeSpan? ttl, CancellationToken cancellationToken)
        => Async(FailWrites, () => _store.ContainsKey(key));

    protected override bool SupportsConditionalOperations => true;

    protected override bool RemoveEntryIfEquals(string key, object? expected)
    {
        Check(FailReleases);
        return _store.TryRemove(new KeyValuePair<string, object?>(key, expected));
    }

    protected override ValueTask<bool> RemoveEntryIfEqualsAsync(string key, object? expected, CancellationToken cancellationToken)
        => Async(FailReleases, () => _store.TryRemove(new KeyValuePair<string, object?>(key, expected)));

    protected override object? GetEntryVersion(string key) => _store.TryGetValue(key, out var value) ? value : null;

    protected override ValueTask<object?> GetEntryVersionAsync(string key, CancellationToken cancellationToken) => ValueTask.FromResult(GetEntryVersion(key));

    protected override CacheResult<object?> SetEntryIfVersion(string key, string? @namespace, object? version, object? payload, TimeSpan? ttl)
        => (version is null ? _store.TryAdd(key, payload) : _store.TryUpdate(key, payload, version)) ? CacheResult<object?>.Hit(payload) : CacheResult<object?>.Miss;

    protected override ValueTask<CacheResult<object?>> SetEntryIfVersionAsync(string key, string? @namespace, object? version, object? payload, TimeSpan? ttl, CancellationToken cancellationToken)
        => ValueTask.FromResult(SetEntryIfVersion(key, @namespace, version, payload, ttl));

    protected override object? ExecuteRaw(string command, object?[] args) => null;

    protected override ValueTask<object?> ExecuteRawAsync(string command, object?[] args, CancellationToken cancellationToken)
        => ValueTask.FromResult<object?>(null);

    /// <summary>How many times the backend released its resources.</summary>
    public int DisposeCount { get; private set; }

    protected override void Dispose(bool disposing)
    {
        DisposeCount++;
        base.Dispose(disposing);
    }
}

/// <summary>A thread-safe call counter, passed as the state of the body lambdas.</summary>
internal sealed class Calls
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public int Increment() => Interlocked.Increment(ref _count);
}
