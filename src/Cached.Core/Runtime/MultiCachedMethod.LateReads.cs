using Cached.Resilience;

namespace Cached.Runtime;

/// <summary>
/// The second read of a batch that boards after another batch stored some of its keys: its read began before that
/// store, and the other batch has left the board since, so nothing else would tell it the keys are there now. As a
/// single key's late leader does (<see cref="FillCompletions"/>), it reads again the keys of the stripes a batch stored
/// in since its read began, and asks its body only for those still missing.
/// </summary>
public sealed partial class MultiCachedMethod<TKey, TValue>
{
    // The batches of this method that stored, by the stripe of each key: a mutable struct, never copied.
    private FillCompletions _completions;

    /// <summary>Notes the stores so far, just before the batch's read.</summary>
    private long NoteCompletions() => _completions.Note();

    /// <summary>Records the keys a batch stored, before it leaves the board (a later batch that boards then sees them).</summary>
    private void Stored<T>(List<KeyValuePair<string, T>> stored) => _completions.RecordAll(stored);

    /// <summary>
    /// The keys this batch leads that another batch may have stored since <paramref name="noted"/>, with their cache
    /// keys; false when there are none (the usual case: one volatile read).
    /// </summary>
    private bool TryLateKeys(BatchFlight? flight, long? noted, out List<TKey> keys, out string[] cacheKeys)
    {
        keys = null!;
        cacheKeys = null!;
        if (flight is null || noted is not { } before || flight.Owned.Count == 0)
        {
            return false;
        }

        List<string>? late = null;
        for (var i = 0; i < flight.Owned.Count; i++)
        {
            var cacheKey = flight.OwnedCacheKeys[i];
            if (cacheKey.Length > 0 && _completions.MayHaveStored(cacheKey, before))
            {
                (late ??= []).Add(cacheKey);
                (keys ??= []).Add(flight.Owned[i]);
            }
        }

        if (late is null)
        {
            return false;
        }

        cacheKeys = [.. late];
        return true;
    }

    /// <summary>
    /// The keys the batch leads less those the second read found (now in <paramref name="result"/>), which leave the
    /// board: a batch that misses one later reads it rather than wait for this batch's body. Those that joined for one
    /// still get it from this batch, and still learn of an invalidation: its fill opened before the second read.
    /// </summary>
    private List<TKey> StillMissing(BatchFlight flight, List<TKey> late, string[] lateCacheKeys, Dictionary<TKey, TValue> result)
    {
        var found = 0;
        for (var i = 0; i < late.Count; i++)
        {
            if (result.ContainsKey(late[i]))
            {
                flight.Unboard(_flying, lateCacheKeys[i]);
                found++;
            }
        }

        if (found == 0)
        {
            return flight.Owned;
        }

        var missing = new List<TKey>(flight.Owned.Count - found);
        for (var i = 0; i < flight.Owned.Count; i++)
        {
            // Only the keys read again can be in the result: the others missed in the first read.
            if (flight.OwnedCacheKeys[i].Length == 0 || !result.ContainsKey(flight.Owned[i]))
            {
                missing.Add(flight.Owned[i]);
            }
        }

        return missing;
    }

    /// <summary>
    /// The keys the body computes when a second read was due: those the batch leads, less those the second read found
    /// stored by another batch since its read began (added to <paramref name="result"/>, where the batches waiting for
    /// this one find them too); null when no second read was due, the body then computing every key the batch leads.
    /// Called once the batch's fills are open.
    /// </summary>
    private List<TKey>? ReadLate(ICache cache, BatchFlight? flight, long? noted, Dictionary<TKey, TValue> result)
    {
        if (!TryLateKeys(flight, noted, out var late, out var cacheKeys))
        {
            return null;
        }

        try
        {
            Merge(late, ReadAll<TValue>(cache, cacheKeys, serializer: null), result, _options.NullValuesMiss);
        }
        catch (Exception ex) when (CachedMethod<TValue>.IsFault(ex, CancellationToken.None))
        {
            ReadFailed(cache, ex, cacheKeys);
        }

        return StillMissing(flight!, late, cacheKeys, result);
    }

