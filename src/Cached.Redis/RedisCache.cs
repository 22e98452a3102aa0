using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Cached.Plugins;
using Cached.Serializers;
using StackExchange.Redis;
using static Cached.Redis.RedisSlots;
using static Cached.Redis.RedisValues;

namespace Cached.Redis;

/// <summary>
/// The Redis backend, on StackExchange.Redis: a standalone server or a Redis Cluster, one shared multiplexer per
/// configuration. Keys and values are written as aiocache/pycached write them (<c>namespace:key</c>, JSON by
/// default), so a Python service and a .NET service can share one Redis.
/// </summary>
/// <remarks>
/// <para>Connect with <see cref="Endpoint"/>/<see cref="Port"/>/<see cref="Database"/>/<see cref="Password"/>, with
/// <see cref="ConnectionString"/> (any StackExchange.Redis configuration: TLS, ACL user, several endpoints), or with an
/// existing <see cref="Connection"/>. Multiplexers this class creates are shared per configuration, connect on the
/// first command, and are disposed with the last cache that uses them; a given <see cref="Connection"/> is never disposed.</para>
/// <para>Sync commands use the client's sync API and async commands its async API. <see cref="BaseCache.Timeout"/> has
/// one owner per kind of command: a sync command is bounded by the client's <c>SyncTimeout</c> (a blocked call cannot be
/// abandoned from outside); an async command by the cache's command pipeline, which stops waiting at exactly
/// <see cref="BaseCache.Timeout"/> on <see cref="BaseCache.TimeProvider"/> and honours the caller's token. The client's
/// <c>AsyncTimeout</c> is set to the same value, so that it drops an abandoned request; when this cache made the
/// connection and <see cref="BaseCache.Timeout"/> is 2.5 s or more, the client's heartbeat runs often enough (every
/// tenth of the timeout, at most 1 s) that the client fails a late command within a tenth of the timeout, and once
/// connected an async read of one entry whose token cannot cancel, on the system clock, is left to it (no timer per read).
/// While the server is unreachable commands fail at once with a <see cref="CacheBackendException"/>; the same instance
/// works again when the server is back.</para>
/// </remarks>
public sealed partial class RedisCache : BaseCache, Capabilities.IBackplaneProvider
{
    private readonly object _gate = new();
    private MultiplexerPool.Lease? _lease;
    private int _disposed;

