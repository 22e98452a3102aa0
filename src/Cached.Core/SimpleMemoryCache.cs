using System.Runtime.CompilerServices;
using Cached.Capabilities;
using Cached.Memory;
using Cached.Pipeline;
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
/// <para>The rooms: this class implements the storage contract; the entries, the bound, the sweep and the raw
/// commands live in <c>Memory/</c> (<c>MemoryStore</c>, <c>LruEviction</c>, <c>SweepTimer</c>, <c>MemoryRawCommands</c>).</para>
/// </remarks>
public sealed class SimpleMemoryCache : BaseCache, ISpanReadableCache, ITimedSpanReader, MemoryRawCommands.ITarget
{
    private readonly MemoryStore _store;

    /// <summary>Creates an empty cache.</summary>
    public SimpleMemoryCache() => _store = new MemoryStore(this);

    /// <summary>The most entries the cache keeps; <c>null</c> (the default) for no bound. See the remarks for the eviction policy.</summary>
    public int? MaxEntries
    {
        get => _store.Eviction?.MaxEntries;
        init => _store.Eviction = value switch
        {
            null => null,
            > 0 => new LruEviction(value.Value),
            _ => throw new ArgumentOutOfRangeException(nameof(MaxEntries), value, "MaxEntries must be positive, or null for no bound."),
        };
    }

    /// <summary>The longest <see cref="SweepInterval"/>: the longest period a timer takes (about 49.7 days).</summary>
    private static readonly TimeSpan MaxSweepInterval = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    /// <summary>
    /// How often expired entries are swept out (one minute unless set); from 1 ms to about 49.7 days (the longest period
    /// a timer takes), refused otherwise when set: a timer rounds a shorter period down to none and fires once, and a
    /// longer one cannot be started.
    /// </summary>
    public TimeSpan SweepInterval
    {
        get => _store.SweepInterval;
        init => _store.SweepInterval = value >= TimeSpan.FromMilliseconds(1) && value <= MaxSweepInterval
            ? value
            : throw new ArgumentOutOfRangeException(nameof(SweepInterval), value, $"The sweep interval must be between 1 ms and {MaxSweepInterval} (the longest period a timer takes).");
    }

    /// <summary>How many entries the store holds, counting expired ones not yet removed.</summary>
    public int Count => _store.Count;

    /// <inheritdoc />
    protected override bool StoresReferences => true;

    /// <summary>Tag versions as objects that entries kept by reference hold: a tagged hit checks them with no lookup.</summary>
    private protected override Tags.TagStore CreateTagStore() => new Tags.MemoryTagStore(TimeProvider);

    MemoryStore MemoryRawCommands.ITarget.Store => _store;

    /// <inheritdoc />
    protected override ISerializer CreateDefaultSerializer() => NullSerializer.Instance;

    /// <inheritdoc />
    protected override CacheResult<object?> GetEntry(string key)
        => TryGetLive(key, out var entry) ? CacheResult<object?>.Hit(entry.Value) : CacheResult<object?>.Miss;

    /// <inheritdoc />
    protected override (CacheResult<object?> Entry, TimeSpan? RemainingTtl) GetEntryWithTtl(string key)
    {
        // The value and its expiry from one read of the entry, so that a concurrent write cannot pair them wrongly.
        if (!TryGetLive(key, out var entry))
        {
            return (CacheResult<object?>.Miss, null);
        }

        if (entry.ExpiresAt is 0 or long.MaxValue)
        {
            return (CacheResult<object?>.Hit(entry.Value), null);
        }

        var ticks = (entry.ExpiresAt - _store.Now) * ((double)TimeSpan.TicksPerSecond / TimeProvider.TimestampFrequency);
        return (CacheResult<object?>.Hit(entry.Value), TimeSpan.FromTicks((long)Math.Clamp(ticks, 0, TimeSpan.MaxValue.Ticks)));
    }

    /// <summary>
    /// The entry under <paramref name="key"/> if it is live, marked used; an expired one is removed. The clock is read
    /// only for an entry that expires or when eviction tracks use.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private bool TryGetLive(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MemoryEntry? entry)
    {
        if (!_store.TryGet(key, out entry))
        {
            return false;
        }

        if (_store.NeedsClock(entry))
        {
            var now = _store.Now;
            if (entry.IsExpiredAt(now))
            {
                _store.RemoveIfUnchanged(key, entry);
                return false;
            }

            entry.LastUsed = now;
        }

        return true;
    }

    /// <inheritdoc />
    protected override ValueTask<(CacheResult<object?> Entry, TimeSpan? RemainingTtl)> GetEntryWithTtlAsync(string key, CancellationToken cancellationToken)
        => new(GetEntryWithTtl(key));

    /// <inheritdoc />
    protected override bool AddEntry(string key, string? @namespace, object? payload, TimeSpan? ttl)
    {
        var fresh = _store.CreateEntry(payload, @namespace, ttl);
        return ReferenceEquals(AddOrKeep(key, fresh), fresh);
    }

