namespace Cached.Plugins;

/// <summary>
/// Counts hits and misses of <see cref="CacheCommand.Get"/> (one key each) and <see cref="CacheCommand.MultiGet"/>
/// (one per key). Unlike aiocache, a hit is a key that was found, even holding <c>null</c>, and a miss answered with
/// a caller's default is still a miss. Thread-safe.
/// </summary>
public sealed class HitMissRatioPlugin : CachePlugin
{
    private long _hits;
    private long _total;

    /// <summary>Keys found.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Keys not found.</summary>
    public long Misses
    {
        get
        {
            // Hits first: a read adds to total before it adds its hits, so every hit read here is already in the total
            // read after it, and the difference is never negative.
            var hits = Hits;
            return Total - hits;
        }
    }

    /// <summary>Keys asked for.</summary>
    public long Total => Interlocked.Read(ref _total);

    /// <summary><see cref="Hits"/> / <see cref="Total"/>, or 0 before the first read.</summary>
    public double HitRatio
    {
        get
        {
            // Hits first, as in Misses: a read adds to total before it adds its hits, so the ratio never exceeds 1.
            var hits = Hits;
            var total = Total;
            return total == 0 ? 0 : (double)hits / total;
        }
    }

    /// <inheritdoc />
    protected override void PostGet(CacheCommandContext context)
    {
        Interlocked.Increment(ref _total);
        Interlocked.Add(ref _hits, context.Hits);
    }

    /// <inheritdoc />
    protected override void PostMultiGet(CacheCommandContext context)
    {
        Interlocked.Add(ref _total, context.Keys?.Count ?? 0);
        Interlocked.Add(ref _hits, context.Hits);
    }
}
