using Cached.Plugins;
using Cached.Serializers;
using Microsoft.Extensions.Caching.Distributed;

namespace Cached.Distributed;

/// <summary>
/// A backend over any <see cref="IDistributedCache"/>: SQL Server, Cosmos DB, PostgreSQL, Redis through
/// Microsoft.Extensions.Caching.StackExchangeRedis, or any other provider, as a cache of its own or as the second
/// level of a <see cref="MultiLevelCache"/>. Values are serialized (JSON unless set) and stored under
/// <c>namespace:key</c> with an absolute expiry of the entry's time to live.
/// </summary>
/// <remarks>
/// <para><see cref="IDistributedCache"/> offers get, set, refresh and remove, nothing else. What Cached builds on those
/// works: <c>Get</c>, <c>Set</c>, <c>MultiGet</c>/<c>MultiSet</c> (one call per key), <c>Exists</c> (a read),
/// <c>Delete</c> (a read, for the count, then a remove), <c>GetOrSet</c> with fail-safe and timeouts, and generated
/// methods. The commands that need an atomic operation the interface lacks are refused with a
/// <see cref="NotSupportedException"/> that names the command, rather than done as a read then a write another process
/// could interleave with: <c>Add</c>, <c>Increment</c>, <c>Expire</c>, <c>Clear</c> (the interface cannot list keys),
/// <c>Raw</c>, tagged entries (a tag record must be created only where none exists; invalidating a tag, a plain write,
/// works), and the locks behind
/// <see cref="RedLock"/>, <see cref="OptimisticLock"/> and cross-process leases. A generated method with a lease runs
/// without one here, as on any backend without locks.</para>
/// <para>A failure of the provider reaches the caller as a <see cref="CacheBackendException"/> (flagged
/// <see cref="CacheBackendException.Unreachable"/> when a socket, I/O or connection error is behind it), so generated
/// methods fail open as on every backend. The provider is not disposed with this cache unless
/// <see cref="DisposeStore"/> says so.</para>
/// </remarks>
public sealed class DistributedCacheBackend : BaseCache
{
    private readonly IDistributedCache _store;

