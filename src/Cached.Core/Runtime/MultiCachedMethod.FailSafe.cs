using Cached.Capabilities;
using Cached.Resilience;

namespace Cached.Runtime;

/// <summary>
/// <see cref="CachedMethodOptions.FailSafe"/> on a multi-cached method: entries are stamped, a stale entry is read as a
/// miss whose last value is kept, and when the body fails for keys that all have a last value, the call answers with
/// them (each made fresh again for the throttle) instead of failing. A body failing for a key with no last value
/// fails the call, as without fail-safe.
/// </summary>
public sealed partial class MultiCachedMethod<TKey, TValue>
{
    private StampSerializer<TValue>? _stamps;

    private Dictionary<TKey, TValue> InvokeFailSafe<TState>(List<TKey> wanted, string[] cacheKeys, UncachedKeys? uncached, ICache cache, bool refused, TState state, Func<TState, TKey, string> cacheKeyOf, Func<TState, List<TKey>, IEnumerable<KeyValuePair<TKey, TValue>>?> body, Func<TState, TKey, TValue, bool>? skipWhen, Func<TState, TKey, string[]>? tagsOf, bool join)
    {
        var host = ReadThroughs.Of(cache);
        var result = new Dictionary<TKey, TValue>(wanted.Count);
        var missing = wanted;
        Dictionary<TKey, Stamped<TValue>>? last = null;
        long? noted = null;
        if (wanted.Count > 0 && !refused && !CacheScope.IsReadSkipped)
        {
            IReadOnlyList<CacheResult<Stamped<TValue>>>? hits = null;
            noted = NoteCompletions();
            try
            {
                hits = ForRead(ReadAll<Stamped<TValue>>(cache, cacheKeys, StampsFor(cache, host)));
                NoteAnswer(cache);
                Tags.TagStore.Of(cache).CheckAll(TagsOf(hits));
            }
            catch (Exception ex) when (CachedMethod<TValue>.IsFault(ex, CancellationToken.None))
            {
                ReadFailed(cache, ex, cacheKeys);
                noted = null;
            }

            missing = MergeStamped(wanted, hits, result, _options.NullValuesMiss, state, tagsOf, out last);
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
            var tags = refused ? null : ObserveTags(cache, own, state, cacheKeyOf, tagsOf);
            fills = refused ? null : OpenFills(cache, own, state, cacheKeyOf);
            flight?.Opened(fills);
            var compute = ReadLateStamped(cache, host, flight, noted, result, ref last, state, tagsOf) ?? own;
            // A key that can have no entry has no last value either: with one among them a failing body fails the call.
            var asked = ToCompute(compute, uncached);
            IEnumerable<KeyValuePair<TKey, TValue>>? fresh = null;
            var servedLast = false;
            try
            {
                fresh = AsksBody(flight, compute, uncached) ? CallBody(body, state, asked) : null;
            }
            catch (Exception ex) when (Covers(last, asked))
            {
                ServeLast(cache, host, ex, asked, last!, result, fills, state, cacheKeyOf, tags);
                servedLast = true;
            }

            var toStore = servedLast ? [] : OnlyAsked(Absorb(fresh, cache, state, cacheKeyOf, skipWhen, result), compute, state, cacheKeyOf, tagsOf);
            LandBeforeTags(flight, tags, result);
            if (toStore.Count > 0 && !refused && !CacheScope.IsWriteSkipped && fills is not null && tags is not { Failed: true })
            {
                var (stamped, ttl) = Stamp(cache, host, toStore, tags);
                if (RetainTags(cache, tags, ttl, toStore))
                {
                    Store(cache, stamped, fills, ttl, StampsFor(cache, host));
                    Stored(toStore);
                }
                else
                {
                    flight?.Overtake();
                }
            }

            Land(flight, result);
        }
        finally
        {
            Leave(flight);
            Close(fills);
        }

        return flight?.Waits is null ? result : TakeOthers(flight, result, state, cacheKeyOf, body, skipWhen, tagsOf);
    }

