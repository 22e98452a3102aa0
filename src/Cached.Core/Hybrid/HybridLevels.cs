using Microsoft.Extensions.Caching.Hybrid;

namespace Cached.Hybrid;

/// <summary>
/// What one HybridCache call may do with each level of a cache, from its <see cref="HybridCacheEntryFlags"/>: the local
/// level is L1 of a <see cref="MultiLevelCache"/> or an in-process cache, the distributed level L2 or any other cache.
/// </summary>
internal readonly struct HybridLevels
{
    private readonly ICache _cache;
    private readonly MultiLevelCache? _two;
    private readonly bool _readLocal;
    private readonly bool _readDistributed;
    private readonly bool _writeLocal;
    private readonly bool _writeDistributed;

    private HybridLevels(ICache cache, HybridCacheEntryFlags flags)
    {
        _cache = cache;
        _two = cache as MultiLevelCache;
        CallsFactory = (flags & HybridCacheEntryFlags.DisableUnderlyingData) == 0;
        _readLocal = (flags & HybridCacheEntryFlags.DisableLocalCacheRead) == 0;
        _writeLocal = (flags & HybridCacheEntryFlags.DisableLocalCacheWrite) == 0;
        _readDistributed = (flags & HybridCacheEntryFlags.DisableDistributedCacheRead) == 0;
        _writeDistributed = (flags & HybridCacheEntryFlags.DisableDistributedCacheWrite) == 0;
        if (_two is null)
        {
            // One level: the flags of the other kind of level name nothing this cache has.
            var local = cache is SimpleMemoryCache;
            _readLocal = _readDistributed = local ? _readLocal : _readDistributed;
            _writeLocal = _writeDistributed = local ? _writeLocal : _writeDistributed;
        }
    }

    public static HybridLevels Of(ICache cache, HybridCacheEntryFlags flags) => new(cache, flags);

    /// <summary>Whether a miss calls the factory (not <see cref="HybridCacheEntryFlags.DisableUnderlyingData"/>).</summary>
    public bool CallsFactory { get; }

    /// <summary>
    /// Whether the cache's own read-through can serve the call, single flight and all: every read and write allowed,
    /// and the factory too. A call with a level's write turned off goes step by step: its flight would be shared with
    /// callers that asked for that write (Microsoft's implementation keys its flights by the flags), and its fill made
    /// under its flags would deny them their copy.
    /// </summary>
    public bool ReadThroughWhole => CallsFactory && _readLocal && _readDistributed && _writeDistributed && _writeLocal;

    /// <summary>The entry's L1 bound: the requested one, zero when local writes are off, none for a one-level cache.</summary>
    public TimeSpan? LocalTtl(TimeSpan? requested) => _two is null ? null : _writeLocal ? requested : TimeSpan.Zero;

    public ValueTask<CacheResult<T>> ReadAsync<T>(string key, CancellationToken cancellationToken)
    {
        if (_two is null)
        {
            return _readLocal ? _cache.TryGetAsync<T>(key, cancellationToken: cancellationToken) : ValueTask.FromResult(CacheResult<T>.Miss);
        }

        return (_readLocal, _readDistributed) switch
        {
            // A read through both levels copies an L2 hit into L1: not when local writes are off.
            (true, true) => _writeLocal ? _two.TryGetAsync<T>(key, cancellationToken: cancellationToken) : LocalThenDistributedAsync<T>(key, cancellationToken),
            (false, true) => _two.L2.TryGetAsync<T>(key, cancellationToken: cancellationToken),
            (true, false) => _two.L1.TryGetAsync<T>(key, _two.L1Space(null), cancellationToken: cancellationToken),
            _ => ValueTask.FromResult(CacheResult<T>.Miss),
        };
    }

    private async ValueTask<CacheResult<T>> LocalThenDistributedAsync<T>(string key, CancellationToken cancellationToken)
    {
        var local = await _two!.L1.TryGetAsync<T>(key, _two.L1Space(null), cancellationToken: cancellationToken).ConfigureAwait(false);
        return local.Found ? local : await _two.L2.TryGetAsync<T>(key, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask WriteAsync<T>(string key, T value, CacheEntryOptions? entry, CancellationToken cancellationToken)
    {
        if (_two is null)
        {
            if (_writeLocal)
            {
                await _cache.SetAsync(key, value, entry, @namespace: null, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        if (_writeDistributed)
        {
            // Through the two-level cache, so other nodes drop their copies; a local write turned off is LocalTtl zero.
            await _two.SetAsync(key, value, entry, @namespace: null, cancellationToken).ConfigureAwait(false);
        }
        else if (_writeLocal)
        {
            var life = Shorter(Shorter(Finite(entry?.Ttl ?? _two.L2.Ttl), entry?.LocalTtl), _two.L1Ttl);
            if (life is { Ticks: <= 0 })
            {
                // Kept out of L1 (LocalTtl zero) and out of L2 by the flag: nowhere to write. Zero would mean "for ever".
                return;
            }

            var local = (entry ?? new CacheEntryOptions()) with { Ttl = life, LocalTtl = null };
            await _two.L1.SetAsync(key, value, local, _two.L1Space(null), cancellationToken).ConfigureAwait(false);
        }
    }

    // Zero and InfiniteTimeSpan mean no expiry, not the shortest one.
    private static TimeSpan? Finite(TimeSpan? ttl) => ttl == TimeSpan.Zero || ttl == Timeout.InfiniteTimeSpan ? null : ttl;

    private static TimeSpan? Shorter(TimeSpan? first, TimeSpan? second)
        => first is { } a && second is { } b ? (a < b ? a : b) : first ?? second;
}