    /// <summary>
    /// Stores <paramref name="fresh"/> unless the key holds a live entry, in one step (compare-and-swap over an expired
    /// one): the entry that stands, <paramref name="fresh"/> when it was stored.
    /// </summary>
    private MemoryEntry AddOrKeep(string key, MemoryEntry fresh)
    {
        while (true)
        {
            if (_store.TryAdd(key, fresh))
            {
                return fresh;
            }

            if (!_store.TryGet(key, out var current))
            {
                continue;
            }

            if (!current.IsExpiredAt(_store.Now))
            {
                return current;
            }

            if (_store.TryReplace(key, fresh, current))
            {
                return fresh;
            }
        }
    }

    /// <inheritdoc />
    private protected override bool FencesInProcessOnly => true;

    /// <inheritdoc />
    protected override bool SetEntry(string key, string? @namespace, object? payload, TimeSpan? ttl)
    {
        _store.Store(key, _store.CreateEntry(payload, @namespace, ttl));
        return true;
    }

    /// <inheritdoc />
    // As a read: an expired entry is removed, and a live one is marked used ("reads count as use" for MaxEntries).
    protected override bool ContainsEntry(string key) => TryGetLive(key, out _);

    /// <inheritdoc />
    protected override long IncrementEntry(string key, string? @namespace, long delta)
    {
        while (true)
        {
            var now = _store.Now;
            if (!_store.TryGet(key, out var current) || current.IsExpiredAt(now))
            {
                // A missing counter starts at 0 and, like Redis INCRBY on a missing key, has no expiry.
                var created = new MemoryEntry(MemoryCounter.Create(delta, asBytes: !Serializer.StoresReferences), @namespace, 0, now);
                if (current is null ? _store.TryAdd(key, created) : _store.TryReplace(key, created, current))
                {
                    return delta;
                }

                continue;
            }

            var (value, next) = MemoryCounter.Add(key, current.Value, delta);
            // The expiry and namespace stay, as Redis INCRBY keeps a key's TTL.
            if (_store.TryReplace(key, new MemoryEntry(next, current.Namespace, current.ExpiresAt, now, current.LiveBeforeTick), current))
            {
                return value;
            }
        }
    }

    /// <inheritdoc />
    protected override int RemoveEntry(string key)
        => _store.TryRemove(key, out var removed) && !removed.IsExpiredAt(_store.Now) ? 1 : 0;

    /// <inheritdoc />
    protected override bool SupportsConditionalOperations => true;

    /// <inheritdoc />
    protected override bool RemoveEntryIfEquals(string key, object? expected)
        => _store.TryGet(key, out var current)
            && !current.IsExpiredAt(_store.Now)
            && Pipeline.PayloadCodec.PayloadEquals(current.Value, expected)
            && _store.RemoveIfUnchanged(key, current);

    /// <inheritdoc />
    protected override object? GetEntryVersion(string key)
        => _store.TryGet(key, out var entry) && !entry.IsExpiredAt(_store.Now) ? entry : null;

    /// <inheritdoc />
    protected override CacheResult<object?> SetEntryIfVersion(string key, string? @namespace, object? version, object? payload, TimeSpan? ttl)
    {
        // Every write replaces the entry object, so the entry itself is the version: any change, even to an equal value, is seen.
        var fresh = _store.CreateEntry(payload, @namespace, ttl);
        // An entry that expired since it was read is a change too (a deleted key), even while it still sits in the store.
        var stored = version is MemoryEntry expected
            ? !expected.IsExpiredAt(_store.Now) && _store.TryReplace(key, fresh, expected)
            : _store.TryAdd(key, fresh)
                || (_store.TryGet(key, out var current) && current.IsExpiredAt(_store.Now) && _store.TryReplace(key, fresh, current));
        return stored ? CacheResult<object?>.Hit(fresh) : CacheResult<object?>.Miss;
    }

    /// <inheritdoc />
    protected override bool ClearEntries(string? @namespace)
    {
        // Set("user:1") and Set("1", namespace: "user") are one entry (docs/caches.md), so Clear("user") removes it
        // whichever wrote it last; with a KeyBuilder keys have no known prefix, and the namespace written decides.
        _store.Clear(@namespace, @namespace is null || KeyBuilder is not null ? null : ComposeKey(string.Empty, @namespace));
        return true;
    }

    /// <inheritdoc />
    protected override bool ExpireEntry(string key, TimeSpan? ttl)
    {
        while (true)
        {
            var now = _store.Now;
            if (!_store.TryGet(key, out var current))
            {
                return false;
            }

            if (current.IsExpiredAt(now))
            {
                _store.RemoveIfUnchanged(key, current);
                return false;
            }

            if (_store.TryReplace(key, _store.WithExpiry(current, ttl), current))
            {
                return true;
            }
        }
    }

    /// <inheritdoc />
    protected override object? ExecuteRaw(string command, object?[] args) => MemoryRawCommands.Execute(this, command, args);

    /// <summary>Removes every expired entry now; the periodic sweep calls this.</summary>
    internal void RemoveExpired() => _store.RemoveExpired();

