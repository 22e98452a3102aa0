using Cached.Resilience;
using Cached.Tags;

namespace Cached.Runtime;

/// <summary>
/// Tagged multi-cached methods (<see cref="MultiCachedAttribute.Tags"/>): every entry is stamped with its own tags,
/// which may name its own key. The batch checks the tags of what it read with one read of their union, observes the
/// union of the missing keys' tags once before the body runs, and retains it once before the store.
/// </summary>
public sealed partial class MultiCachedMethod<TKey, TValue>
{
    /// <summary>Runs a sync multi-cached method whose entries carry the tags <paramref name="tags"/> builds per key (only for the keys the body computes).</summary>
    /// <inheritdoc cref="Invoke{TState}(IEnumerable{TKey}?, TState, Func{TState, TKey, string}, Func{TState, List{TKey}, IEnumerable{KeyValuePair{TKey, TValue}}?}, Func{TState, TKey, TValue, bool}?)" path="/param"/>
    public Dictionary<TKey, TValue> Invoke<TState>(IEnumerable<TKey>? keys, TState state, Func<TState, TKey, string> cacheKeyOf, Func<TState, List<TKey>, IEnumerable<KeyValuePair<TKey, TValue>>?> body, Func<TState, TKey, TValue, bool>? skipWhen, Func<TState, TKey, string[]> tags)
    {
        ArgumentNullException.ThrowIfNull(cacheKeyOf);
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(tags);
        var wanted = Plan(keys, state, cacheKeyOf, out var cache, out var cacheKeys, out var uncached);
        return Run(cache, wanted, cacheKeys, uncached, state, cacheKeyOf, body, skipWhen, tags, join: true);
    }

