using Cached.Pipeline;
using Cached.Resilience;
using Cached.Serializers;
using Cached.Tags;

namespace Cached;

/// <summary>
/// What commands do before and after the backend: keys built, values turned into payloads (every argument checked
/// before anything is written), payloads read back into values, and outcomes described for the post hooks.
/// </summary>
public abstract partial class BaseCache
{
    private PreparedKey PrepareKey(string key, string? @namespace)
    {
        var ns = ResolveNamespace(@namespace);
        return new PreparedKey(key, BuildKeyIn(key, ns), ns);
    }

    private PreparedWrite PrepareWrite<T>(string key, T value, string? @namespace, ISerializer? serializer)
    {
        var ns = ResolveNamespace(@namespace);
        var fullKey = BuildKeyIn(key, ns);
        return new PreparedWrite(key, fullKey, ns, ToPayload(key, value, serializer ?? Serializer));
    }

    private PreparedBatch PrepareKeys(string[] keys, string? @namespace)
    {
        var ns = ResolveNamespace(@namespace);
        var built = new string[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            built[i] = BuildKeyIn(keys[i], ns);
        }

        return new PreparedBatch(keys, built, ns);
    }

    /// <summary>
    /// Checks and serializes every pair before anything is written, so a bad pair leaves the store unchanged. Null when
    /// caching is off. The token is checked after the pairs, so that a bad pair fails with its
    /// <see cref="ArgumentException"/> whatever the token, and before any serialization, so that a cancelled call does no work.
    /// </summary>
    private PreparedBatchWrite? PrepareMultiSet<T>(IEnumerable<KeyValuePair<string, T>> pairs, string? @namespace, ISerializer? serializer, out T[] values, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var given = pairs.ToArray();
        CheckPairs(given, @namespace);
        cancellationToken.ThrowIfCancellationRequested();
        var keys = new string[given.Length];
        values = new T[given.Length];
        for (var i = 0; i < given.Length; i++)
        {
            keys[i] = given[i].Key;
            values[i] = given[i].Value;
        }

        var ns = ResolveNamespace(@namespace);
        if (Cache.Disabled)
        {
            return null;
        }

        var effective = serializer ?? Serializer;
        var entries = new KeyValuePair<string, object?>[given.Length];
        for (var i = 0; i < given.Length; i++)
        {
            entries[i] = new(BuildKeyIn(keys[i], ns), ToPayload(keys[i], values[i], effective));
        }

        return new PreparedBatchWrite(keys, entries, ns);
    }

    /// <summary>
    /// Refuses a batch write's pairs and namespace: a null or empty key, or one a store of UTF-8 keys cannot hold, named
    /// by its index. Also asked by a cache in front of this one (two levels), before it looks at its token.
    /// </summary>
    internal void CheckPairs<T>(KeyValuePair<string, T>[] pairs, string? @namespace)
    {
        Runtime.Guard.PairKeys(pairs, nameof(pairs));
        if (StoresKeysAsUtf8)
        {
            for (var i = 0; i < pairs.Length; i++)
            {
                Runtime.Guard.Utf8Item(pairs[i].Key, "key of the pair", i, nameof(pairs));
            }
        }

        CheckNamespace(@namespace);
    }

    private static string? FirstOf(string[] keys) => keys.Length > 0 ? keys[0] : null;

    private static string? FirstOf(KeyValuePair<string, object?>[] entries) => entries.Length > 0 ? entries[0].Key : null;

    private string[] MaterializeKeys(IEnumerable<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return CheckKeys(keys.ToArray());
    }

    /// <summary>
    /// Throws if a key of <paramref name="keys"/> is null or empty, or one a store of UTF-8 keys cannot hold
    /// (<see cref="StoresKeysAsUtf8"/>), naming its index; otherwise returns it. Also asked by a cache in front of this
    /// one (two levels).
    /// </summary>
    internal string[] CheckKeys(string[] keys)
    {
        Runtime.Guard.BatchKeys(keys, nameof(keys));
        for (var i = 0; StoresKeysAsUtf8 && i < keys.Length; i++)
        {
            Runtime.Guard.Utf8Item(keys[i], "key", i, nameof(keys));
        }

        return keys;
    }

