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
    public long Misses => Total - Hits;

    /// <summary>Keys asked for.</summary>
    public long Total => Interlocked.Read(ref _total);

    /// <summary><see cref="Hits"/> / <see cref="Total"/>, or 0 before the first read.</summary>
    public double HitRatio
    {
        get
        {
            // Read total first: a concurrent read can only add to hits after total, so the ratio never exceeds 1.
            var total = Total;
            return total == 0 ? 0 : Math.Min(1, (double)Hits / total);
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
