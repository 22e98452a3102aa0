using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Cached.Serializers;

namespace Cached;

/// <summary>
/// The in-process cache, and the embedded default: a concurrent dictionary per instance, lock-free reads,
/// values stored as they are (<see cref="NullSerializer"/>) unless another serializer is set.
/// </summary>
/// <remarks>
/// <para><b>Expiry.</b> Times to live run on <see cref="BaseCache.TimeProvider"/>'s monotonic timestamp and are exact
/// to the tick: an entry is gone from the moment its time to live has fully elapsed. Expired entries are invisible to
/// every command at once, and are removed on access and by a sweep every <see cref="SweepInterval"/>, so they
/// never pile up. The sweep timer starts with the first entry that has an expiry and holds the cache only weakly.</para>
/// <para><b>Bound.</b> With <see cref="MaxEntries"/> set, an insert that takes the count above it triggers one
/// eviction pass: expired entries go first, then the least recently used ones (reads and writes count as use) until
/// the count is at most 90% of the bound. Evicting a tenth at a time keeps the pass's cost amortized over many
/// inserts; while a pass runs, concurrent inserts may briefly take the count above the bound.</para>
/// <para><b>Namespaces.</b> Each entry remembers the namespace it was written in, so <see cref="ICache.Clear"/> with a
/// namespace removes exactly that namespace's entries, whatever the key composition or <see cref="BaseCache.KeyBuilder"/>.</para>
/// <para><b>Raw.</b> <see cref="ICache.Raw"/> runs named operations on the store, on backend keys (no namespace):
/// <c>get key</c>, <c>set key value</c>, <c>setdefault key value</c>, <c>pop key</c>, <c>contains key</c>, <c>keys</c>,
/// <c>count</c>, <c>clear</c>.</para>
/// </remarks>
public sealed class SimpleMemoryCache : BaseCache
{
    private readonly ConcurrentDictionary<string, Entry> _entries;
#if NET9_0_OR_GREATER
    private readonly ConcurrentDictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> _bySpan;
#endif
    private readonly object _evictionGate = new();
    private readonly int _maxEntries;
    private TimeSpan _sweepInterval = TimeSpan.FromMinutes(1);
    private int _count;
    private SweepTimer? _sweeper;

    /// <summary>Creates an empty cache.</summary>
    public SimpleMemoryCache()
    {
        _entries = new ConcurrentDictionary<string, Entry>(StringComparer.Ordinal);
#if NET9_0_OR_GREATER
        _bySpan = _entries.GetAlternateLookup<ReadOnlySpan<char>>();
#endif
    }

    /// <summary>The most entries the cache keeps; <c>null</c> (the default) for no bound. See the remarks for the eviction policy.</summary>
    public int? MaxEntries
    {
        get => _maxEntries == 0 ? null : _maxEntries;
        init => _maxEntries = value switch
        {
            null => 0,
            > 0 => value.Value,
            _ => throw new ArgumentOutOfRangeException(nameof(MaxEntries), value, "MaxEntries must be positive, or null for no bound."),
        };
    }

    /// <summary>How often expired entries are swept out (one minute unless set).</summary>
    public TimeSpan SweepInterval
    {
        get => _sweepInterval;
        init => _sweepInterval = value > TimeSpan.Zero
            ? value
            : throw new ArgumentOutOfRangeException(nameof(SweepInterval), value, "The sweep interval must be positive.");
    }

    /// <summary>How many entries the store holds, counting expired ones not yet removed.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <inheritdoc />
    protected override bool StoresReferences => true;

    /// <inheritdoc />
    protected override ISerializer CreateDefaultSerializer() => NullSerializer.Instance;

    private bool TracksUse => _maxEntries != 0;

    /// <inheritdoc />
    protected override CacheResult<object?> GetEntry(string key)
    {
        if (!_entries.TryGetValue(key, out var entry))
        {
            return CacheResult<object?>.Miss;
        }

        if (entry.ExpiresAt != 0 || TracksUse)
        {
            var now = TimeProvider.GetTimestamp();
            if (entry.IsExpiredAt(now))
            {
                RemoveIfUnchanged(key, entry);
                return CacheResult<object?>.Miss;
            }

            entry.LastUsed = now;
        }

        return CacheResult<object?>.Hit(entry.Value);
    }

