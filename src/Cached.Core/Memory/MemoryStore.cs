using System.Collections.Concurrent;

namespace Cached.Memory;

/// <summary>
/// The entries of one <see cref="SimpleMemoryCache"/>: a concurrent dictionary with lock-free reads, an entry count,
/// expiry on the owner's clock, the bound (<see cref="LruEviction"/>) and the periodic sweep (<see cref="SweepTimer"/>).
/// Every update is a compare-and-swap of an immutable <see cref="MemoryEntry"/>, so a concurrent write is never lost.
/// </summary>
internal sealed class MemoryStore
{
    private readonly BaseCache _owner;
    private readonly ConcurrentDictionary<string, MemoryEntry> _entries = new(StringComparer.Ordinal);
#if NET9_0_OR_GREATER
    private readonly ConcurrentDictionary<string, MemoryEntry>.AlternateLookup<ReadOnlySpan<char>> _bySpan;
#endif
    private int _count;
    private SweepTimer? _sweeper;
    private bool _sweepingStopped;

    /// <summary>Creates an empty store on <paramref name="owner"/>'s clock.</summary>
    public MemoryStore(BaseCache owner)
    {
        _owner = owner;
#if NET9_0_OR_GREATER
        _bySpan = _entries.GetAlternateLookup<ReadOnlySpan<char>>();
#endif
    }

    /// <summary>The bound; <c>null</c> for none.</summary>
    public LruEviction? Eviction { get; set; }

    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How many entries the store holds, counting expired ones not yet removed.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Whether reads record their time of use (only a bounded store evicts by it).</summary>
    public bool TracksUse => Eviction is not null;

    public long Now => _owner.TimeProvider.GetTimestamp();

    public bool TryGet(string key, out MemoryEntry entry) => _entries.TryGetValue(key, out entry!);

#if NET9_0_OR_GREATER
    /// <summary>Looks a key up from a span, without making a string.</summary>
    public bool TryGet(ReadOnlySpan<char> key, out MemoryEntry entry) => _bySpan.TryGetValue(key, out entry!);
#endif

    /// <summary>Adds the entry if the key is absent.</summary>
    public bool TryAdd(string key, MemoryEntry entry)
    {
        if (!_entries.TryAdd(key, entry))
        {
            return false;
        }

        OnInserted();
        return true;
    }

    /// <summary>Replaces <paramref name="current"/> with <paramref name="fresh"/> if it is still the key's entry.</summary>
    public bool TryReplace(string key, MemoryEntry fresh, MemoryEntry current) => _entries.TryUpdate(key, fresh, current);