    private CacheResult<T> Decode<T>(string key, CacheResult<object?> entry, ISerializer? serializer)
        => entry.Found ? DecodeFound<T>(key, entry.Value, serializer ?? Serializer) : CacheResult<T>.Miss;

    /// <summary>
    /// A found payload as a value. A plain read of an entry stored with resilience options (<see cref="CacheEntryOptions"/>)
    /// answers the value while it is fresh and a miss once it is stale: the backend keeps it longer only as a last value
    /// for <c>GetOrSet</c>'s fail-safe.
    /// </summary>
    private CacheResult<T> DecodeFound<T>(string key, object? payload, ISerializer serializer)
    {
        if (StampFormat.TryUnwrap(payload, out var freshUntil, out var tags, out var value) && serializer is not IPayloadAdopter { ReadsStale: true })
        {
            // A tagged entry whose tag was invalidated is a miss too; its tags are checked only once it is fresh.
            var fresh = IsFresh(payload, freshUntil, StampClock.UnixNow(TimeProvider));
            return DecodeStamped<T>(key, fresh && (tags is null || ((ITagHost)this).Tags.Check(tags)), payload, value, serializer);
        }

        return CacheResult<T>.Hit(FromPayload<T>(key, payload, serializer));
    }

    /// <summary>
    /// Whether a stamped entry a plain read found is fresh at <paramref name="now"/> (Unix milliseconds). One held by
    /// reference is checked on its monotonic clock, as a read-through hit checks it, so that a wall-clock jump neither
    /// expires nor revives it; bytes carry the writer's wall-clock stamp alone.
    /// </summary>
    private static bool IsFresh(object? payload, long freshUntil, long now) => payload is IStamped stamped ? stamped.IsFreshNow : freshUntil > now;

    /// <summary>
    /// The value of a stamped entry a plain read found: a hit while it is fresh and its tags are current. A stamped
    /// reference read as the stamp itself (a two-level cache's L1 copy, read through the two levels by a resilient call)
    /// is that stamp: its unwrapped value is of another type.
    /// </summary>
    private CacheResult<T> DecodeStamped<T>(string key, bool current, object? payload, object? value, ISerializer serializer)
        => !current ? CacheResult<T>.Miss
            : payload is T whole ? CacheResult<T>.Hit(whole)
            : CacheResult<T>.Hit(FromPayload<T>(key, value, serializer));

    /// <summary>
    /// <see cref="Decode{T}"/> for an async read from a remote backend: the tags of a tagged entry are read without
    /// blocking (a second round trip: the reader did not know them).
    /// </summary>
    private async ValueTask<CacheResult<T>> DecodeAsync<T>(string key, CacheResult<object?> entry, ISerializer? serializer, CancellationToken cancellationToken)
    {
        var effective = serializer ?? Serializer;
        if (entry.Found && effective is not IPayloadAdopter { ReadsStale: true } && StampFormat.IsTagged(entry.Value)
            && StampFormat.TryUnwrap(entry.Value, out var freshUntil, out var tags, out var value))
        {
            var fresh = IsFresh(entry.Value, freshUntil, StampClock.UnixNow(TimeProvider));
            return DecodeStamped<T>(key, fresh && await ((ITagHost)this).Tags.CheckAsync(tags!, cancellationToken).ConfigureAwait(false), entry.Value, value, effective);
        }

        return Decode<T>(key, entry, serializer);
    }

    private CacheResult<T>[] DecodeAll<T>(string[] keys, CacheResult<object?>[] entries, ISerializer? serializer)
    {
        var effective = serializer ?? Serializer;
        if (TaggedOf(keys, entries, effective) is { } tagged)
        {
            ((ITagHost)this).Tags.CheckAll(tagged.Select(static t => t.Tags));
            return DecodeAll<T>(keys, entries, effective, tagged);
        }

        return DecodeAll<T>(keys, entries, effective, null);
    }