    /// <inheritdoc />
    protected override ValueTask<CacheResult<object?>> GetEntryAsync(string key, CancellationToken cancellationToken)
        => ValueTask.FromResult(GetEntry(key));

#if NET9_0_OR_GREATER
    /// <summary>
    /// A hit of a generated method looks its key up from a stack buffer: no key string is made. Kept small, so that
    /// the JIT can inline it into the caller once it sees this is the backend; the namespaced and timed cases are calls.
    /// </summary>
    private protected override Runtime.SpanRead TryGetEntryBySpan(ReadOnlySpan<char> key, string? @namespace, out object? payload)
    {
        if (@namespace is not null)
        {
            return TryGetEntryBySpanIn(key, @namespace, out payload);
        }

        if (_bySpan.TryGetValue(key, out var entry))
        {
            return Read(entry, out payload);
        }

        payload = null;
        return Runtime.SpanRead.Miss;
    }

    private Runtime.SpanRead TryGetEntryBySpanIn(ReadOnlySpan<char> key, string @namespace, out object? payload)
    {
        payload = null;
        Span<char> composed = stackalloc char[256];
        if (!TryComposeKey(key, @namespace, composed, out var length))
        {
            return Runtime.SpanRead.Unsupported;
        }

        return _bySpan.TryGetValue(composed[..length], out var entry) ? Read(entry, out payload) : Runtime.SpanRead.Miss;
    }

    /// <summary>The entry's value, unless it has expired; an entry without TTL or use tracking needs no clock.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Runtime.SpanRead Read(Entry entry, out object? payload)
    {
        if (entry.ExpiresAt != 0 || TracksUse)
        {
            return ReadTimed(entry, out payload);
        }

        payload = entry.Value;
        return Runtime.SpanRead.Hit;
    }

    private Runtime.SpanRead ReadTimed(Entry entry, out object? payload)
    {
        payload = null;
        long now;
        try
        {
            now = TimeProvider.GetTimestamp();
        }
        catch (Exception)
        {
            // A broken clock is a fault the ordinary read reports; this read must not throw.
            return Runtime.SpanRead.Unsupported;
        }

        if (entry.IsExpiredAt(now))
        {
            // Left for the ordinary read or the sweep to remove: removing needs the key as a string.
            return Runtime.SpanRead.Miss;
        }

        entry.LastUsed = now;
        payload = entry.Value;
        return Runtime.SpanRead.Hit;
    }
#endif

    /// <inheritdoc />
    protected override CacheResult<object?>[] GetEntries(IReadOnlyList<string> keys)
    {
        var results = new CacheResult<object?>[keys.Count];
        for (var i = 0; i < results.Length; i++)
        {
            results[i] = GetEntry(keys[i]);
        }

        return results;
    }

    /// <inheritdoc />
    protected override ValueTask<CacheResult<object?>[]> GetEntriesAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
        => ValueTask.FromResult(GetEntries(keys));

    /// <inheritdoc />
    protected override bool AddEntry(string key, string? @namespace, object? payload, TimeSpan? ttl)
    {
        var fresh = CreateEntry(payload, @namespace, ttl);
        while (true)
        {
            if (_entries.TryAdd(key, fresh))
            {
                OnInserted();
                return true;
            }

            if (!_entries.TryGetValue(key, out var current))
            {
                continue;
            }

            if (!current.IsExpiredAt(TimeProvider.GetTimestamp()))
            {
                return false;
            }

            if (_entries.TryUpdate(key, fresh, current))
            {
                return true;
            }
        }
    }

    /// <inheritdoc />
    protected override ValueTask<bool> AddEntryAsync(string key, string? @namespace, object? payload, TimeSpan? ttl, CancellationToken cancellationToken)
        => ValueTask.FromResult(AddEntry(key, @namespace, payload, ttl));

    /// <inheritdoc />
    protected override bool SetEntry(string key, string? @namespace, object? payload, TimeSpan? ttl)
    {
        Store(key, CreateEntry(payload, @namespace, ttl));
        return true;
    }