    private async ValueTask<Dictionary<TKey, TValue>> InvokeFailSafeAsync<TState>(List<TKey> wanted, string[] cacheKeys, UncachedKeys? uncached, ICache cache, bool refused, TState state, Func<TState, TKey, string> cacheKeyOf, Func<TState, List<TKey>, CancellationToken, ValueTask<IEnumerable<KeyValuePair<TKey, TValue>>?>> body, Func<TState, TKey, TValue, bool>? skipWhen, Func<TState, TKey, string[]>? tagsOf, bool join, CancellationToken cancellationToken)
    {
        var host = ReadThroughs.Of(cache);
        var result = new Dictionary<TKey, TValue>(wanted.Count);
        var missing = wanted;
        Dictionary<TKey, Stamped<TValue>>? last = null;
        long? noted = null;
        if (wanted.Count > 0 && !refused && !CacheScope.IsReadSkipped)
        {
            IReadOnlyList<CacheResult<Stamped<TValue>>>? hits = null;
            noted = NoteCompletions();
            try
            {
                hits = ForRead(await ReadAllAsync<Stamped<TValue>>(cache, cacheKeys, StampsFor(cache, host), cancellationToken).ConfigureAwait(false));
                NoteAnswer(cache);
                await Tags.TagStore.Of(cache).CheckAllAsync(TagsOf(hits), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (CachedMethod<TValue>.IsFault(ex, cancellationToken))
            {
                ReadFailed(cache, ex, cacheKeys);
                noted = null;
            }

            missing = MergeStamped(wanted, hits, result, _options.NullValuesMiss, state, tagsOf, out last);
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
            var tags = refused ? null : await ObserveTagsAsync(cache, own, state, cacheKeyOf, tagsOf, cancellationToken).ConfigureAwait(false);
            fills = refused ? null : await OpenFillsAsync(cache, own, state, cacheKeyOf, cancellationToken).ConfigureAwait(false);
            flight?.Opened(fills);
            var (late, lateLast) = await ReadLateStampedAsync(cache, host, flight, noted, result, last, state, tagsOf, cancellationToken).ConfigureAwait(false);
            var compute = late ?? own;
            last = lateLast;
            // A key that can have no entry has no last value either: with one among them a failing body fails the call.
            var asked = ToCompute(compute, uncached);
            IEnumerable<KeyValuePair<TKey, TValue>>? fresh = null;
            var servedLast = false;
            try
            {
                fresh = AsksBody(flight, compute, uncached) ? await StartBody(body, state, asked, cancellationToken).ConfigureAwait(false) : null;
            }
            catch (Exception ex) when (Covers(last, asked) && CachedMethod<TValue>.IsFault(ex, cancellationToken))
            {
                ServeLast(cache, host, ex, asked, last!, result, fills, state, cacheKeyOf, tags);
                servedLast = true;
            }

            var toStore = servedLast ? [] : OnlyAsked(Absorb(fresh, cache, state, cacheKeyOf, skipWhen, result), compute, state, cacheKeyOf, tagsOf);
            LandBeforeTags(flight, tags, result);
            if (toStore.Count > 0 && !refused && !CacheScope.IsWriteSkipped && fills is not null && tags is not { Failed: true })
            {
                var (stamped, ttl) = Stamp(cache, host, toStore, tags);
                if (await RetainTagsAsync(cache, tags, ttl, toStore).ConfigureAwait(false))
                {
                    await StoreAsync(cache, stamped, fills, ttl, StampsFor(cache, host), cancellationToken).ConfigureAwait(false);
                    Stored(toStore);
                }
                else
                {
                    flight?.Overtake();
                }
            }

            Land(flight, result);
        }
        finally
        {
            Leave(flight);
            Close(fills);
        }

        return flight?.Waits is null ? result : await TakeOthersAsync(flight, result, state, cacheKeyOf, body, skipWhen, tagsOf, cancellationToken).ConfigureAwait(false);
    }

    private StampSerializer<TValue> StampsFor(ICache cache, ReadThroughs host) => StampSerializer<TValue>.For(ref _stamps, cache, host.Clock);

    /// <summary>
    /// Copies the fresh hits into <paramref name="result"/>; a stale one, or an untagged one a tagged key cannot answer
    /// with (<see cref="CanAnswer"/>), is a miss whose last value is kept.
    /// </summary>
    private static List<TKey> MergeStamped<TState>(List<TKey> wanted, IReadOnlyList<CacheResult<Stamped<TValue>>>? hits, Dictionary<TKey, TValue> result, bool nullValuesMiss, TState state, Func<TState, TKey, string[]>? tagsOf, out Dictionary<TKey, Stamped<TValue>>? last)
    {
        last = null;
        if (hits is null)
        {
            return wanted;
        }

        var missing = new List<TKey>();
        for (var i = 0; i < wanted.Count; i++)
        {
            if (hits[i] is { Found: true, Value: { } stamped } && !(nullValuesMiss && stamped.Value is null))
            {
                if (Stamping.IsFresh(stamped) && CanAnswer(stamped, wanted[i], state, tagsOf))
                {
                    result[wanted[i]] = stamped.Value;
                    continue;
                }

                (last ??= [])[wanted[i]] = stamped;
            }

            missing.Add(wanted[i]);
        }

        return missing;
    }

    /// <summary>
    /// True when every key the body was asked for has a last value to answer with, still kept by fail-safe now: a window
    /// that ended while the body ran leaves its key with nothing to answer with.
    /// </summary>
    private bool Covers(Dictionary<TKey, Stamped<TValue>>? last, List<TKey> missing)
        => _policy.FailSafe is not null && last is not null && missing.TrueForAll(key => key is not null && last.TryGetValue(key, out var stale) && Stamping.IsKept(stale));

    private (List<KeyValuePair<string, Stamped<TValue>>> Stamped, TimeSpan? Ttl) Stamp(ICache cache, ReadThroughs host, List<KeyValuePair<string, TValue>> toStore, ObservedTags? tags)
    {
        var stamped = new List<KeyValuePair<string, Stamped<TValue>>>(toStore.Count);
        TimeSpan? ttl = null;
        foreach (var (key, value) in toStore)
        {
            stamped.Add(new(key, Stamping.Stamp(cache, host.Clock, _policy, value, tags?.Of(key), out ttl)));
        }

        return (stamped, ttl);
    }

    /// <summary>
    /// Whether the backend still holds the entry read as <paramref name="cacheKey"/>'s last value: a write between the
    /// batch read and the fills' open is one their fences cannot see (see <c>CachedMethod.StillHolds</c>). A fault reads
    /// as no.
    /// </summary>
    private bool StillHolds(ICache cache, ReadThroughs host, string cacheKey, Stamped<TValue> stale, out bool unreadable)
    {
        unreadable = false;
        try
        {
            var stamps = StampsFor(cache, host);
            return Stamping.HolderOf(cache).TryGet<Stamped<TValue>>(cacheKey, out var now, _options.Namespace, stamps)
                && Stamping.IsSameEntry(stale, now?.ForRead(), stamps.Inner);
        }
        catch (Exception ex) when (CachedMethod<TValue>.IsFault(ex, CancellationToken.None))
        {
            ReadFailed(cache, ex, [cacheKey]);
            unreadable = true;
            return false;
        }
    }

    /// <summary>
    /// The body failed for keys that all have a last value: the call answers with them, each written back fresh for
    /// the throttle (through its fill, so an invalidation meanwhile still wins), and the failure is logged and counted.
    /// </summary>
    private void ServeLast<TState>(ICache cache, ReadThroughs host, Exception exception, List<TKey> missing, Dictionary<TKey, Stamped<TValue>> last, Dictionary<TKey, TValue> result, Dictionary<string, FillTicket>? fills, TState state, Func<TState, TKey, string> cacheKeyOf, ObservedTags? tags)
    {
        var alias = LogAlias;
        var cacheKeys = new List<string>(missing.Count);
        foreach (var key in missing)
        {
            var stale = last[key];
            result[key] = stale.Value;
            var cacheKey = cacheKeyOf(state, key);
            cacheKeys.Add(cacheKey);
            var tagged = tags?.Of(cacheKey);
            var (throttled, ttl) = Stamping.Throttle(stale, _policy, host.Clock, tagged);
            if (throttled is null || CacheScope.IsWriteSkipped)
            {
                continue;
            }

            // No fills: they failed to open, as when the backend (a two-level cache's L2) cannot be reached.
            var unreadable = fills is null;
            if (!unreadable && StillHolds(cache, host, cacheKey, stale, out unreadable)
                && RetainTags(cache, tags, ttl, new List<KeyValuePair<string, TValue>> { new(cacheKey, stale.Value) }))
            {
                Store(cache, [new KeyValuePair<string, Stamped<TValue>>(cacheKey, throttled)], fills!, ttl, StampsFor(cache, host));
                // As a single key's throttle: a batch whose read found the stale entry reads it again rather than ask the failing source.
                _completions.Record(cacheKey);
            }
            else if (unreadable && tagged is null && cache is MultiLevelCache levels)
            {
                // As a single key's throttle does (CachedMethod.ThrottleInL1): fresh again in this node's L1 alone.
                var stamps = StampsFor(cache, host);
                levels.ThrottleInL1(cacheKey, _options.Namespace, throttled, ttl, stamps, now => Stamping.IsSameEntry(stale, now?.ForRead(), stamps.Inner));
            }
        }

        ResilienceTelemetry.StaleServed(alias, _options.Method);
        Log.FailSafeServed(CachedLogging.Logger, exception, string.Join(",", cacheKeys), _options.Method, alias, _policy.FailSafeThrottle);
    }
}
