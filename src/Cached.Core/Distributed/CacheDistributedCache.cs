using System.Buffers.Binary;
using Cached.Serializers;
using Microsoft.Extensions.Caching.Distributed;

namespace Cached.Distributed;

/// <summary>
/// An <see cref="IDistributedCache"/> over any Cached cache, from <see cref="DistributedCacheExtensions.AsDistributedCache"/>:
/// what ASP.NET Core's session middleware, output caching and other libraries written against the interface read and
/// write lands in a Cached alias (memory, Redis, two levels), with its plugins, metrics and timeouts.
/// </summary>
/// <remarks>
/// <para>Each entry is stored as a small header (its sliding window and absolute expiry) followed by the bytes given,
/// so entries written here are read back here, not by <c>Get</c> on the cache itself. A sliding entry is kept by the
/// cache for its window and each read or <see cref="Refresh"/> extends it with an <c>Expire</c>, never past its absolute
/// expiry: two commands, as Microsoft's Redis provider spends. Without a sliding window an entry is one read.</para>
/// <para>Errors are the cache's own (<see cref="CacheException"/> family), not swallowed: a session that cannot be
/// loaded is the middleware's to handle, as with every provider.</para>
/// </remarks>
public sealed class CacheDistributedCache : IDistributedCache
{
    private const byte Format = 1;
    private const int HeaderLength = 17;

    // The bytes are stored as given: a serializer would only wrap them.
    private static readonly NullSerializer s_bytes = new();

    private readonly ICache _cache;
    private readonly string? _namespace;
    private readonly TimeProvider _time;

    /// <summary>Serves <paramref name="cache"/> as an <see cref="IDistributedCache"/>.</summary>
    /// <param name="cache">The cache the entries live in.</param>
    /// <param name="namespace">The namespace of the entries; <c>null</c> for the cache's own.</param>
    /// <param name="timeProvider">The clock absolute expiries are read on; by default the cache's (<see cref="BaseCache.TimeProvider"/>) or the system's.</param>
    /// <exception cref="ArgumentNullException"><paramref name="cache"/> is null.</exception>
    public CacheDistributedCache(ICache cache, string? @namespace = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(cache);
        _cache = cache;
        _namespace = @namespace;
        _time = timeProvider ?? (cache as BaseCache)?.TimeProvider ?? TimeProvider.System;
    }

    /// <summary>The cache the entries live in.</summary>
    public ICache Cache => _cache;

    /// <inheritdoc />
    public byte[]? Get(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        byte[]? stored;
        try
        {
            _cache.TryGet(key, out stored, _namespace, s_bytes);
        }
        catch (CacheSerializationException)
        {
            // A value of another type, not written here: absent to this adapter, as below.
            return null;
        }

        return Open(stored) is { } entry && Slide(key, entry) ? entry.Value : null;
    }

    /// <inheritdoc />
    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        CacheResult<byte[]> read;
        try
        {
            read = await _cache.TryGetAsync<byte[]>(key, _namespace, s_bytes, token).ConfigureAwait(false);
        }
        catch (CacheSerializationException)
        {
            return null;
        }