    /// <summary>Stores the entry whatever the key held.</summary>
    public void Store(string key, MemoryEntry fresh)
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
            else if (TryAdd(key, fresh))
            {
                return;
            }
        }
    }

    public bool TryRemove(string key, out MemoryEntry removed)
    {
        if (!_entries.TryRemove(key, out removed!))
        {
            return false;
        }

        Interlocked.Decrement(ref _count);
        return true;
    }

    /// <summary>Removes the entry only if it is still the one we saw, so a concurrent Set is never lost.</summary>
    public bool RemoveIfUnchanged(string key, MemoryEntry entry)
    {
        if (!_entries.TryRemove(new KeyValuePair<string, MemoryEntry>(key, entry)))
        {
            return false;
        }

        Interlocked.Decrement(ref _count);
        return true;
    }

    /// <summary>Removes every expired entry now; the periodic sweep calls this.</summary>
    public void RemoveExpired()
    {
        var now = Now;
        foreach (var pair in _entries)
        {
            if (pair.Value.IsExpiredAt(now))
            {
                RemoveIfUnchanged(pair.Key, pair.Value);
            }
        }
    }

    /// <summary>
    /// Removes the entries of <paramref name="namespace"/>, or every entry when it is <c>null</c>: those written under it,
    /// and those whose key starts with <paramref name="prefix"/> (its keys' prefix, when keys are composed by default),
    /// whoever wrote them, as a Redis clear removes every key of the namespace's prefix.
    /// </summary>
    public void Clear(string? @namespace, string? prefix = null)
    {
        foreach (var pair in _entries)
        {
            if (@namespace is null
                || string.Equals(pair.Value.Namespace, @namespace, StringComparison.Ordinal)
                || (prefix is not null && pair.Key.StartsWith(prefix, StringComparison.Ordinal)))
            {
                RemoveIfUnchanged(pair.Key, pair.Value);
            }
        }
    }

    /// <summary>The keys of the entries not expired at <paramref name="now"/>.</summary>
    public List<string> LiveKeys(long now)
    {
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

    public KeyValuePair<string, MemoryEntry>[] Snapshot() => _entries.ToArray();

    public MemoryEntry CreateEntry(object? payload, string? @namespace, TimeSpan? ttl)
    {
        // The coarse clock first: the proof of CoarseClock needs its reading no later than the precise one.
        var tick = CoarseTickFor(ttl);
        var now = NowIfNeeded(ttl);
        return new MemoryEntry(payload, @namespace, ExpiryFor(ttl, now), now, LiveBeforeTick(ttl, tick));
    }

    /// <summary><paramref name="current"/>'s value and namespace with a new expiry, as Expire writes them.</summary>
    public MemoryEntry WithExpiry(MemoryEntry current, TimeSpan? ttl)
    {
        var tick = CoarseTickFor(ttl);
        var now = NowIfNeeded(ttl);
        return new MemoryEntry(current.Value, current.Namespace, ExpiryFor(ttl, now), now, LiveBeforeTick(ttl, tick));
    }

    /// <summary>
    /// Whether a hit of <paramref name="entry"/> needs the precise clock: to check an expiry the coarse clock cannot
    /// prove far enough away, or to record the time of use for eviction. Entries get a coarse bound only on the system
    /// clock (a fake clock moves on its own) and in a store that does not track use (set before any entry, at init).
    /// </summary>
    public bool NeedsClock(MemoryEntry entry) => NeedsClock(entry, out _);

    /// <inheritdoc cref="NeedsClock(MemoryEntry)"/>
    /// <param name="entry">The entry read.</param>
    /// <param name="coarseTick">The coarse clock's tick read to prove the entry live; 0 when none was read.</param>
    public bool NeedsClock(MemoryEntry entry, out long coarseTick)
    {
        coarseTick = 0;
        if (entry.ExpiresAt == 0)
        {
            return TracksUse;
        }

        if (entry.LiveBeforeTick == 0)
        {
            return true;
        }

        coarseTick = CoarseClock.Now;
        return !entry.IsCertainlyLiveAt(coarseTick);
    }

    /// <summary>
    /// The precise clock for a new entry: its expiry, or its first use in a bounded store. An entry with neither keeps
    /// 0 and a miss saves the clock read (about a twentieth of an in-process miss).
    /// </summary>
    private long NowIfNeeded(TimeSpan? ttl) => ttl is null && !TracksUse ? 0 : Now;

    private long CoarseTickFor(TimeSpan? ttl)
        => ttl is not null && !TracksUse && ReferenceEquals(_owner.TimeProvider, TimeProvider.System) ? CoarseClock.Now : 0;

    private static long LiveBeforeTick(TimeSpan? ttl, long tick)
        => tick != 0 && ttl is { } span ? CoarseClock.LiveBefore(tick, span) : 0;

    /// <summary>The timestamp at which an entry written at <paramref name="now"/> expires; 0 for never.</summary>
    public long ExpiryFor(TimeSpan? ttl, long now)
    {
        if (ttl is not { } span)
        {
            return 0;
        }

        EnsureSweeper();
        var frequency = _owner.TimeProvider.TimestampFrequency;
        // Whole ticks when the frequency allows it (it does for Stopwatch and the fake clock), so expiry is exact.
        var ticks = frequency % TimeSpan.TicksPerSecond == 0
            ? SaturatingMultiply(span.Ticks, frequency / TimeSpan.TicksPerSecond)
            : (long)Math.Min(span.TotalSeconds * frequency, long.MaxValue);
        return ticks >= long.MaxValue - now ? long.MaxValue : now + ticks;
    }

    /// <summary>
    /// Stops the sweep for good; the entries stay readable, as aiocache's memory cache stays usable after close(),
    /// and expired entries are still removed on access, but no later write starts a timer again.
    /// </summary>
    public void StopSweeping()
    {
        Volatile.Write(ref _sweepingStopped, true);
        Interlocked.Exchange(ref _sweeper, null)?.Dispose();
    }

    private static long SaturatingMultiply(long value, long factor)
        => value > long.MaxValue / factor ? long.MaxValue : value * factor;

    private void OnInserted()
    {
        var count = Interlocked.Increment(ref _count);
        Eviction?.OnInserted(this, count);
    }

    private void EnsureSweeper()
    {
        if (Volatile.Read(ref _sweeper) is null && !Volatile.Read(ref _sweepingStopped))
        {
            var sweeper = new SweepTimer(this);
            if (Interlocked.CompareExchange(ref _sweeper, sweeper, null) is null)
            {
                sweeper.Start(_owner.TimeProvider, SweepInterval);
                if (Volatile.Read(ref _sweepingStopped))
                {
                    // Disposed while this timer was being started: stop it too.
                    Interlocked.Exchange(ref _sweeper, null)?.Dispose();
                }
            }
        }
    }
}