    /// <inheritdoc />
    protected override ValueTask<bool> SetEntryAsync(string key, string? @namespace, object? payload, TimeSpan? ttl, CancellationToken cancellationToken)
        => ValueTask.FromResult(SetEntry(key, @namespace, payload, ttl));

    /// <inheritdoc />
    protected override bool SetEntries(IReadOnlyList<KeyValuePair<string, object?>> entries, string? @namespace, TimeSpan? ttl)
    {
        foreach (var pair in entries)
        {
            Store(pair.Key, CreateEntry(pair.Value, @namespace, ttl));
        }

        return true;
    }

    /// <inheritdoc />
    protected override ValueTask<bool> SetEntriesAsync(IReadOnlyList<KeyValuePair<string, object?>> entries, string? @namespace, TimeSpan? ttl, CancellationToken cancellationToken)
        => ValueTask.FromResult(SetEntries(entries, @namespace, ttl));

    /// <inheritdoc />
    protected override bool ContainsEntry(string key)
    {
        if (!_entries.TryGetValue(key, out var entry))
        {
            return false;
        }

        if (entry.ExpiresAt != 0 && entry.IsExpiredAt(TimeProvider.GetTimestamp()))
        {
            RemoveIfUnchanged(key, entry);
            return false;
        }

        return true;
    }

    /// <inheritdoc />
    protected override ValueTask<bool> ContainsEntryAsync(string key, CancellationToken cancellationToken)
        => ValueTask.FromResult(ContainsEntry(key));

    /// <inheritdoc />
    protected override long IncrementEntry(string key, string? @namespace, long delta)
    {
        while (true)
        {
            var now = TimeProvider.GetTimestamp();
            if (!_entries.TryGetValue(key, out var current) || current.IsExpiredAt(now))
            {
                // A missing counter starts at 0 and, like Redis INCRBY on a missing key, has no expiry.
                var created = new Entry(Counter.Create(delta, asBytes: !Serializer.StoresReferences), @namespace, 0, now);
                if (current is null ? _entries.TryAdd(key, created) : _entries.TryUpdate(key, created, current))
                {
                    if (current is null)
                    {
                        OnInserted();
                    }

                    return delta;
                }

                continue;
            }

            var (value, next) = Counter.Add(key, current.Value, delta);
            // The expiry and namespace stay, as Redis INCRBY keeps a key's TTL.
            if (_entries.TryUpdate(key, new Entry(next, current.Namespace, current.ExpiresAt, now), current))
            {
                return value;
            }
        }
    }

    /// <inheritdoc />
    protected override ValueTask<long> IncrementEntryAsync(string key, string? @namespace, long delta, CancellationToken cancellationToken)
        => ValueTask.FromResult(IncrementEntry(key, @namespace, delta));

    /// <inheritdoc />
    protected override int RemoveEntry(string key)
    {
        if (!_entries.TryRemove(key, out var removed))
        {
            return 0;
        }

        Interlocked.Decrement(ref _count);
        return removed.IsExpiredAt(TimeProvider.GetTimestamp()) ? 0 : 1;
    }

    /// <inheritdoc />
    protected override ValueTask<int> RemoveEntryAsync(string key, CancellationToken cancellationToken)
        => ValueTask.FromResult(RemoveEntry(key));

    /// <inheritdoc />
    protected override bool RemoveEntryIfEquals(string key, object? expected)
    {
        if (!_entries.TryGetValue(key, out var current) || current.IsExpiredAt(TimeProvider.GetTimestamp()) || !PayloadEquals(current.Value, expected))
        {
            return false;
        }

        if (_entries.TryRemove(new KeyValuePair<string, Entry>(key, current)))
        {
            Interlocked.Decrement(ref _count);
            return true;
        }

        return false;
    }

    /// <inheritdoc />
    protected override ValueTask<bool> RemoveEntryIfEqualsAsync(string key, object? expected, CancellationToken cancellationToken)
        => ValueTask.FromResult(RemoveEntryIfEquals(key, expected));

