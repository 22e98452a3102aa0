namespace Cached.Memory;

/// <summary>
/// Keeps a <see cref="MemoryStore"/> within its bound: an insert that takes the count above it triggers one pass that
/// removes expired entries first, then the least recently used ones until the count is at most 90% of the bound.
/// Evicting a tenth at a time keeps the pass's cost amortized over many inserts.
/// </summary>
internal sealed class LruEviction(int maxEntries)
{
    private readonly object _gate = new();

    public int MaxEntries { get; } = maxEntries;

    /// <summary>Called after each insert with the new count.</summary>
    public void OnInserted(MemoryStore store, int count)
    {
        if (count > MaxEntries)
        {
            Evict(store);
        }
    }

    private void Evict(MemoryStore store)
    {
        lock (_gate)
        {
            if (store.Count <= MaxEntries)
            {
                return;
            }

            store.RemoveExpired();
            var target = Math.Max(MaxEntries - (MaxEntries / 10), 1);
            var excess = store.Count - target;
            if (excess <= 0)
            {
                return;
            }

            var candidates = store.Snapshot();
            // Sorted by a snapshot of each entry's last use: hits keep writing LastUsed meanwhile, and a comparer
            // whose answers change during the sort makes Array.Sort throw.
            var lastUsed = new long[candidates.Length];
            for (var i = 0; i < candidates.Length; i++)
            {
                lastUsed[i] = candidates[i].Value.LastUsed;
            }

            Array.Sort(lastUsed, candidates);
            for (var i = 0; i < candidates.Length && excess > 0; i++)
            {
                if (store.RemoveIfUnchanged(candidates[i].Key, candidates[i].Value))
                {
                    excess--;
                }
            }
        }
    }
}