    /// <summary>Creates a backend over <paramref name="store"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="store"/> is null.</exception>
    public DistributedCacheBackend(IDistributedCache store)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
    }

    /// <summary>The provider the entries live in.</summary>
    public IDistributedCache Store => _store;

    /// <summary>Whether disposing this cache disposes <see cref="Store"/> when it is disposable (false unless set).</summary>
    public bool DisposeStore { get; init; }

    /// <summary>
    /// How long a <see cref="MultiLevelCache"/> keeps its L1 copy of an entry read from here (1 minute unless set, at
    /// most its <see cref="MultiLevelCache.L1Ttl"/>): <see cref="IDistributedCache"/> cannot tell an entry's remaining
    /// time to live, and a copy kept for ever would outlive the entry. <c>null</c> leaves the bound to <c>L1Ttl</c> alone.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public TimeSpan? CopyLife
    {
        get => _copyLife;
        init => _copyLife = value is { } life && life <= TimeSpan.Zero
            ? throw new ArgumentOutOfRangeException(nameof(CopyLife), life, "CopyLife must be positive, or null to leave the bound to L1Ttl.")
            : value;
    }

    private readonly TimeSpan? _copyLife = TimeSpan.FromMinutes(1);

    /// <summary>JSON, as the Redis backend: the provider stores bytes.</summary>
    protected override ISerializer CreateDefaultSerializer() => new JsonSerializer();

    /// <inheritdoc />
    protected override Exception? MapError(Exception exception, CacheCommand command, string subject)
        => DistributedErrors.Translate(exception, subject, command);

    /// <inheritdoc />
    protected override CacheResult<object?> GetEntry(string key) => ToResult(_store.Get(key));

    /// <inheritdoc />
    protected override async ValueTask<CacheResult<object?>> GetEntryAsync(string key, CancellationToken cancellationToken)
        => ToResult(await _store.GetAsync(key, cancellationToken).ConfigureAwait(false));

    /// <summary>An entry with <see cref="CopyLife"/> as its remaining life: the provider cannot tell the real one.</summary>
    protected override (CacheResult<object?> Entry, TimeSpan? RemainingTtl) GetEntryWithTtl(string key) => (GetEntry(key), _copyLife);

    /// <inheritdoc cref="GetEntryWithTtl(string)"/>
    protected override async ValueTask<(CacheResult<object?> Entry, TimeSpan? RemainingTtl)> GetEntryWithTtlAsync(string key, CancellationToken cancellationToken)
        => (await GetEntryAsync(key, cancellationToken).ConfigureAwait(false), _copyLife);

    /// <inheritdoc />
    protected override bool SetEntry(string key, string? @namespace, object? payload, TimeSpan? ttl)
    {
        _store.Set(key, ToBytes(payload), EntryOptions(ttl));
        return true;
    }

    /// <inheritdoc />
    protected override async ValueTask<bool> SetEntryAsync(string key, string? @namespace, object? payload, TimeSpan? ttl, CancellationToken cancellationToken)
    {
        await _store.SetAsync(key, ToBytes(payload), EntryOptions(ttl), cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc />
    protected override bool ContainsEntry(string key) => _store.Get(key) is not null;

    /// <inheritdoc />
    protected override async ValueTask<bool> ContainsEntryAsync(string key, CancellationToken cancellationToken)
        => await _store.GetAsync(key, cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>Reads the key (for the count <c>Delete</c> returns), then removes it: the removal itself is one call.</summary>
    protected override int RemoveEntry(string key)
    {
        var existed = _store.Get(key) is not null;
        _store.Remove(key);
        return existed ? 1 : 0;
    }

    /// <inheritdoc cref="RemoveEntry"/>
    protected override async ValueTask<int> RemoveEntryAsync(string key, CancellationToken cancellationToken)
    {
        var existed = await _store.GetAsync(key, cancellationToken).ConfigureAwait(false) is not null;
        await _store.RemoveAsync(key, cancellationToken).ConfigureAwait(false);
        return existed ? 1 : 0;
    }

    /// <summary>Refused: <see cref="IDistributedCache"/> has no add-if-absent.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    protected override bool AddEntry(string key, string? @namespace, object? payload, TimeSpan? ttl)
        => throw Refused("Add", "it has no add-if-absent, and a read then a write could overwrite another process's value");

    /// <summary>Refused: <see cref="IDistributedCache"/> has no atomic increment.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    protected override long IncrementEntry(string key, string? @namespace, long delta)
        => throw Refused("Increment", "it has no atomic increment, and a read then a write would lose concurrent increments");

    /// <summary>Refused: <see cref="IDistributedCache"/> cannot list or remove keys by prefix.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    protected override bool ClearEntries(string? @namespace)
        => throw Refused("Clear", "it cannot list keys, so it cannot find a namespace's entries or remove them all");

    /// <summary>Refused: <see cref="IDistributedCache"/> cannot change an entry's expiry.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    protected override bool ExpireEntry(string key, TimeSpan? ttl)
        => throw Refused("Expire", "it cannot change an entry's expiry, and rewriting the value could bring back one another process deleted");

    /// <summary>Refused: <see cref="IDistributedCache"/> has no command language.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    protected override object? ExecuteRaw(string command, object?[] args)
        => throw Refused("Raw", "it has no commands of its own beyond get, set, refresh and remove");

    /// <inheritdoc />
    /// <remarks>True: no raw command runs here, so none refuses the fills open in this process.</remarks>
    protected override bool RawCommandOnlyReads(string command) => true;

    /// <summary>Refused: a tag record must be created only where none exists, which <see cref="IDistributedCache"/> cannot do.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    protected override bool KeepEntry(string key, string? @namespace, object? payload, TimeSpan? ttl, bool create)
        => throw Refused("tags on entries", "it has no add-if-absent for the tag records");

    /// <inheritdoc cref="KeepEntry"/>
    protected override ValueTask<bool> KeepEntryAsync(string key, string? @namespace, object? payload, TimeSpan? ttl, bool create, CancellationToken cancellationToken)
        => throw Refused("tags on entries", "it has no add-if-absent for the tag records");

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && DisposeStore)
        {
            (_store as IDisposable)?.Dispose();
        }

        base.Dispose(disposing);
    }

    private static CacheResult<object?> ToResult(byte[]? bytes) => bytes is null ? CacheResult<object?>.Miss : CacheResult<object?>.Hit(bytes);

    private static byte[] ToBytes(object? payload) => payload switch
    {
        byte[] bytes => bytes,
        string text => System.Text.Encoding.UTF8.GetBytes(text),
        null => [],
        _ => throw new CacheSerializationException("?", payload.GetType(), "an IDistributedCache stores bytes; use a serializer that writes them."),
    };

    // Zero and InfiniteTimeSpan were turned into null (no expiry) before a backend sees a time to live.
    private static DistributedCacheEntryOptions EntryOptions(TimeSpan? ttl)
        => ttl is { } span ? new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = span } : s_forever;

    private static readonly DistributedCacheEntryOptions s_forever = new();

    private NotSupportedException Refused(string command, string why)
        => new($"{nameof(DistributedCacheBackend)} cannot do {command} over {_store.GetType().Name}: {why}. See docs/caches.md, \"Any IDistributedCache as a backend\".");
}
