namespace Cached.Runtime;

/// <summary>
/// Keys of a batch that can have no entry: a null key, whose text would be the string <c>"null"</c>'s cache key, a
/// key whose cache key is empty, which a backend refuses (and with it the whole batch), and on a store of UTF-8 keys
/// (Redis, or two levels with such a level) a key whose cache key holds a lone surrogate, which that store refuses too. Such a key goes to the body
/// with the missing keys on every call and is never read, fenced, stored or invalidated, so that it costs only itself
/// its entry and a call answers the same whether the other keys are cached or not.
/// </summary>
public sealed partial class MultiCachedMethod<TKey, TValue>
{
    /// <summary>
    /// The distinct keys of a call that can be cached and their cache keys; <paramref name="uncached"/> is <c>null</c>
    /// when every key can (the usual case, which costs one check a key).
    /// </summary>
    /// <param name="keys">The keys as the caller passed them.</param>
    /// <param name="state">The instance and arguments, for the static lambdas.</param>
    /// <param name="cacheKeyOf">Turns a key into its cache key.</param>
    /// <param name="cache">The cache the call goes to, resolved once for the plan and the call: it decides whether a lone surrogate can be held.</param>
    /// <param name="cacheKeys">The cache keys of the keys returned.</param>
    /// <param name="uncached">The keys that can have no entry, or null.</param>
    private List<TKey> Plan<TState>(IEnumerable<TKey>? keys, TState state, Func<TState, TKey, string> cacheKeyOf, out ICache cache, out string[] cacheKeys, out UncachedKeys? uncached)
    {
        cache = CurrentCache;
        var utf8Keys = KeysAsUtf8(cache);
        var wanted = Distinct(keys);
        cacheKeys = CacheKeys(wanted, state, cacheKeyOf);
        uncached = null;
        bool[]? skipped = null;
        var count = 0;
        for (var i = 0; i < cacheKeys.Length; i++)
        {
            if (IsUncacheable(wanted[i], cacheKeys[i], utf8Keys))
            {
                skipped ??= new bool[cacheKeys.Length];
                skipped[i] = true;
                count++;
            }
        }

        if (skipped is null)
        {
            return wanted;
        }

        var cacheable = new List<TKey>(wanted.Count - count);
        var theirKeys = new string[wanted.Count - count];
        for (var i = 0; i < cacheKeys.Length; i++)
        {
            if (!skipped[i])
            {
                theirKeys[cacheable.Count] = cacheKeys[i];
                cacheable.Add(wanted[i]);
            }
        }

        cacheKeys = theirKeys;
        uncached = new UncachedKeys(wanted, skipped);
        return cacheable;
    }

    /// <summary>True for a key that can have no entry (see the type's remarks).</summary>
    private static bool IsUncacheable(TKey key, string? cacheKey, bool utf8Keys)
        => key is null || string.IsNullOrEmpty(cacheKey) || (utf8Keys && Guard.LoneSurrogateAt(cacheKey) >= 0);

    /// <summary>Whether <paramref name="cache"/> keeps its keys as UTF-8 (see the type's remarks).</summary>
    private static bool KeysAsUtf8(ICache cache) => cache switch
    {
        BaseCache single => single.KeysAsUtf8,
        MultiLevelCache levels => levels.KeysAsUtf8,
        _ => false,
    };

    /// <summary>
    /// The keys the body computes: the missing ones and the ones that can have no entry, in the caller's order.
    /// </summary>
    private static List<TKey> ToCompute(List<TKey> missing, UncachedKeys? uncached)
    {
        if (uncached is null)
        {
            return missing;
        }

        // The missing keys are the cacheable ones in the caller's order, less the hits: one pass merges them back.
        var all = uncached.All;
        var skipped = uncached.Skipped;
        var comparer = EqualityComparer<TKey>.Default;
        var compute = new List<TKey>(all.Count);
        var next = 0;
        for (var i = 0; i < all.Count; i++)
        {
            if (skipped[i])
            {
                compute.Add(all[i]);
            }
            else if (next < missing.Count && comparer.Equals(missing[next], all[i]))
            {
                compute.Add(all[i]);
                next++;
            }
        }

        return compute;
    }

    /// <summary>The distinct keys of a call, and which of them can have no entry.</summary>
    private sealed class UncachedKeys(List<TKey> all, bool[] skipped)
    {
        /// <summary>Every distinct key of the call, in the caller's order.</summary>
        public List<TKey> All { get; } = all;

        /// <summary>True at the positions of <see cref="All"/> that can have no entry.</summary>
        public bool[] Skipped { get; } = skipped;
    }

    /// <summary>The cache keys of the keys to invalidate, without those of keys that can have no entry.</summary>
    private static List<string> CacheKeysToDelete<TState>(IEnumerable<TKey>? keys, ICache cache, TState state, Func<TState, TKey, string> cacheKeyOf)
    {
        var utf8Keys = KeysAsUtf8(cache);
        var wanted = Distinct(keys);
        var cacheKeys = CacheKeys(wanted, state, cacheKeyOf);
        var toDelete = new List<string>(cacheKeys.Length);
        for (var i = 0; i < cacheKeys.Length; i++)
        {
            if (!IsUncacheable(wanted[i], cacheKeys[i], utf8Keys))
            {
                toDelete.Add(cacheKeys[i]);
            }
        }

        return toDelete;
    }
}
