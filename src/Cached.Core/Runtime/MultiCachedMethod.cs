using Cached.Capabilities;
using Cached.Resilience;
using Cached.Serializers;
using System.ComponentModel;

namespace Cached.Runtime;

/// <summary>
/// The behaviour of one generated <see cref="MultiCachedAttribute"/> method (aiocache's <c>multi_cached</c>): one
/// <c>MultiGet</c> for the keys, the body called only with the missing keys (never when all hit), the body's entries
/// stored with one <c>MultiSet</c>, hits and fresh entries merged. Cache faults are survived (fail-open); a serializer
/// that cannot carry the value type is reported once and the method runs uncached on that cache. Used by generated code.
/// </summary>
/// <typeparam name="TKey">The element type of the keys parameter.</typeparam>
/// <typeparam name="TValue">The dictionary's value type.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed partial class MultiCachedMethod<TKey, TValue> : ICachedMethod
    where TKey : notnull
{
    private readonly CachedMethodOptions _options;
    private readonly EntryPolicy _policy;
    private CacheResolver _cache;
    private TypeRefusal _refusal;

    /// <summary>Creates the shared state of one method.</summary>
    public MultiCachedMethod(CachedMethodOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _policy = options.Policy;
    }

    /// <summary>The cache this method uses, resolved on first use.</summary>
    public ICache CurrentCache => _cache.Get(_options);

    /// <summary>The cache's name in logs; only read on a fault.</summary>
    private string LogAlias => _options.DescribeCache(CurrentCache);

    /// <summary>Runs a sync multi-cached method.</summary>
    /// <param name="keys">The keys as the caller passed them (<c>null</c> reads as none).</param>
    /// <param name="state">The instance and arguments, for the static lambdas.</param>
    /// <param name="cacheKeyOf">Turns a key into its cache key.</param>
    /// <param name="body">Calls the implementation with the missing keys (the lambda converts them to the parameter's type).</param>
    /// <param name="skipWhen">True for an entry that must not be stored.</param>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0027:API with optional parameter(s) should have the most parameters amongst its public overloads", Justification = "Called by generated code, which passes every argument; the optional one serves hand-written tests.")]
    public Dictionary<TKey, TValue> Invoke<TState>(IEnumerable<TKey>? keys, TState state, Func<TState, TKey, string> cacheKeyOf, Func<TState, List<TKey>, IEnumerable<KeyValuePair<TKey, TValue>>?> body, Func<TState, TKey, TValue, bool>? skipWhen = null)
    {
        ArgumentNullException.ThrowIfNull(cacheKeyOf);
        ArgumentNullException.ThrowIfNull(body);
        var wanted = Plan(keys, state, cacheKeyOf, out var cache, out var cacheKeys, out var uncached);
        return Run(cache, wanted, cacheKeys, uncached, state, cacheKeyOf, body, skipWhen, tagsOf: null, join: true);
    }

    /// <summary>
    /// Runs a call for its distinct <paramref name="wanted"/> keys: the stamped path with fail-safe or tags, the plain
    /// one otherwise. <paramref name="join"/> is false for keys whose other batch failed, which this call computes itself.
    /// </summary>
    private Dictionary<TKey, TValue> Run<TState>(ICache cache, List<TKey> wanted, string[] cacheKeys, UncachedKeys? uncached, TState state, Func<TState, TKey, string> cacheKeyOf, Func<TState, List<TKey>, IEnumerable<KeyValuePair<TKey, TValue>>?> body, Func<TState, TKey, TValue, bool>? skipWhen, Func<TState, TKey, string[]>? tagsOf, bool join)
    {
        var refused = _refusal.Refuses(cache);
        if (_policy.Stamps || tagsOf is not null)
        {
            return InvokeFailSafe(wanted, cacheKeys, uncached, cache, refused, state, cacheKeyOf, body, skipWhen, tagsOf, join);
        }

        var result = new Dictionary<TKey, TValue>(wanted.Count);
        var missing = wanted;
        long? noted = null;
        if (wanted.Count > 0 && !refused && !CacheScope.IsReadSkipped)
        {
            if (uncached is null && TryHitAll(wanted, cacheKeys, result))
            {
                return result;
            }

            IReadOnlyList<CacheResult<TValue>>? hits = null;
            noted = NoteCompletions();
            try
            {
                hits = ReadAll<TValue>(cache, cacheKeys, serializer: null);
                NoteAnswer(cache);
            }
            catch (Exception ex) when (CachedMethod<TValue>.IsFault(ex, CancellationToken.None))
            {
                ReadFailed(cache, ex, cacheKeys);
                noted = null;
            }

            missing = Merge(wanted, hits, result, _options.NullValuesMiss);
            if (missing.Count == 0 && uncached is null)
            {
                return result;
            }
        }

        var flight = refused ? null : Lead(cache, missing, state, cacheKeyOf, join);
        var own = flight?.Owned ?? missing;
        Dictionary<string, FillTicket>? fills = null;
        try
        {
            fills = refused ? null : OpenFills(cache, own, state, cacheKeyOf);
            flight?.Opened(fills);
            var compute = ReadLate(cache, flight, noted, result) ?? own;
            var fresh = AsksBody(flight, compute, uncached) ? CallBody(body, state, ToCompute(compute, uncached)) : null;
            var toStore = Absorb(fresh, cache, state, cacheKeyOf, skipWhen, result);
            Land(flight, result);
            if (toStore.Count > 0 && !refused && !CacheScope.IsWriteSkipped && fills is not null)
            {
                Store(cache, toStore, fills, _policy.Ttl, serializer: null);
                Stored(toStore);
            }
        }
        finally
        {
            Leave(flight);
            Close(fills);
        }

        return flight?.Waits is null ? result : TakeOthers(flight, result, state, cacheKeyOf, body, skipWhen, tagsOf);
    }

    /// <summary>Runs an async multi-cached method.</summary>
    /// <inheritdoc cref="Invoke{TState}(IEnumerable{TKey}?, TState, Func{TState, TKey, string}, Func{TState, List{TKey}, IEnumerable{KeyValuePair{TKey, TValue}}?}, Func{TState, TKey, TValue, bool}?)" path="/param"/>
    public ValueTask<Dictionary<TKey, TValue>> InvokeAsync<TState>(IEnumerable<TKey>? keys, TState state, Func<TState, TKey, string> cacheKeyOf, Func<TState, List<TKey>, CancellationToken, ValueTask<IEnumerable<KeyValuePair<TKey, TValue>>?>> body, Func<TState, TKey, TValue, bool>? skipWhen, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cacheKeyOf);
        ArgumentNullException.ThrowIfNull(body);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<Dictionary<TKey, TValue>>(cancellationToken);
        }

        var wanted = Plan(keys, state, cacheKeyOf, out var cache, out var cacheKeys, out var uncached);
        return RunAsync(cache, wanted, cacheKeys, uncached, state, cacheKeyOf, body, skipWhen, tagsOf: null, join: true, cancellationToken);
    }

    /// <inheritdoc cref="Run"/>
    private async ValueTask<Dictionary<TKey, TValue>> RunAsync<TState>(ICache cache, List<TKey> wanted, string[] cacheKeys, UncachedKeys? uncached, TState state, Func<TState, TKey, string> cacheKeyOf, Func<TState, List<TKey>, CancellationToken, ValueTask<IEnumerable<KeyValuePair<TKey, TValue>>?>> body, Func<TState, TKey, TValue, bool>? skipWhen, Func<TState, TKey, string[]>? tagsOf, bool join, CancellationToken cancellationToken)
    {
        var refused = _refusal.Refuses(cache);
        if (_policy.Stamps || tagsOf is not null)
        {
            return await InvokeFailSafeAsync(wanted, cacheKeys, uncached, cache, refused, state, cacheKeyOf, body, skipWhen, tagsOf, join, cancellationToken).ConfigureAwait(false);
        }

        var result = new Dictionary<TKey, TValue>(wanted.Count);
        var missing = wanted;
        long? noted = null;
        if (wanted.Count > 0 && !refused && !CacheScope.IsReadSkipped)
        {
            if (uncached is null && !cancellationToken.IsCancellationRequested && TryHitAll(wanted, cacheKeys, result))
            {
                return result;
            }

            IReadOnlyList<CacheResult<TValue>>? hits = null;
            noted = NoteCompletions();
            try
            {
                hits = await ReadAllAsync<TValue>(cache, cacheKeys, serializer: null, cancellationToken).ConfigureAwait(false);
                NoteAnswer(cache);
            }
            catch (Exception ex) when (CachedMethod<TValue>.IsFault(ex, cancellationToken))
            {
                ReadFailed(cache, ex, cacheKeys);
                noted = null;
            }

            missing = Merge(wanted, hits, result, _options.NullValuesMiss);
            if (missing.Count == 0 && uncached is null)
            {
                return result;
            }
        }

        var flight = refused ? null : Lead(cache, missing, state, cacheKeyOf, join);
        var own = flight?.Owned ?? missing;
        Dictionary<string, FillTicket>? fills = null;
        try
        {
            fills = refused ? null : await OpenFillsAsync(cache, own, state, cacheKeyOf, cancellationToken).ConfigureAwait(false);
            flight?.Opened(fills);
            var compute = await ReadLateAsync(cache, flight, noted, result, cancellationToken).ConfigureAwait(false) ?? own;
            var fresh = AsksBody(flight, compute, uncached) ? await StartBody(body, state, ToCompute(compute, uncached), cancellationToken).ConfigureAwait(false) : null;
            var toStore = Absorb(fresh, cache, state, cacheKeyOf, skipWhen, result);
            Land(flight, result);
            if (toStore.Count > 0 && !refused && !CacheScope.IsWriteSkipped && fills is not null)
            {
                await StoreAsync(cache, toStore, fills, _policy.Ttl, serializer: null, cancellationToken).ConfigureAwait(false);
                Stored(toStore);
            }
        }
        finally
        {
            Leave(flight);
            Close(fills);
        }

        return flight?.Waits is null ? result : await TakeOthersAsync(flight, result, state, cacheKeyOf, body, skipWhen, tagsOf, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A read of <paramref name="cache"/> succeeded: the end of its outage, if one is in progress (one volatile read otherwise).</summary>
    private void NoteAnswer(ICache cache)
    {
        if (CacheFaults.AnyOutage)
        {
            CacheFaults.Answered(cache, LogAlias);
        }
    }

    /// <summary>Logs a failed read of the batch, unless the cache's serializer refused the value type (logged once).</summary>
    private void ReadFailed(ICache cache, Exception exception, string[] cacheKeys)
    {
        if (!_refusal.Note(exception, cache, _options) && CacheFaults.Note(cache, exception, LogAlias))
        {
            Log.ReadFailed(CachedLogging.Logger, exception, string.Join(",", cacheKeys), _options.Method, LogAlias);
        }
    }

    /// <summary>Logs a failed write of the batch, unless the cache's serializer refused the value type (logged once).</summary>
    private void WriteFailed<TStored>(ICache cache, Exception exception, List<KeyValuePair<string, TStored>> toStore)
    {
        if (!_refusal.Note(exception, cache, _options) && CacheFaults.Note(cache, exception, LogAlias))
        {
            Log.WriteFailed(CachedLogging.Logger, exception, string.Join(",", toStore.Select(static pair => pair.Key)), _options.Method, LogAlias);
        }
    }

    /// <summary>
    /// The batch's hit path on an in-process cache that reads by span (the same conditions as a single hit's): every
    /// key looked up without the command's arrays and namespaced key strings. True only when every key hit, with
    /// <paramref name="result"/> filled; otherwise <paramref name="result"/> is left empty and the ordinary
    /// <c>MultiTryGet</c> runs, which reads, counts and reports everything as usual.
    /// </summary>
    private bool TryHitAll(List<TKey> wanted, string[] cacheKeys, Dictionary<TKey, TValue> result)
    {
        var resolution = _cache.Last;
        if (resolution is not { SpanReader: { } reader }
            || resolution.Version != Caches.Version
            || !CacheScope.NoneOpen
            || !SpanHits.Open)
        {
            return false;
        }

        for (var i = 0; i < cacheKeys.Length; i++)
        {
            var key = cacheKeys[i];
            if (string.IsNullOrEmpty(key) || reader.TryReadBySpan(key, resolution.SpanNamespace, out var payload) != SpanRead.Hit)
            {
                result.Clear();
                return false;
            }

            // A null the values cannot hold (NullValuesMiss) is a miss: the ordinary path asks the body for it.
            if (!SpanPayload<TValue>.TryTake(payload, out var value) || (value is null && _options.NullValuesMiss))
            {
                result.Clear();
                return false;
            }

            result[wanted[i]] = value;
        }

        return true;
    }

    /// <summary>Reads the keys built for this call: on a <see cref="BaseCache"/> the array is handed over, not copied.</summary>
    private IReadOnlyList<CacheResult<T>> ReadAll<T>(ICache cache, string[] cacheKeys, ISerializer? serializer)
        => cache is BaseCache ours
            ? ours.MultiTryGetOwned<T>(cacheKeys, _options.Namespace, serializer)
            : cache.MultiTryGet<T>(cacheKeys, _options.Namespace, serializer);

    /// <inheritdoc cref="ReadAll{T}"/>
    private async ValueTask<IReadOnlyList<CacheResult<T>>> ReadAllAsync<T>(ICache cache, string[] cacheKeys, ISerializer? serializer, CancellationToken cancellationToken)
        => cache is BaseCache ours
            ? await ours.MultiTryGetOwnedAsync<T>(cacheKeys, _options.Namespace, serializer, cancellationToken).ConfigureAwait(false)
            : await cache.MultiTryGetAsync<T>(cacheKeys, _options.Namespace, serializer, cancellationToken).ConfigureAwait(false);

    private static List<TKey> Distinct(IEnumerable<TKey>? keys)
    {
        if (keys is null)
        {
            return [];
        }

        // Sized from the caller's collection when it has a count, so that neither grows while filling.
        var count = keys.TryGetNonEnumeratedCount(out var known) ? known : 0;
        var list = new List<TKey>(count);
        // The set is the thread's own, taken out of its slot while in use: enumerating the caller's keys may call
        // another method of the same key type on this thread, which then makes one of its own.
        var seen = t_seen ?? new HashSet<TKey>();
        t_seen = null;
        seen.EnsureCapacity(count);
        try
        {
            foreach (var key in keys)
            {
                if (seen.Add(key))
                {
                    list.Add(key);
                }
            }
        }
        finally
        {
            seen.Clear();
            // A set grown for a very large batch is let go rather than kept for the life of the thread.
            if (seen.EnsureCapacity(0) <= MaxKeptSet)
            {
                t_seen = seen;
            }
        }

        return list;
    }

    // The set Distinct uses on this thread: a batch of a hundred keys made one of about 1.7 KB per call.
    [ThreadStatic]
    private static HashSet<TKey>? t_seen;

    private const int MaxKeptSet = 4096;

    private static string[] CacheKeys<TState>(List<TKey> keys, TState state, Func<TState, TKey, string> cacheKeyOf)
    {
        var cacheKeys = new string[keys.Count];
        for (var i = 0; i < cacheKeys.Length; i++)
        {
            // A null key is never handed to a key builder: it can have no entry (see IsUncacheable).
            cacheKeys[i] = keys[i] is null ? string.Empty : cacheKeyOf(state, keys[i]);
        }

        return cacheKeys;
    }

    /// <summary>Copies the hits into <paramref name="result"/> and returns the keys that missed, in order.</summary>
    private static List<TKey> Merge(List<TKey> wanted, IReadOnlyList<CacheResult<TValue>>? hits, Dictionary<TKey, TValue> result, bool nullValuesMiss)
    {
        if (hits is null)
        {
            return wanted;
        }

        var missing = new List<TKey>();
        for (var i = 0; i < wanted.Count; i++)
        {
            if (hits[i].Found && !(nullValuesMiss && hits[i].Value is null))
            {
                result[wanted[i]] = hits[i].Value!;
            }
            else
            {
                missing.Add(wanted[i]);
            }
        }

        return missing;
    }

    /// <summary>Adds the body's entries to <paramref name="result"/> and returns those to store, keyed by cache key.</summary>
    private static List<KeyValuePair<string, TValue>> Absorb<TState>(IEnumerable<KeyValuePair<TKey, TValue>>? fresh, ICache cache, TState state, Func<TState, TKey, string> cacheKeyOf, Func<TState, TKey, TValue, bool>? skipWhen, Dictionary<TKey, TValue> result)
    {
        var toStore = new List<KeyValuePair<string, TValue>>();
        if (fresh is null)
        {
            return toStore;
        }

        var utf8Keys = KeysAsUtf8(cache);
        foreach (var (key, value) in fresh)
        {
            result[key] = value;
            if (skipWhen is null || !skipWhen(state, key, value))
            {
                var cacheKey = cacheKeyOf(state, key);
                if (!IsUncacheable(key, cacheKey, utf8Keys))
                {
                    toStore.Add(new(cacheKey, value));
                }
            }
        }

        return toStore;
    }
}
