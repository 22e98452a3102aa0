using Cached.Resilience;

namespace Cached;

/// <summary>
/// How <see cref="ICache.GetOrSet{T}(string, Func{CancellationToken, T}, CacheEntryOptions?, string?)"/> and
/// <see cref="ICache.Set{T}(string, T, CacheEntryOptions?, string?)"/> treat one entry: its time to live, the stampede
/// lease, and the resilience options (fail-safe, soft and hard timeouts, eager refresh). Generated methods take the
/// same options from <see cref="CachedAttribute"/>, in seconds.
/// </summary>
/// <remarks>
/// <para>With <see cref="FailSafe"/> or <see cref="EagerRefresh"/> set, the stored entry carries when it stops being
/// fresh (its logical expiry) and the backend keeps it for <see cref="Ttl"/> plus <see cref="FailSafe"/>. Without them
/// the payload is the plain value every other client (aiocache, pycached) reads. A plain read (<c>Get</c>,
/// <c>TryGet</c>) of a stamped entry answers its value while it is fresh and a miss after.</para>
/// <para>Every duration must be positive (or <c>null</c> for unset), except that <see cref="Ttl"/> may also be zero or
/// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> (no expiry) and the timeouts
/// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> (no timeout, FusionCache's default); <see cref="EagerRefresh"/> lies strictly between 0
/// and 1. A bad value throws <see cref="ArgumentOutOfRangeException"/> naming the property when it is set.</para>
/// </remarks>
public sealed record CacheEntryOptions
{
    /// <summary>The default of <see cref="FailSafeThrottle"/>: 30 seconds, as FusionCache's.</summary>
    public static readonly TimeSpan DefaultFailSafeThrottle = TimeSpan.FromSeconds(30);

    private readonly TimeSpan? _ttl;
    private readonly TimeSpan? _failSafe;
    private readonly TimeSpan? _failSafeThrottle;
    private readonly TimeSpan? _softTimeout;
    private readonly TimeSpan? _hardTimeout;
    private readonly double? _eagerRefresh;
    private readonly TimeSpan? _lease;
    private readonly string[]? _tags;
    private readonly TimeSpan? _localTtl;

    // The options as the read-through core takes them, rebuilt by every init: a call passes it by reference and copies
    // nothing. Derived from the fields above, so it never makes two records with equal options unequal.
    private readonly EntryPolicy _policy;

    /// <summary>
    /// How long the entry is fresh; <c>null</c> for the cache's default <see cref="ICache.Ttl"/>.
    /// <see cref="TimeSpan.Zero"/> or <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> means no expiry.
    /// </summary>
    public TimeSpan? Ttl
    {
        get => _ttl;
        init
        {
            _ttl = value is { } ttl && ttl < TimeSpan.Zero && ttl != System.Threading.Timeout.InfiniteTimeSpan
                ? throw new ArgumentOutOfRangeException(nameof(Ttl), ttl, "A time to live cannot be negative.")
                : value;
            _policy = ToPolicy();
        }
    }

    /// <summary>
    /// Tags the entry: <see cref="ICache.InvalidateTags"/> with one of them makes it a miss, in every process. The
    /// stored entry then carries a stamp listing its tags and the version of each it was computed under (see docs/tags.md).
    /// Duplicates count once; an empty list is none.
    /// </summary>
    /// <exception cref="ArgumentException">A tag is null or empty.</exception>
    public IReadOnlyList<string>? Tags
    {
        get => _tags;
        init
        {
            _tags = Cached.Tags.TagNames.Normalize(value, nameof(Tags));
            _policy = ToPolicy();
        }
    }

    /// <summary>
    /// After <see cref="Ttl"/>, how long the last value is kept for when the factory fails or times out: the call then
    /// answers with it instead of failing, and the entry is fresh again for <see cref="FailSafeThrottle"/> so that a
    /// failing source is not called on every request. Past this, the factory's exception propagates.
    /// </summary>
    public TimeSpan? FailSafe
    {
        get => _failSafe;
        init
        {
            _failSafe = Positive(value, nameof(FailSafe));
            _policy = ToPolicy();
        }
    }

    /// <summary>
    /// How long a last value served by <see cref="FailSafe"/> is fresh again before the factory is tried once more;
    /// <c>null</c> for <see cref="DefaultFailSafeThrottle"/>. It never keeps the value past <see cref="FailSafe"/>.
    /// </summary>
    public TimeSpan? FailSafeThrottle
    {
        get => _failSafeThrottle;
        init
        {
            _failSafeThrottle = Positive(value, nameof(FailSafeThrottle));
            _policy = ToPolicy();
        }
    }