    /// <inheritdoc />
    internal override bool ServesAfterDispose => true;

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        _store.StopSweeping();
        base.Dispose(disposing);
    }

    /// <inheritdoc />
    bool ISpanReadableCache.CanReadBySpan(string? @namespace, out string? resolvedNamespace)
    {
#if NET9_0_OR_GREATER
        return AllowsSpanReads(@namespace, out resolvedNamespace);
#else
        resolvedNamespace = null;
        return false;
#endif
    }

    /// <summary>
    /// A hit of a generated method looks its key up from a stack buffer: no key string is made. Kept small, so that
    /// the JIT can inline the lookup; the namespaced and timed cases are calls.
    /// </summary>
    SpanRead ISpanReadableCache.TryReadBySpan(ReadOnlySpan<char> key, string? resolvedNamespace, out object? payload)
        => ReadBySpan(key, resolvedNamespace, out payload, out _, out _);

    /// <inheritdoc />
    TimeProvider ITimedSpanReader.ReaderClock => TimeProvider;

    /// <inheritdoc />
    SpanRead ITimedSpanReader.TryReadBySpanTimed(ReadOnlySpan<char> key, string? resolvedNamespace, out object? payload, out long now, out long coarseTick)
        => ReadBySpan(key, resolvedNamespace, out payload, out now, out coarseTick);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822:Mark members as static", Justification = "It reads the store on .NET 9 and later; only .NET 8, without span lookups, leaves it nothing to read.")]
    private SpanRead ReadBySpan(ReadOnlySpan<char> key, string? resolvedNamespace, out object? payload, out long now, out long coarseTick)
    {
#if NET9_0_OR_GREATER
        if (resolvedNamespace is not null)
        {
            return TryReadBySpanIn(key, resolvedNamespace, out payload, out now, out coarseTick);
        }

        if (_store.TryGet(key, out var entry))
        {
            return Read(entry, out payload, out now, out coarseTick);
        }

        payload = null;
        now = 0;
        coarseTick = 0;
        return SpanRead.Miss;
#else
        payload = null;
        now = 0;
        coarseTick = 0;
        return SpanRead.Unsupported;
#endif
    }

#if NET9_0_OR_GREATER
    private SpanRead TryReadBySpanIn(ReadOnlySpan<char> key, string @namespace, out object? payload, out long now, out long coarseTick)
    {
        payload = null;
        now = 0;
        coarseTick = 0;
        Span<char> composed = stackalloc char[256];
        if (!NamespacedKey.TryWrite(key, @namespace, composed, out var length))
        {
            return SpanRead.Unsupported;
        }

        return _store.TryGet(composed[..length], out var entry) ? Read(entry, out payload, out now, out coarseTick) : SpanRead.Miss;
    }

    /// <summary>
    /// The entry's value, unless it has expired. An entry without TTL or use tracking needs no clock, nor does one the
    /// coarse clock proves live (<paramref name="now"/> is then 0, and <paramref name="coarseTick"/> the tick that proved it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private SpanRead Read(MemoryEntry entry, out object? payload, out long now, out long coarseTick)
    {
        if (_store.NeedsClock(entry, out coarseTick))
        {
            return ReadTimed(entry, out payload, out now);
        }

        payload = entry.Value;
        now = 0;
        return SpanRead.Hit;
    }

    private SpanRead ReadTimed(MemoryEntry entry, out object? payload, out long now)
    {
        payload = null;
        try
        {
            now = _store.Now;
        }
        catch (Exception)
        {
            // A broken clock is a fault the ordinary read reports; this read must not throw.
            now = 0;
            return SpanRead.Unsupported;
        }

        if (entry.IsExpiredAt(now))
        {
            // Left for the ordinary read or the sweep to remove: removing needs the key as a string.
            return SpanRead.Miss;
        }

        entry.LastUsed = now;
        payload = entry.Value;
        return SpanRead.Hit;
    }
#endif

    /// <inheritdoc />
    protected override bool RawCommandOnlyReads(string command) => MemoryRawCommands.OnlyReads(command);

    /// <inheritdoc />
    /// <remarks>Refuses an unknown command or wrong arguments before the command runs, so that it refuses no fill.</remarks>
    protected override object?[] PrepareRawArguments(string command, object?[] args)
    {
        MemoryRawCommands.Check(command, args);
        return args;
    }

    CacheResult<object?> MemoryRawCommands.ITarget.Read(string key) => GetEntry(key);

    object? MemoryRawCommands.ITarget.SetDefault(string key, object? payload) => AddOrKeep(key, _store.CreateEntry(payload, null, null)).Value;

    CacheResult<object?> MemoryRawCommands.ITarget.Take(string key)
        => _store.TryRemove(key, out var removed) && !removed.IsExpiredAt(_store.Now) ? CacheResult<object?>.Hit(removed.Value) : CacheResult<object?>.Miss;

    bool MemoryRawCommands.ITarget.Contains(string key) => ContainsEntry(key);
}