    /// <inheritdoc cref="DecodeAll{T}(string[], CacheResult{object?}[], ISerializer?)"/>
    private async ValueTask<CacheResult<T>[]> DecodeAllAsync<T>(string[] keys, CacheResult<object?>[] entries, ISerializer? serializer, CancellationToken cancellationToken)
    {
        var effective = serializer ?? Serializer;
        if (TaggedOf(keys, entries, effective) is { } tagged)
        {
            await ((ITagHost)this).Tags.CheckAllAsync(tagged.Select(static t => t.Tags), cancellationToken).ConfigureAwait(false);
            return DecodeAll<T>(keys, entries, effective, tagged);
        }

        return DecodeAll<T>(keys, entries, effective, null);
    }

    /// <summary>
    /// The tagged entries a plain batch read found, unwrapped once, so that their tags are checked together (one read of
    /// their union) rather than one round trip each; <c>null</c> when there are none.
    /// </summary>
    private static List<(int Index, long FreshUntil, TagStamp Tags, object? Value)>? TaggedOf(string[] keys, CacheResult<object?>[] entries, ISerializer serializer)
    {
        if (entries.Length != keys.Length)
        {
            throw new CacheException($"The backend returned {entries.Length} values for {keys.Length} keys.");
        }

        List<(int, long, TagStamp, object?)>? tagged = null;
        if (serializer is IPayloadAdopter { ReadsStale: true })
        {
            return null;
        }

        for (var i = 0; i < entries.Length; i++)
        {
            if (entries[i].Found && StampFormat.IsTagged(entries[i].Value) && StampFormat.TryUnwrap(entries[i].Value, out var freshUntil, out var tags, out var value))
            {
                (tagged ??= []).Add((i, freshUntil, tags!, value));
            }
        }

        return tagged;
    }

    private CacheResult<T>[] DecodeAll<T>(string[] keys, CacheResult<object?>[] entries, ISerializer serializer, List<(int Index, long FreshUntil, TagStamp Tags, object? Value)>? tagged)
    {
        var results = new CacheResult<T>[keys.Length];
        var next = 0;
        var now = tagged is null ? 0 : StampClock.UnixNow(TimeProvider);
        for (var i = 0; i < keys.Length; i++)
        {
            if (tagged is not null && next < tagged.Count && tagged[next].Index == i)
            {
                var entry = tagged[next++];
                results[i] = DecodeStamped<T>(keys[i], IsFresh(entries[i].Value, entry.FreshUntil, now) && entry.Tags.IsCurrent, entries[i].Value, entry.Value, serializer);
            }
            else if (entries[i].Found)
            {
                results[i] = DecodeFound<T>(keys[i], entries[i].Value, serializer);
            }
        }

        return results;
    }

    private static T?[] ValuesOf<T>(CacheResult<T>[] results)
    {
        var values = new T?[results.Length];
        for (var i = 0; i < results.Length; i++)
        {
            values[i] = results[i].Value;
        }

        return values;
    }

    /// <summary>How reads describe their outcome to the post hooks: the value (or the list of values) and the hits.</summary>
    /// <remarks>
    /// A stamped entry read whole (by <c>GetOrSet</c> and generated methods) is found even when it is stale or its tags
    /// were invalidated, as fail-safe needs; it counts as a miss then, as a plain read of it is one.
    /// </remarks>
    /// <summary>What a read of one entry reports to the post hooks and telemetry: its value, and 1 hit when found.</summary>
    internal static CommandOutcome ReadOutcome<T>(CacheResult<T> result) => Outcomes<T>.Read(result);

    private static class Outcomes<T>
    {
        public static readonly Func<CacheResult<T>, CommandOutcome> Read
            = static result => new CommandOutcome(result.Value, IsHit(result) ? 1 : 0);

        public static readonly Func<CacheResult<T>[], CommandOutcome> Batch = static results =>
        {
            var hits = 0;
            foreach (var result in results)
            {
                hits += IsHit(result) ? 1 : 0;
            }

            return new CommandOutcome(ValuesOf(results), hits);
        };

        private static bool IsHit(CacheResult<T> result) => result.Found && (result.Value is not IStamped stamped || stamped.CountsAsHit);
    }
}
