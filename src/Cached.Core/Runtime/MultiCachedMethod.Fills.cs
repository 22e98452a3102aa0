using Cached.Capabilities;
using Cached.Serializers;

namespace Cached.Runtime;

/// <summary>
/// The fenced fills of a multi-cached method: opened for the missing keys before the body runs, stored in one fenced
/// batch after it, so an invalidation of any key meanwhile keeps that entry out.
/// </summary>
public sealed partial class MultiCachedMethod<TKey, TValue>
{
    /// <summary>
    /// Opens the fenced fills of every key the body is about to compute, before it runs (one round trip on a remote
    /// cache), so that an invalidation of any of them while it runs keeps that entry from being stored. Empty on a
    /// cache without fenced fills (the entries are then stored with a plain <c>MultiSet</c>); null after a fault, logged
    /// once, when nothing is stored.
    /// </summary>
    private Dictionary<string, FillTicket>? OpenFills<TState>(ICache cache, List<TKey> missing, TState state, Func<TState, TKey, string> cacheKeyOf)
    {
        if (cache is not IFencedFillCache fenced || CacheScope.IsWriteSkipped || missing.Count == 0 || CacheFaults.IsDown(cache))
        {
            return [];
        }

        // One fill per entry: two keys a key builder folds into one cache key share it.
        var cacheKeys = Unique(CacheKeys(missing, state, cacheKeyOf));
        try
        {
            return ByKey(cache, fenced.OpenFills(cacheKeys, _options.Namespace));
        }
        catch (Exception ex) when (CachedMethod<TValue>.IsFault(ex, CancellationToken.None))
        {
            if (CacheFaults.Note(cache, ex, LogAlias))
            {
                Log.WriteFailed(CachedLogging.Logger, ex, string.Join(",", cacheKeys), _options.Method, LogAlias);
            }

            return null;
        }
    }

    /// <inheritdoc cref="OpenFills"/>
    private async ValueTask<Dictionary<string, FillTicket>?> OpenFillsAsync<TState>(ICache cache, List<TKey> missing, TState state, Func<TState, TKey, string> cacheKeyOf, CancellationToken cancellationToken)
    {
        if (cache is not IFencedFillCache fenced || CacheScope.IsWriteSkipped || missing.Count == 0 || CacheFaults.IsDown(cache))
        {
            return [];
        }

        var cacheKeys = Unique(CacheKeys(missing, state, cacheKeyOf));
        try
        {
            return ByKey(cache, await fenced.OpenFillsAsync(cacheKeys, _options.Namespace, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception ex) when (CachedMethod<TValue>.IsFault(ex, cancellationToken))
        {
            if (CacheFaults.Note(cache, ex, LogAlias))
            {
                Log.WriteFailed(CachedLogging.Logger, ex, string.Join(",", cacheKeys), _options.Method, LogAlias);
            }

            return null;
        }
    }

    private static string[] Unique(string[] cacheKeys)
        => cacheKeys.Length < 2 || new HashSet<string>(cacheKeys, StringComparer.Ordinal).Count == cacheKeys.Length
            ? cacheKeys
            : cacheKeys.Distinct(StringComparer.Ordinal).ToArray();

    private static Dictionary<string, FillTicket> ByKey(ICache cache, IReadOnlyList<FillTicket> tickets)
    {
        // Read with the fills open, before the body runs: see OpenedFills.
        var fills = new OpenedFills(tickets.Count, cache is BaseCache ours ? ours.FenceMovesWhileOpen : null);
        foreach (var ticket in tickets)
        {
            fills[ticket.Key] = ticket;
        }

        return fills;
    }

    /// <summary>
    /// The fills of the keys asked, and the cache's fence moves when they opened: an entry the body adds beyond the
    /// keys asked has no fill of its own (it was not known before the body ran), so it is stored only if nothing in
    /// this process wrote or dropped a key of the cache meanwhile (<see cref="BaseCache.FenceMovesWhileOpen"/>), which
    /// keeps an invalidation of it while the body ran from being undone.
    /// </summary>
    private sealed class OpenedFills(int capacity, long? movesAtOpen) : Dictionary<string, FillTicket>(capacity, StringComparer.Ordinal)
    {
        public bool Moved(ICache cache) => movesAtOpen is { } before && cache is BaseCache ours && ours.FenceMovesWhileOpen != before;
    }

    /// <summary>
    /// Stores the body's entries: the fenced ones with one fenced batch fill, each stored only if nothing invalidated its
    /// key while the body ran; entries the body added beyond the keys asked (none opened) with one <c>MultiSet</c>.
    /// </summary>
    private void Store<TStored>(ICache cache, List<KeyValuePair<string, TStored>> toStore, Dictionary<string, FillTicket> fills, TimeSpan? ttl, ISerializer? serializer)
    {
        if (CacheFaults.IsDown(cache))
        {
            return;
        }

        var (fenced, unfenced) = Split(cache, toStore, fills);
        try
        {
            if (fenced.Count > 0)
            {
                ((IFencedFillCache)cache).TryFillMany(fenced, ttl, serializer);
            }

            if (unfenced.Count > 0)
            {
                cache.MultiSet(unfenced, ttl, _options.Namespace, serializer);
            }
        }
        catch (Exception ex) when (CachedMethod<TValue>.IsFault(ex, CancellationToken.None))
        {
            WriteFailed(cache, ex, toStore);
        }
    }

    /// <inheritdoc cref="Store"/>
    private async ValueTask StoreAsync<TStored>(ICache cache, List<KeyValuePair<string, TStored>> toStore, Dictionary<string, FillTicket> fills, TimeSpan? ttl, ISerializer? serializer, CancellationToken cancellationToken)
    {
        if (CacheFaults.IsDown(cache))
        {
            return;
        }

        var (fenced, unfenced) = Split(cache, toStore, fills);
        try
        {
            if (fenced.Count > 0)
            {
                await ((IFencedFillCache)cache).TryFillManyAsync(fenced, ttl, serializer, cancellationToken).ConfigureAwait(false);
            }

            if (unfenced.Count > 0)
            {
                await cache.MultiSetAsync(unfenced, ttl, _options.Namespace, serializer, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (CachedMethod<TValue>.IsFault(ex, cancellationToken))
        {
            WriteFailed(cache, ex, toStore);
        }
    }

    private static (List<KeyValuePair<FillTicket, TStored>> Fenced, List<KeyValuePair<string, TStored>> Unfenced) Split<TStored>(ICache cache, List<KeyValuePair<string, TStored>> toStore, Dictionary<string, FillTicket> fills)
    {
        var fenced = new List<KeyValuePair<FillTicket, TStored>>(fills.Count);
        var unfenced = new List<KeyValuePair<string, TStored>>();
        var extrasMayBeStale = fills is OpenedFills opened && opened.Moved(cache);
        foreach (var entry in toStore)
        {
            if (fills.TryGetValue(entry.Key, out var fill))
            {
                fenced.Add(new(fill, entry.Value));
            }
            else if (!extrasMayBeStale)
            {
                unfenced.Add(entry);
            }
        }

        return (fenced, unfenced);
    }

    private static void Close(Dictionary<string, FillTicket>? fills)
    {
        if (fills is null)
        {
            return;
        }

        foreach (var fill in fills.Values)
        {
            fill.Dispose();
        }
    }
}