    /// <summary>
    /// With a last value at hand (see <see cref="FailSafe"/>), a factory slower than this answers the caller with the
    /// last value; the factory finishes in the background and stores its result.
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> is no timeout, as <c>null</c>.
    /// </summary>
    public TimeSpan? SoftTimeout
    {
        get => _softTimeout;
        init
        {
            _softTimeout = PositiveOrInfinite(value, nameof(SoftTimeout));
            _policy = ToPolicy();
        }
    }

    /// <summary>
    /// No caller waits for the factory longer than this: it gets the last value if there is one, else a
    /// <see cref="TimeoutException"/>. The factory's late result is still stored.
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> is no timeout, as <c>null</c>.
    /// </summary>
    public TimeSpan? HardTimeout
    {
        get => _hardTimeout;
        init
        {
            _hardTimeout = PositiveOrInfinite(value, nameof(HardTimeout));
            _policy = ToPolicy();
        }
    }

    /// <summary>
    /// A fraction of <see cref="Ttl"/> (0.8 for 80%): a hit later than this starts one background refresh and returns
    /// at once, so callers of a hot key never wait for the factory after the first.
    /// </summary>
    public double? EagerRefresh
    {
        get => _eagerRefresh;
        init
        {
            _eagerRefresh = value is { } fraction && !(fraction > 0 && fraction < 1)
                ? throw new ArgumentOutOfRangeException(nameof(EagerRefresh), fraction, "EagerRefresh is a fraction of the time to live, strictly between 0 and 1.")
                : value;
            _policy = ToPolicy();
        }
    }

    /// <summary>
    /// A stampede lock across processes: on a miss, one caller takes it through the backend and the others wait up to
    /// this long for its value (aiocache's <c>cached_stampede</c>). Only backends that can lock use it.
    /// </summary>
    public TimeSpan? Lease
    {
        get => _lease;
        init
        {
            _lease = Positive(value, nameof(Lease));
            _policy = ToPolicy();
        }
    }

    /// <summary>
    /// For a <see cref="MultiLevelCache"/>, the longest the copies this call puts in L1 live (the shorter of this and
    /// <see cref="MultiLevelCache.L1Ttl"/>, and never longer than the entry's life in L2); <see cref="TimeSpan.Zero"/>
    /// keeps the entry out of L1. Other caches have no L1 and ignore it. It maps HybridCache's
    /// <c>LocalCacheExpiration</c> and FusionCache's <c>MemoryDuration</c>. Copies a later call makes (a read that finds the
    /// entry in L2 with other options, a background refresh) follow that call's options.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan? LocalTtl
    {
        get => _localTtl;
        init => _localTtl = value is { } span && span < TimeSpan.Zero
            ? throw new ArgumentOutOfRangeException(nameof(LocalTtl), span, "LocalTtl cannot be negative; zero keeps the entry out of L1.")
            : value;
    }

    /// <summary>Equal options: the same values, and the same tags in the same order.</summary>
    public bool Equals(CacheEntryOptions? other)
        => other is not null
            && _ttl == other._ttl && _failSafe == other._failSafe && _failSafeThrottle == other._failSafeThrottle
            && _softTimeout == other._softTimeout && _hardTimeout == other._hardTimeout && _eagerRefresh == other._eagerRefresh
            && _lease == other._lease && _localTtl == other._localTtl && (_tags ?? []).AsSpan().SequenceEqual(other._tags ?? []);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = HashCode.Combine(_ttl, _failSafe, _failSafeThrottle, _softTimeout, _hardTimeout, _eagerRefresh, _lease, _localTtl);
        foreach (var tag in _tags ?? [])
        {
            hash = HashCode.Combine(hash, StringComparer.Ordinal.GetHashCode(tag));
        }

        return hash;
    }

    /// <summary>The options as the read-through core takes them.</summary>
    internal ref readonly EntryPolicy Policy => ref _policy;

    private EntryPolicy ToPolicy() => new(_ttl, _lease, _failSafe, _failSafeThrottle, _softTimeout, _hardTimeout, _eagerRefresh, _tags);

    private static TimeSpan? PositiveOrInfinite(TimeSpan? value, string name)
        => value == System.Threading.Timeout.InfiniteTimeSpan ? value : Positive(value, name);

    private static TimeSpan? Positive(TimeSpan? value, string name)
        => value is { } span && span <= TimeSpan.Zero
            ? throw new ArgumentOutOfRangeException(name, span, $"{name} must be positive, or null for none.")
            : value;
}