    /// <inheritdoc cref="ReadLate"/>
    private async ValueTask<List<TKey>?> ReadLateAsync(ICache cache, BatchFlight? flight, long? noted, Dictionary<TKey, TValue> result, CancellationToken cancellationToken)
    {
        if (!TryLateKeys(flight, noted, out var late, out var cacheKeys))
        {
            return null;
        }

        try
        {
            Merge(late, await ReadAllAsync<TValue>(cache, cacheKeys, serializer: null, cancellationToken).ConfigureAwait(false), result, _options.NullValuesMiss);
        }
        catch (Exception ex) when (CachedMethod<TValue>.IsFault(ex, cancellationToken))
        {
            ReadFailed(cache, ex, cacheKeys);
        }

        return StillMissing(flight!, late, cacheKeys, result);
    }

    /// <summary>
    /// <see cref="ReadLate"/> for stamped entries: a fresh one answers; a stale one is the key's last value for
    /// fail-safe, in place of the one the first read found, and a key the second read finds gone has none.
    /// </summary>
    private List<TKey>? ReadLateStamped<TState>(ICache cache, ReadThroughs host, BatchFlight? flight, long? noted, Dictionary<TKey, TValue> result, ref Dictionary<TKey, Stamped<TValue>>? last, TState state, Func<TState, TKey, string[]>? tagsOf)
    {
        if (!TryLateKeys(flight, noted, out var late, out var cacheKeys))
        {
            return null;
        }

        try
        {
            var hits = ForRead(ReadAll<Stamped<TValue>>(cache, cacheKeys, StampsFor(cache, host)));
            Tags.TagStore.Of(cache).CheckAll(TagsOf(hits));
            MergeStamped(late, hits, result, _options.NullValuesMiss, state, tagsOf, out var lateLast);
            last = KeepLast(last, late, lateLast);
        }
        catch (Exception ex) when (CachedMethod<TValue>.IsFault(ex, CancellationToken.None))
        {
            ReadFailed(cache, ex, cacheKeys);
        }

        return StillMissing(flight!, late, cacheKeys, result);
    }

    /// <inheritdoc cref="ReadLateStamped"/>
    private async ValueTask<(List<TKey>? Missing, Dictionary<TKey, Stamped<TValue>>? Last)> ReadLateStampedAsync<TState>(ICache cache, ReadThroughs host, BatchFlight? flight, long? noted, Dictionary<TKey, TValue> result, Dictionary<TKey, Stamped<TValue>>? last, TState state, Func<TState, TKey, string[]>? tagsOf, CancellationToken cancellationToken)
    {
        if (!TryLateKeys(flight, noted, out var late, out var cacheKeys))
        {
            return (null, last);
        }

        try
        {
            var hits = ForRead(await ReadAllAsync<Stamped<TValue>>(cache, cacheKeys, StampsFor(cache, host), cancellationToken).ConfigureAwait(false));
            await Tags.TagStore.Of(cache).CheckAllAsync(TagsOf(hits), cancellationToken).ConfigureAwait(false);
            MergeStamped(late, hits, result, _options.NullValuesMiss, state, tagsOf, out var lateLast);
            last = KeepLast(last, late, lateLast);
        }
        catch (Exception ex) when (CachedMethod<TValue>.IsFault(ex, cancellationToken))
        {
            ReadFailed(cache, ex, cacheKeys);
        }

        return (StillMissing(flight!, late, cacheKeys, result), last);
    }

    /// <summary>The last values after a second read of <paramref name="late"/>: what it found replaces what the first read found.</summary>
    private static Dictionary<TKey, Stamped<TValue>>? KeepLast(Dictionary<TKey, Stamped<TValue>>? last, List<TKey> late, Dictionary<TKey, Stamped<TValue>>? found)
    {
        foreach (var key in late)
        {
            if (found is not null && found.TryGetValue(key, out var stamped))
            {
                (last ??= [])[key] = stamped;
            }
            else
            {
                last?.Remove(key);
            }
        }

        return last;
    }
}