    /// <summary>Runs an async multi-cached method whose entries carry the tags <paramref name="tags"/> builds per key (only for the keys the body computes).</summary>
    /// <inheritdoc cref="Invoke{TState}(IEnumerable{TKey}?, TState, Func{TState, TKey, string}, Func{TState, List{TKey}, IEnumerable{KeyValuePair{TKey, TValue}}?}, Func{TState, TKey, TValue, bool}?)" path="/param"/>
    public ValueTask<Dictionary<TKey, TValue>> InvokeAsync<TState>(IEnumerable<TKey>? keys, TState state, Func<TState, TKey, string> cacheKeyOf, Func<TState, List<TKey>, CancellationToken, ValueTask<IEnumerable<KeyValuePair<TKey, TValue>>?>> body, Func<TState, TKey, TValue, bool>? skipWhen, Func<TState, TKey, string[]> tags, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cacheKeyOf);
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(tags);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<Dictionary<TKey, TValue>>(cancellationToken);
        }

        var wanted = Plan(keys, state, cacheKeyOf, out var cache, out var cacheKeys, out var uncached);
        return RunAsync(cache, wanted, cacheKeys, uncached, state, cacheKeyOf, body, skipWhen, tags, join: true, cancellationToken);
    }

    /// <summary>The hits, each with tags this read may check (see <see cref="TagStamp.ForRead"/>).</summary>
    private static CacheResult<Stamped<TValue>>[] ForRead(IReadOnlyList<CacheResult<Stamped<TValue>>> hits)
    {
        var own = new CacheResult<Stamped<TValue>>[hits.Count];
        for (var i = 0; i < own.Length; i++)
        {
            own[i] = hits[i] is { Found: true, Value: { } stamped } ? CacheResult<Stamped<TValue>>.Hit(stamped.ForRead()) : hits[i];
        }

        return own;
    }

    private static IEnumerable<TagStamp?> TagsOf(IReadOnlyList<CacheResult<Stamped<TValue>>> hits)
        => hits.Select(static hit => hit.Value?.Tags);

    /// <summary>
    /// For a tagged method, the entries of the keys the body was asked for: the tags of any other key it returned were
    /// never observed, so it cannot be stored with them (nor without them, or an invalidation would miss it).
    /// </summary>
    private static List<KeyValuePair<string, TValue>> OnlyAsked<TState>(List<KeyValuePair<string, TValue>> toStore, List<TKey> missing, TState state, Func<TState, TKey, string> cacheKeyOf, Func<TState, TKey, string[]>? tagsOf)
    {
        if (tagsOf is null || toStore.Count == 0)
        {
            return toStore;
        }

        var asked = new HashSet<string>(missing.Count, StringComparer.Ordinal);
        foreach (var key in missing)
        {
            asked.Add(cacheKeyOf(state, key));
        }

        toStore.RemoveAll(entry => !asked.Contains(entry.Key));
        return toStore;
    }

    /// <summary>The tags of the keys the body is about to compute, observed once for their union; <c>null</c> without tags.</summary>
    private ObservedTags? ObserveTags<TState>(ICache cache, List<TKey> missing, TState state, Func<TState, TKey, string> cacheKeyOf, Func<TState, TKey, string[]>? tagsOf)
    {
        if (tagsOf is null || PlanTags(missing, state, cacheKeyOf, tagsOf) is not { } plan)
        {
            return null;
        }

        try
        {
            return new ObservedTags(plan, TagStore.Of(cache).Observe(TagStore.Union(plan.Values)));
        }
        catch (Exception ex) when (CachedMethod<TValue>.IsFault(ex, CancellationToken.None))
        {
            ReadFailed(cache, ex, [.. plan.Keys]);
            return ObservedTags.FailedToObserve;
        }
    }

    /// <inheritdoc cref="ObserveTags"/>
    private async ValueTask<ObservedTags?> ObserveTagsAsync<TState>(ICache cache, List<TKey> missing, TState state, Func<TState, TKey, string> cacheKeyOf, Func<TState, TKey, string[]>? tagsOf, CancellationToken cancellationToken)
    {
        if (tagsOf is null || PlanTags(missing, state, cacheKeyOf, tagsOf) is not { } plan)
        {
            return null;
        }

        try
        {
            return new ObservedTags(plan, await TagStore.Of(cache).ObserveAsync(TagStore.Union(plan.Values), cancellationToken).ConfigureAwait(false));
        }
        catch (Exception ex) when (CachedMethod<TValue>.IsFault(ex, cancellationToken))
        {
            ReadFailed(cache, ex, [.. plan.Keys]);
            return ObservedTags.FailedToObserve;
        }
    }

    /// <summary>
    /// Whether an entry may answer for <paramref name="key"/>: one without tags (a plain write, or a version of the method
    /// from before it had tags, still running beside this one in a rolling deploy) cannot be invalidated by the key's
    /// tags, so it is a miss for a key that has any, and the body's value, stamped with them, replaces it.
    /// </summary>
    private static bool CanAnswer<TState>(Stamped<TValue> stamped, TKey key, TState state, Func<TState, TKey, string[]>? tagsOf)
        => stamped.Tags is not null || tagsOf is null || TagNames.Lenient(tagsOf(state, key)) is null;

    /// <summary>Each missing key's tags by its cache key (a template that formats to nothing adds no tag); <c>null</c> when none has any.</summary>
    private static Dictionary<string, TagStamp>? PlanTags<TState>(List<TKey> missing, TState state, Func<TState, TKey, string> cacheKeyOf, Func<TState, TKey, string[]> tagsOf)
    {
        Dictionary<string, TagStamp>? plan = null;
        foreach (var key in missing)
        {
            if (TagNames.Lenient(tagsOf(state, key)) is { } names)
            {
                (plan ??= new(StringComparer.Ordinal))[cacheKeyOf(state, key)] = new TagStamp(names, new long[names.Length]);
            }
        }

        return plan;
    }

    /// <summary>Keeps the observed tags' records as long as the entries about to be stored; false on a fault (logged): nothing is stored.</summary>
    private bool RetainTags<TStored>(ICache cache, ObservedTags? tags, TimeSpan? ttl, List<KeyValuePair<string, TStored>> toStore)
    {
        if (tags?.Union is not { } union)
        {
            return true;
        }

        try
        {
            // A tag invalidated since the batch observed it: the values are older than the invalidation, none is stored.
            return TagStore.Of(cache).Retain(union, ttl is { } t && t > TimeSpan.Zero ? t : null);
        }
        catch (Exception ex) when (CachedMethod<TValue>.IsFault(ex, CancellationToken.None))
        {
            WriteFailed(cache, ex, toStore);
            return false;
        }
    }

    /// <inheritdoc cref="RetainTags"/>
    private async ValueTask<bool> RetainTagsAsync<TStored>(ICache cache, ObservedTags? tags, TimeSpan? ttl, List<KeyValuePair<string, TStored>> toStore)
    {
        if (tags?.Union is not { } union)
        {
            return true;
        }

        try
        {
            return await TagStore.Of(cache).RetainAsync(union, ttl is { } t && t > TimeSpan.Zero ? t : null, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (CachedMethod<TValue>.IsFault(ex, CancellationToken.None))
        {
            WriteFailed(cache, ex, toStore);
            return false;
        }
    }

    /// <summary>The tags observed for a batch: the union's stamp, and each entry's part of it by cache key.</summary>
    private sealed class ObservedTags
    {
        public static readonly ObservedTags FailedToObserve = new();

        private readonly Dictionary<string, TagStamp>? _byKey;

        public ObservedTags(Dictionary<string, TagStamp> plan, TagStamp union)
        {
            Union = union;
            _byKey = new(plan.Count, StringComparer.Ordinal);
            foreach (var (cacheKey, planned) in plan)
            {
                _byKey[cacheKey] = union.Subset(planned.Names);
            }
        }

        private ObservedTags() => Failed = true;

        /// <summary>The observation failed (logged): the values are returned but not stored, since they could not carry their tags.</summary>
        public bool Failed { get; }

        public TagStamp? Union { get; }

        public TagStamp? Of(string cacheKey) => _byKey is not null && _byKey.TryGetValue(cacheKey, out var stamp) ? stamp : null;
    }
}