    /// <summary>Creates a cache whose server its properties name (<c>Endpoint</c> and <c>Port</c>, <c>ConnectionString</c> or <c>Connection</c>).</summary>
    // Configuration (Caches.SetConfig, appsettings.json) sets these properties by name, and names the backplane's
    // constructor that takes a string: a trimmed or NativeAOT application that keeps this type keeps them too.
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor | DynamicallyAccessedMemberTypes.PublicProperties, typeof(RedisCache))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicConstructors, typeof(RedisBackplane))]
    public RedisCache()
    {
    }

    /// <summary>
    /// How long a command waits for the first connection (2 s unless set, and at most 80% of
    /// <see cref="BaseCache.Timeout"/>) before it fails with a <see cref="CacheBackendException"/>; the client keeps
    /// connecting in the background, and once connected, commands on an unreachable server fail at once. A login the
    /// server refused (a wrong password or user, an untrusted certificate) is not waited out: the command fails as soon
    /// as the client is told, and every error names the refusal (on the connection the cache makes, not on a given
    /// <see cref="Connection"/>).
    /// </summary>
    public TimeSpan ConnectWait { get; init; } = TimeSpan.FromSeconds(2);

    // Inside the command's own timeout, so a connection that never comes is reported as what it is, not as a timeout.
    private TimeSpan FirstConnectionWait => Timeout is { } timeout && timeout * 0.8 < ConnectWait ? timeout * 0.8 : ConnectWait;

    /// <summary>
    /// Writes namespaces exactly as aiocache does, <c>ns:key</c>, even when a namespace contains <c>:</c> (then
    /// namespaces <c>a</c> and <c>a:b</c> overlap, and <c>Clear("a")</c> also clears <c>a:b</c>). By default such a
    /// namespace has its <c>:</c> and <c>\</c> escaped so namespaces stay exact; plain namespaces are written as aiocache
    /// writes them either way.
    /// </summary>
    public bool PlainNamespaces { get; init; }

    /// <summary>
    /// JSON, as aiocache's Redis backend: any record or POCO, text that Python reads. In a trimmed or NativeAOT
    /// application the types come from the project's source-generated JsonSerializerContexts (see
    /// <see cref="JsonContexts"/>).
    /// </summary>
    protected override ISerializer CreateDefaultSerializer() => new JsonSerializer();

    // The settings are init-only, so the database is worked out once: from the connection string it takes a parse,
    // which would otherwise cost every command more than the rest of its client-side work. -1: not yet.
    private int _databaseNumber = -1;

    private int DatabaseNumber
    {
        get
        {
            var number = Volatile.Read(ref _databaseNumber);
            if (number < 0)
            {
                number = Database ?? Options().DefaultDatabase ?? 0;
                Volatile.Write(ref _databaseNumber, number);
            }

            return number;
        }
    }

    /// <inheritdoc />
    protected override string ComposeKey(string key, string @namespace)
        => PlainNamespaces ? string.Concat(@namespace, ":", key) : base.ComposeKey(key, @namespace);

    /// <inheritdoc />
    protected override bool StoresKeysAsUtf8 => true;

    /// <inheritdoc />
    // Once connected: before, a read may first wait for the connection (FirstConnectionWait), outside the client's timeout.
    protected override bool ClientEnforcesTimeout => Connection is null && TimeoutBeat is not null && _lease is { IsConnected: true };

    /// <inheritdoc />
    protected override Exception? MapError(Exception exception, CacheCommand command, string subject)
        => RedisErrors.Translate(exception, subject, command, Connection is null ? _lease?.Refusal : null);

    /// <inheritdoc />
    protected override CacheResult<object?> GetEntry(string key)
    {
        return ToResult(Db().StringGet(key));
    }

    /// <inheritdoc />
    protected override bool TryStartEntryRead(string key, out PendingEntryRead read)
    {
        // Only once the connection is there: before, GetEntryAsync waits for it (FirstConnectionWait).
        if (Connection is null && _lease is not { IsConnected: true })
        {
            read = default;
            return false;
        }

        read = new PendingEntryRead(Db().StringGetAsync(key), static reply => ToResult(((Task<RedisValue>)reply).GetAwaiter().GetResult()));
        return true;
    }

    /// <inheritdoc />
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // awaited once, by the pipeline: a hit allocates no box for it
    protected override async ValueTask<CacheResult<object?>> GetEntryAsync(string key, CancellationToken cancellationToken)
    {
        return ToResult(await (await DbAsync(cancellationToken).ConfigureAwait(false)).StringGetAsync(key).ConfigureAwait(false));
    }

    /// <inheritdoc />
    protected override CacheResult<object?>[] GetEntries(IReadOnlyList<string> keys)
    {
        var db = Db();
        var groups = SlotGroups(db.Multiplexer, keys);
        var results = new CacheResult<object?>[keys.Count];
        if (groups.Count == 1)
        {
            Place(results, groups[0], ReadSlot(db, groups[0].Keys));
            return results;
        }

        // On a cluster, one MGET per hash slot, all sent before any is waited for, as the async command does.
        var values = WaitAll(db, groups.Select(group => ReadSlotAsync(db, group.Keys)).ToArray());
        for (var g = 0; g < groups.Count; g++)
        {
            Place(results, groups[g], values[g]);
        }

        return results;
    }

    private static void Place(CacheResult<object?>[] results, SlotGroup group, RedisValue[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            results[group.Indexes[i]] = ToResult(values[i]);
        }
    }

    /// <inheritdoc />
    protected override async ValueTask<CacheResult<object?>[]> GetEntriesAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var db = await DbAsync(cancellationToken).ConfigureAwait(false);
        var groups = SlotGroups(db.Multiplexer, keys);
        // One MGET per hash slot, all in flight together.
        var reads = groups.Select(group => ReadSlotAsync(db, group.Keys)).ToArray();
        var values = await Task.WhenAll(reads).ConfigureAwait(false);
        var results = new CacheResult<object?>[keys.Count];
        for (var g = 0; g < groups.Count; g++)
        {
            Place(results, groups[g], values[g]);
        }

        return results;
    }

    /// <inheritdoc />
    protected override bool AddEntry(string key, string? @namespace, object? payload, TimeSpan? ttl)
    {
        var db = WriteDb();
        return Fenced(db, key, (db, key, payload, ttl), static s => s.db.StringSet(s.key, ToValue(s.payload), s.ttl, When.NotExists));
    }

    /// <inheritdoc />
    protected override async ValueTask<bool> AddEntryAsync(string key, string? @namespace, object? payload, TimeSpan? ttl, CancellationToken cancellationToken)
    {
        var db = await WriteDbAsync(cancellationToken).ConfigureAwait(false);
        return await FencedAsync(MoveFence(db, key), db.StringSetAsync(key, ToValue(payload), ttl, When.NotExists)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override bool SetEntry(string key, string? @namespace, object? payload, TimeSpan? ttl)
    {
        var db = WriteDb();
        return Fenced(db, key, (db, key, payload, ttl), static s => s.db.StringSet(s.key, ToValue(s.payload), s.ttl, When.Always));
    }

    /// <inheritdoc />
    protected override async ValueTask<bool> SetEntryAsync(string key, string? @namespace, object? payload, TimeSpan? ttl, CancellationToken cancellationToken)
    {
        var db = await WriteDbAsync(cancellationToken).ConfigureAwait(false);
        return await FencedAsync(MoveFence(db, key), db.StringSetAsync(key, ToValue(payload), ttl, When.Always)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>One <c>SET PX</c>, without the fence script of <see cref="SetEntry"/>: no fill waits on a tag record.</remarks>
    protected override bool ReplaceEntry(string key, string? @namespace, object? payload, TimeSpan ttl)
        => Db().StringSet(key, ToValue(payload), ttl, When.Always);

    /// <inheritdoc />
    /// <remarks>One <c>SET PX</c>, without the fence script of <see cref="SetEntryAsync"/>: no fill waits on a tag record.</remarks>
    protected override async ValueTask<bool> ReplaceEntryAsync(string key, string? @namespace, object? payload, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var db = await DbAsync(cancellationToken).ConfigureAwait(false);
        return await db.StringSetAsync(key, ToValue(payload), ttl, When.Always).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override bool SetEntries(IReadOnlyList<KeyValuePair<string, object?>> entries, string? @namespace, TimeSpan? ttl)
    {
        var db = WriteDb();
        var groups = SlotGroups(db.Multiplexer, entries.Select(static e => e.Key).ToArray());
        if (groups.Count == 1)
        {
            return OnSlot(db, groups[0].Keys, (cache: this, entries, group: groups[0], ttl), static (db, s) => Fenced(s.cache.MoveFences(db, s.group), (db, s.entries, s.group, s.ttl), static s => s.ttl is null
                ? s.db.StringSet(Pairs(s.entries, s.group))
                : SetWithTtl(s.db, s.entries, s.group, s.ttl.Value)));
        }

        // On a cluster, one write per hash slot, all sent before any is waited for, as the async command does.
        return WaitAll(db, groups.Select(group => WriteGroupAsync(db, entries, group, ttl, deadline: null, CancellationToken.None)).ToArray()).All(static ok => ok);
    }

    /// <inheritdoc />
    protected override async ValueTask<bool> SetEntriesAsync(IReadOnlyList<KeyValuePair<string, object?>> entries, string? @namespace, TimeSpan? ttl, CancellationToken cancellationToken)
    {
        var deadline = CallDeadline();
        var db = await WriteDbAsync(cancellationToken).ConfigureAwait(false);
        var writes = SlotGroups(db.Multiplexer, entries.Select(static e => e.Key).ToArray())
            .Select(group => WriteGroupAsync(db, entries, group, ttl, deadline, cancellationToken))
            .ToArray();
        var results = await Task.WhenAll(writes).ConfigureAwait(false);
        return results.All(static ok => ok);
    }

    /// <summary>One hash slot's part of a batch write, after the move of its keys' fences; both sent again on TRYAGAIN.</summary>
    private Task<bool> WriteGroupAsync(IDatabase db, IReadOnlyList<KeyValuePair<string, object?>> entries, SlotGroup group, TimeSpan? ttl, long? deadline, CancellationToken cancellationToken)
        => OnSlotAsync(db, group.Keys, (cache: this, entries, group, ttl), static (db, s) =>
            FencedAsync(s.cache.MoveFences(db, s.group), s.ttl is null ? db.StringSetAsync(Pairs(s.entries, s.group)) : SetWithTtlAsync(db, s.entries, s.group, s.ttl.Value)), deadline, cancellationToken);

    /// <inheritdoc />
    protected override bool ContainsEntry(string key)
    {
        return Db().KeyExists(key);
    }

    /// <inheritdoc />
    protected override async ValueTask<bool> ContainsEntryAsync(string key, CancellationToken cancellationToken)
    {
        var db = await DbAsync(cancellationToken).ConfigureAwait(false);
        return await db.KeyExistsAsync(key).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override int RemoveEntry(string key)
    {
        var db = WriteDb();
        return Fenced(db, key, (db, key), static s => s.db.KeyDelete(s.key)) ? 1 : 0;
    }

    /// <inheritdoc />
    protected override async ValueTask<int> RemoveEntryAsync(string key, CancellationToken cancellationToken)
    {
        var db = await WriteDbAsync(cancellationToken).ConfigureAwait(false);
        return await FencedAsync(MoveFence(db, key), db.KeyDeleteAsync(key)).ConfigureAwait(false) ? 1 : 0;
    }

    /// <inheritdoc />
    protected override bool SupportsConditionalOperations => true;

    /// <inheritdoc />
    protected override bool RemoveEntryIfEquals(string key, object? expected)
    {
        return (long)Db().ScriptEvaluate(Scripts.CompareAndDelete, [key], [ToValue(expected)]) == 1;
    }

    /// <inheritdoc />
    protected override async ValueTask<bool> RemoveEntryIfEqualsAsync(string key, object? expected, CancellationToken cancellationToken)
    {
        var db = await DbAsync(cancellationToken).ConfigureAwait(false);
        return (long)await db.ScriptEvaluateAsync(Scripts.CompareAndDelete, [key], [ToValue(expected)]).ConfigureAwait(false) == 1;
    }

    /// <inheritdoc />
    protected override object? GetEntryVersion(string key) => GetEntry(key).Value;

    /// <inheritdoc />
    protected override async ValueTask<object?> GetEntryVersionAsync(string key, CancellationToken cancellationToken)
        => (await GetEntryAsync(key, cancellationToken).ConfigureAwait(false)).Value;

    /// <inheritdoc />
    protected override CacheResult<object?> SetEntryIfVersion(string key, string? @namespace, object? version, object? payload, TimeSpan? ttl)
    {
        var db = WriteDb();
        var stored = Fenced(db, key, (db, key, version, payload, ttl), static s => (long)s.db.ScriptEvaluate(Scripts.CompareAndSet, [s.key], CompareAndSetArguments(s.version, s.payload, s.ttl)) == 1);
        return stored ? CacheResult<object?>.Hit(payload) : CacheResult<object?>.Miss;
    }

    /// <inheritdoc />
    protected override async ValueTask<CacheResult<object?>> SetEntryIfVersionAsync(string key, string? @namespace, object? version, object? payload, TimeSpan? ttl, CancellationToken cancellationToken)
    {
        var db = await WriteDbAsync(cancellationToken).ConfigureAwait(false);
        var stored = (long)await FencedAsync(MoveFence(db, key), db.ScriptEvaluateAsync(Scripts.CompareAndSet, [key], CompareAndSetArguments(version, payload, ttl))).ConfigureAwait(false) == 1;
        return stored ? CacheResult<object?>.Hit(payload) : CacheResult<object?>.Miss;
    }

    /// <inheritdoc />
    protected override bool ExpireEntry(string key, TimeSpan? ttl)
    {
        var db = WriteDb();
        return Fenced(db, key, (db, key, ttl), static s => KeepsForever(s.ttl)
            ? (long)s.db.ScriptEvaluate(Scripts.Persist, [s.key]) == 1
            : s.db.KeyExpire(s.key, s.ttl));
    }

    /// <inheritdoc />
    protected override async ValueTask<bool> ExpireEntryAsync(string key, TimeSpan? ttl, CancellationToken cancellationToken)
    {
        var db = await WriteDbAsync(cancellationToken).ConfigureAwait(false);
        var moved = MoveFence(db, key);
        return KeepsForever(ttl)
            ? (long)await FencedAsync(moved, db.ScriptEvaluateAsync(Scripts.Persist, [key])).ConfigureAwait(false) == 1
            : await FencedAsync(moved, db.KeyExpireAsync(key, ttl)).ConfigureAwait(false);
    }

    /// <summary>
    /// Whether an expiry keeps the key for good: none, or <see cref="TimeSpan.MaxValue"/>, which StackExchange.Redis
    /// sends as <c>PERSIST</c>; that answers 0 for a key that exists but had no expiry, where <c>Expire</c> promises true
    /// for every key that exists, so both go through the script that answers whether the key exists.
    /// </summary>
    private static bool KeepsForever(TimeSpan? ttl) => ttl is null || ttl == TimeSpan.MaxValue;

    /// <inheritdoc />
    /// <remarks>One script, one round trip: created if missing, extended but never shortened.</remarks>
    protected override bool KeepEntry(string key, string? @namespace, object? payload, TimeSpan? ttl, bool create)
        => (long)Db().ScriptEvaluate(Scripts.KeepTag, [key], [ToValue(payload), KeepMilliseconds(ttl), create ? 1 : 0]) == 1;

    /// <inheritdoc />
    protected override async ValueTask<bool> KeepEntryAsync(string key, string? @namespace, object? payload, TimeSpan? ttl, bool create, CancellationToken cancellationToken)
    {
        var db = await DbAsync(cancellationToken).ConfigureAwait(false);
        return (long)await db.ScriptEvaluateAsync(Scripts.KeepTag, [key], [ToValue(payload), KeepMilliseconds(ttl), create ? 1 : 0]).ConfigureAwait(false) == 1;
    }

    private static long KeepMilliseconds(TimeSpan? ttl) => ttl is { } span ? Math.Max(1, (long)Math.Ceiling(span.TotalMilliseconds)) : 0;

    /// <inheritdoc />
    /// <remarks>
    /// Refuses a null and any type StackExchange.Redis cannot encode (see <see cref="RawArguments"/>): sent, either
    /// would break the connection every cache of this configuration shares.
    /// </remarks>
    protected override object?[] PrepareRawArguments(string command, object?[] args) => RawArguments.Prepare(command, args);

    /// <inheritdoc />
    /// <remarks>
    /// The reading commands of Redis (GET, EXISTS, TTL, SCAN, ...). A raw write refuses the fills open in this process
    /// only: another process's fill of a key a raw command wrote may still store over it (the typed commands move the
    /// key's fence on the server; see docs/redis.md, Fences).
    /// </remarks>
    protected override bool RawCommandOnlyReads(string command) => RawArguments.OnlyReads(command);

    // The arguments come from PrepareRawArguments: none is null.
    /// <inheritdoc />
    protected override object? ExecuteRaw(string command, object?[] args)
        => FromResult(Db().Execute(command, args!));

    /// <inheritdoc />
    protected override async ValueTask<object?> ExecuteRawAsync(string command, object?[] args, CancellationToken cancellationToken)
    {
        var db = await DbAsync(cancellationToken).ConfigureAwait(false);
        return FromResult(await db.ExecuteAsync(command, args!).ConfigureAwait(false));
    }

    /// <summary>Releases this cache's hold on its shared multiplexer (a given <see cref="Connection"/> is left open).</summary>
    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Interlocked.Exchange(ref _lease, null)?.Dispose();
        }

        base.Dispose(disposing);
    }

    private IDatabase Db() => (Connection ?? LeaseOf().Get(FirstConnectionWait)).GetDatabase(DatabaseNumber);

    private ValueTask<IDatabase> DbAsync(CancellationToken cancellationToken)
    {
        // A given connection needs no frame: every remote command starts here.
        if (Connection is { } given)
        {
            return new ValueTask<IDatabase>(given.GetDatabase(DatabaseNumber));
        }

        var connecting = LeaseOf().GetAsync(FirstConnectionWait, cancellationToken);
        return connecting.IsCompletedSuccessfully
            ? new ValueTask<IDatabase>(connecting.Result.GetDatabase(DatabaseNumber))
            : DbOnceConnectedAsync(connecting);
    }

    private async ValueTask<IDatabase> DbOnceConnectedAsync(ValueTask<ConnectionMultiplexer> connecting)
        => (await connecting.ConfigureAwait(false)).GetDatabase(DatabaseNumber);

    private MultiplexerPool.Lease LeaseOf()
    {
        if (_lease is { } lease)
        {
            return lease;
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            return _lease ??= MultiplexerPool.Acquire(Options(), TrustIssuer);
        }
    }

}