    /// <inheritdoc />
    protected override object? GetEntryVersion(string key)
        => _entries.TryGetValue(key, out var entry) && !entry.IsExpiredAt(TimeProvider.GetTimestamp()) ? entry : null;

    /// <inheritdoc />
    protected override ValueTask<object?> GetEntryVersionAsync(string key, CancellationToken cancellationToken)
        => ValueTask.FromResult(GetEntryVersion(key));

    /// <inheritdoc />
    protected override CacheResult<object?> SetEntryIfVersion(string key, string? @namespace, object? version, object? payload, TimeSpan? ttl)
    {
        // Every write replaces the entry object, so the entry itself is the version: any change, even to an equal value, is seen.
        var fresh = CreateEntry(payload, @namespace, ttl);
        bool stored;
        if (version is Entry expected)
        {
            stored = _entries.TryUpdate(key, fresh, expected);
        }
        else if (_entries.TryAdd(key, fresh))
        {
            OnInserted();
            stored = true;
        }
        else
        {
            stored = _entries.TryGetValue(key, out var current) && current.IsExpiredAt(TimeProvider.GetTimestamp()) && _entries.TryUpdate(key, fresh, current);
        }

        return stored ? CacheResult<object?>.Hit(fresh) : CacheResult<object?>.Miss;
    }

    /// <inheritdoc />
    protected override ValueTask<CacheResult<object?>> SetEntryIfVersionAsync(string key, string? @namespace, object? version, object? payload, TimeSpan? ttl, CancellationToken cancellationToken)
        => ValueTask.FromResult(SetEntryIfVersion(key, @namespace, version, payload, ttl));

    private static bool PayloadEquals(object? stored, object? expected)
        => stored is byte[] storedBytes && expected is byte[] expectedBytes
            ? storedBytes.AsSpan().SequenceEqual(expectedBytes)
            : Equals(stored, expected);

    /// <inheritdoc />
    protected override bool ClearEntries(string? @namespace)
    {
        foreach (var pair in _entries)
        {
            if (@namespace is null || string.Equals(pair.Value.Namespace, @namespace, StringComparison.Ordinal))
            {
                RemoveIfUnchanged(pair.Key, pair.Value);
            }
        }

        return true;
    }

    /// <inheritdoc />
    protected override ValueTask<bool> ClearEntriesAsync(string? @namespace, CancellationToken cancellationToken)
        => ValueTask.FromResult(ClearEntries(@namespace));

    /// <inheritdoc />
    protected override bool ExpireEntry(string key, TimeSpan? ttl)
    {
        while (true)
        {
            var now = TimeProvider.GetTimestamp();
            if (!_entries.TryGetValue(key, out var current))
            {
                return false;
            }

            if (current.IsExpiredAt(now))
            {
                RemoveIfUnchanged(key, current);
                return false;
            }

            if (_entries.TryUpdate(key, new Entry(current.Value, current.Namespace, ExpiryFor(ttl, now), now), current))
            {
                return true;
            }
        }
    }

    /// <inheritdoc />
    protected override ValueTask<bool> ExpireEntryAsync(string key, TimeSpan? ttl, CancellationToken cancellationToken)
        => ValueTask.FromResult(ExpireEntry(key, ttl));

    /// <inheritdoc />
    protected override object? ExecuteRaw(string command, object?[] args)
    {
        switch (command.ToLowerInvariant())
        {
            case "get":
                {
                    var entry = GetEntry(RawKey(command, args, 1));
                    return entry.Found ? entry.Value : null;
                }

            case "set":
                RawArity(command, args, 2);
                Store(RawKey(command, args, 2), CreateEntry(args[1], null, null));
                return true;

            case "setdefault":
                {
                    var key = RawKey(command, args, 2);
                    return AddEntry(key, null, args[1], null) ? args[1] : GetEntry(key).Value;
                }

            case "pop":
            case "delete":
                {
                    var key = RawKey(command, args, 1);
                    var entry = GetEntry(key);
                    RemoveEntry(key);
                    return entry.Found ? entry.Value : null;
                }

            case "contains":
            case "exists":
                return ContainsEntry(RawKey(command, args, 1));

            case "keys":
                {
                    RawArity(command, args, 0);
                    var now = TimeProvider.GetTimestamp();
                    var keys = new List<string>();
                    foreach (var pair in _entries)
                    {
                        if (!pair.Value.IsExpiredAt(now))
                        {
                            keys.Add(pair.Key);
                        }
                    }

                    return keys;
                }

            case "count":
            case "len":
                RawArity(command, args, 0);
                RemoveExpired();
                return Count;

            case "clear":
                RawArity(command, args, 0);
                return ClearEntries(null);

            default:
                throw new ArgumentException($"SimpleMemoryCache has no raw command '{command}'; use get, set, setdefault, pop, contains, keys, count or clear.", nameof(command));
        }
    }