        return Open(read.Value) is { } entry && await SlideAsync(key, entry, token).ConfigureAwait(false) ? entry.Value : null;
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">The absolute expiry is not in the future, or a span is not positive.</exception>
    public void Set(string key, byte[] value, DistributedCacheEntryOptions options)
    {
        var (entry, ttl) = Seal(key, value, options);
        _cache.Set(key, entry, ttl, _namespace, s_bytes);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">The absolute expiry is not in the future, or a span is not positive.</exception>
    public async Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        var (entry, ttl) = Seal(key, value, options);
        await _cache.SetAsync(key, entry, ttl, _namespace, s_bytes, token).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public void Refresh(string key) => Get(key);

    /// <inheritdoc />
    public async Task RefreshAsync(string key, CancellationToken token = default) => await GetAsync(key, token).ConfigureAwait(false);

    /// <inheritdoc />
    public void Remove(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        _cache.Delete(key, _namespace);
    }

    /// <inheritdoc />
    public async Task RemoveAsync(string key, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        await _cache.DeleteAsync(key, _namespace, token).ConfigureAwait(false);
    }

    private (byte[] Entry, TimeSpan Ttl) Seal(string key, byte[] value, DistributedCacheEntryOptions options)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(options);
        var now = _time.GetUtcNow();
        DateTimeOffset? absolute = options.AbsoluteExpirationRelativeToNow is { } relative
            ? now + Positive(relative, nameof(options.AbsoluteExpirationRelativeToNow))
            : options.AbsoluteExpiration;
        if (absolute <= now)
        {
            throw new ArgumentOutOfRangeException(nameof(options), absolute, "The absolute expiration must be in the future.");
        }

        var sliding = options.SlidingExpiration is { } window ? Positive(window, nameof(options.SlidingExpiration)) : TimeSpan.Zero;
        var entry = new byte[HeaderLength + value.Length];
        entry[0] = Format;
        BinaryPrimitives.WriteInt64LittleEndian(entry.AsSpan(1), sliding.Ticks);
        BinaryPrimitives.WriteInt64LittleEndian(entry.AsSpan(9), absolute?.UtcTicks ?? 0);
        value.CopyTo(entry.AsSpan(HeaderLength));
        // Zero is "no expiry" to every Cached cache.
        return (entry, Life(sliding, absolute, now) ?? TimeSpan.Zero);
    }

    /// <summary>How long an entry may live from <paramref name="now"/>: its window, never past its absolute expiry.</summary>
    private static TimeSpan? Life(TimeSpan sliding, DateTimeOffset? absolute, DateTimeOffset now)
    {
        var left = absolute - now;
        return sliding > TimeSpan.Zero && (left is null || sliding < left) ? sliding : left;
    }

    private static TimeSpan Positive(TimeSpan span, string name)
        => span > TimeSpan.Zero ? span : throw new ArgumentOutOfRangeException(name, span, $"{name} must be positive.");

    private static Entry? Open(byte[]? stored)
    {
        if (stored is not { Length: >= HeaderLength } || stored[0] != Format)
        {
            // Not written by this adapter (or by a later format): absent to it, as a foreign key is to any provider.
            return null;
        }

        var sliding = TimeSpan.FromTicks(BinaryPrimitives.ReadInt64LittleEndian(stored.AsSpan(1)));
        var absoluteTicks = BinaryPrimitives.ReadInt64LittleEndian(stored.AsSpan(9));
        DateTimeOffset? absolute = absoluteTicks == 0 ? null : new DateTimeOffset(absoluteTicks, TimeSpan.Zero);
        return new Entry(stored.AsSpan(HeaderLength).ToArray(), sliding, absolute);
    }

    /// <summary>
    /// Extends a sliding entry by its window; false when its absolute expiry has passed. The value read
    /// is returned even if another process removed the key meanwhile, as a read that came first would have.
    /// </summary>
    private bool Slide(string key, Entry entry)
    {
        if (LifeLeft(entry) is not { } life)
        {
            return false;
        }

        if (entry.Sliding > TimeSpan.Zero)
        {
            _cache.Expire(key, life, _namespace);
        }

        return true;
    }

    private async ValueTask<bool> SlideAsync(string key, Entry entry, CancellationToken token)
    {
        if (LifeLeft(entry) is not { } life)
        {
            return false;
        }

        if (entry.Sliding > TimeSpan.Zero)
        {
            await _cache.ExpireAsync(key, life, _namespace, token).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>
    /// What is left of an entry's life now (its window, never past its absolute expiry), <see cref="TimeSpan.MaxValue"/>
    /// for none; <c>null</c> once its absolute expiry has passed. Checked on every read, not left to the cache's time to
    /// live: a copy the cache keeps longer (an L1 copy of an entry read from L2, say) must still not be served.
    /// </summary>
    private TimeSpan? LifeLeft(Entry entry)
    {
        var life = Life(entry.Sliding, entry.Absolute, _time.GetUtcNow()) ?? TimeSpan.MaxValue;
        return life > TimeSpan.Zero ? life : null;
    }

    private sealed record Entry(byte[] Value, TimeSpan Sliding, DateTimeOffset? Absolute);
}