    /// <inheritdoc />
    protected override ValueTask<object?> ExecuteRawAsync(string command, object?[] args, CancellationToken cancellationToken)
        => ValueTask.FromResult(ExecuteRaw(command, args));

    /// <summary>Removes every expired entry now; the periodic sweep calls this.</summary>
    internal void RemoveExpired()
    {
        var now = TimeProvider.GetTimestamp();
        foreach (var pair in _entries)
        {
            if (pair.Value.IsExpiredAt(now))
            {
                RemoveIfUnchanged(pair.Key, pair.Value);
            }
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        Interlocked.Exchange(ref _sweeper, null)?.Dispose();
        base.Dispose(disposing);
    }

    private Entry CreateEntry(object? payload, string? @namespace, TimeSpan? ttl)
    {
        var now = TimeProvider.GetTimestamp();
        return new Entry(payload, @namespace, ExpiryFor(ttl, now), now);
    }

    private long ExpiryFor(TimeSpan? ttl, long now)
    {
        if (ttl is not { } span)
        {
            return 0;
        }

        EnsureSweeper();
        var frequency = TimeProvider.TimestampFrequency;
        // Whole ticks when the frequency allows it (it does for Stopwatch and the fake clock), so expiry is exact.
        var ticks = frequency % TimeSpan.TicksPerSecond == 0
            ? SaturatingMultiply(span.Ticks, frequency / TimeSpan.TicksPerSecond)
            : (long)Math.Min(span.TotalSeconds * frequency, long.MaxValue);
        return ticks >= long.MaxValue - now ? long.MaxValue : now + ticks;
    }

    private static long SaturatingMultiply(long value, long factor)
        => value > long.MaxValue / factor ? long.MaxValue : value * factor;

    private void Store(string key, Entry fresh)
    {
        while (true)
        {
            if (_entries.TryGetValue(key, out var current))
            {
                if (_entries.TryUpdate(key, fresh, current))
                {
                    return;
                }
            }
            else if (_entries.TryAdd(key, fresh))
            {
                OnInserted();
                return;
            }
        }
    }

    private void RemoveIfUnchanged(string key, Entry entry)
    {
        // Removes the entry only if it is still the one we saw, so a concurrent Set is never lost.
        if (_entries.TryRemove(new KeyValuePair<string, Entry>(key, entry)))
        {
            Interlocked.Decrement(ref _count);
        }
    }

    private void OnInserted()
    {
        var count = Interlocked.Increment(ref _count);
        if (_maxEntries != 0 && count > _maxEntries)
        {
            Evict();
        }
    }

    private void Evict()
    {
        lock (_evictionGate)
        {
            if (Count <= _maxEntries)
            {
                return;
            }

            RemoveExpired();
            var target = Math.Max(_maxEntries - (_maxEntries / 10), 1);
            var excess = Count - target;
            if (excess <= 0)
            {
                return;
            }

            var candidates = _entries.ToArray();
            // Sorted by a snapshot of each entry's last use: hits keep writing LastUsed meanwhile, and a comparer
            // whose answers change during the sort makes Array.Sort throw.
            var lastUsed = new long[candidates.Length];
            for (var i = 0; i < candidates.Length; i++)
            {
                lastUsed[i] = candidates[i].Value.LastUsed;
            }

            Array.Sort(lastUsed, candidates);
            for (var i = 0; i < candidates.Length && excess > 0; i++)
            {
                if (_entries.TryRemove(candidates[i]))
                {
                    Interlocked.Decrement(ref _count);
                    excess--;
                }
            }
        }
    }

    private void EnsureSweeper()
    {
        if (Volatile.Read(ref _sweeper) is null)
        {
            var sweeper = new SweepTimer(this);
            if (Interlocked.CompareExchange(ref _sweeper, sweeper, null) is null)
            {
                sweeper.Start(TimeProvider, _sweepInterval);
            }
        }
    }

    private static string RawKey(string command, object?[] args, int arity)
    {
        RawArity(command, args, arity);
        return args[0] as string is { Length: > 0 } key
            ? key
            : throw new ArgumentException($"Raw command '{command}' takes a non-empty string key first.", nameof(args));
    }

    private static void RawArity(string command, object?[] args, int arity)
    {
        if (args.Length != arity)
        {
            throw new ArgumentException($"Raw command '{command}' takes {arity} argument(s), not {args.Length}.", nameof(args));
        }
    }

    /// <summary>One stored value. Immutable but for <see cref="LastUsed"/>, so that updates are compare-and-swap replacements.</summary>
    private sealed class Entry(object? value, string? @namespace, long expiresAt, long lastUsed)
    {
        public object? Value { get; } = value;

        public string? Namespace { get; } = @namespace;

        /// <summary>The timestamp from which the entry is expired; 0 for never.</summary>
        public long ExpiresAt { get; } = expiresAt;

        /// <summary>Written without synchronization: a stale value only makes eviction order approximate.</summary>
        public long LastUsed { get; set; } = lastUsed;

        public bool IsExpiredAt(long now) => ExpiresAt != 0 && now >= ExpiresAt;
    }

    /// <summary>Reads and writes counters in every form a value can be stored in.</summary>
    private static class Counter
    {
        public static object Create(long value, bool asBytes)
            => asBytes ? Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture)) : value;

        /// <summary>Returns the new value and its stored form, keeping the form (and integer type) of the old one.</summary>
        public static (long Value, object Stored) Add(string key, object? stored, long delta)
        {
            switch (stored)
            {
                case long l: { var v = checked(l + delta); return (v, v); }
                case int i: { var v = checked(i + delta); return (v, checked((int)v)); }
                case short s: { var v = checked(s + delta); return (v, checked((short)v)); }
                case sbyte sb: { var v = checked(sb + delta); return (v, checked((sbyte)v)); }
                case byte b: { var v = checked(b + delta); return (v, checked((byte)v)); }
                case ushort us: { var v = checked(us + delta); return (v, checked((ushort)v)); }
                case uint ui: { var v = checked(ui + delta); return (v, checked((uint)v)); }
                case ulong ul when ul <= long.MaxValue: { var v = checked((long)ul + delta); return (v, checked((ulong)v)); }
                case string text when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed):
                    {
                        var v = checked(parsed + delta);
                        return (v, v.ToString(CultureInfo.InvariantCulture));
                    }

                case byte[] bytes when Utf8Parser.TryParse(bytes, out long parsed, out var consumed) && consumed == bytes.Length:
                    {
                        var v = checked(parsed + delta);
                        return (v, Create(v, asBytes: true));
                    }

                default:
                    throw new CacheValueNotIntegerException(key);
            }
        }
    }

    /// <summary>The periodic sweep. It holds the cache weakly, so an abandoned cache is collected and its timer stops.</summary>
    private sealed class SweepTimer(SimpleMemoryCache cache) : IDisposable
    {
        private readonly WeakReference<SimpleMemoryCache> _cache = new(cache);
        private ITimer? _timer;

        public void Start(TimeProvider timeProvider, TimeSpan interval)
            => _timer = timeProvider.CreateTimer(static state => ((SweepTimer)state!).Tick(), this, interval, interval);

        public void Dispose() => _timer?.Dispose();

        private void Tick()
        {
            if (_cache.TryGetTarget(out var cache))
            {
                cache.RemoveExpired();
            }
            else
            {
                Dispose();
            }
        }
    }
}
