namespace Cached.Runtime;

/// <summary>
/// The leaders of one method that stored a result (or, for a multi-cached method, the batches that stored theirs), so
/// that a caller whose read missed can tell whether one may have stored its own key since: then it reads again before
/// it calls the body (a leader that finished between the caller's read and its flight). A caller notes <see cref="Note"/> before its read and asks
/// <see cref="MayHaveStored"/> once it leads.
/// </summary>
/// <remarks>
/// One count for the method alone made every concurrent miss read twice: with 64 callers missing different keys on
/// Redis, another leader nearly always finished during a read's round trip (1.98 GETs a miss). Each completion also
/// leaves its number in the stripe of its key, so a caller reads again only when a leader of a key in its own stripe
/// finished. The stripes are made at the first completion: a method that never misses keeps none.
/// </remarks>
internal struct FillCompletions
{
    /// <summary>Enough that 64 concurrent misses rarely share one (a quarter of a read's window, at most).</summary>
    internal const int Stripes = 256;

    private long _count;
    private long[]? _lastByStripe;

    /// <summary>The number of completions so far; note it before the read.</summary>
    public long Note() => Volatile.Read(ref _count);

    /// <summary>Records a leader of <paramref name="key"/> that stored its result; called before its flight lands.</summary>
    public void Record(string key)
    {
        var stripes = Volatile.Read(ref _lastByStripe) ?? MakeStripes();
        Mark(stripes, key, Interlocked.Increment(ref _count));
    }

    /// <summary>
    /// Records a batch that stored every key of <paramref name="stored"/>: one completion for them all (one shared
    /// increment, not one per key), left in each key's stripe.
    /// </summary>
    public void RecordAll<T>(List<KeyValuePair<string, T>> stored)
    {
        if (stored.Count == 0)
        {
            return;
        }

        var stripes = Volatile.Read(ref _lastByStripe) ?? MakeStripes();
        var number = Interlocked.Increment(ref _count);
        foreach (var entry in stored)
        {
            Mark(stripes, entry.Key, number);
        }
    }

    private static void Mark(long[] stripes, string key, long number)
    {
        // The highest number wins: two leaders of one stripe may write in either order.
        ref var last = ref stripes[StripeOf(key)];
        var seen = Volatile.Read(ref last);
        while (seen < number)
        {
            var was = Interlocked.CompareExchange(ref last, number, seen);
            if (was == seen)
            {
                return;
            }

            seen = was;
        }
    }

    /// <summary>
    /// Whether a leader of <paramref name="key"/>'s stripe stored after the caller noted <paramref name="noted"/>.
    /// A leader that recorded lands after it, so a caller that led because that flight had landed sees its record.
    /// </summary>
    public bool MayHaveStored(string key, long noted)
        => Volatile.Read(ref _count) != noted
           && Volatile.Read(ref _lastByStripe) is { } stripes
           && Volatile.Read(ref stripes[StripeOf(key)]) > noted;

    /// <summary>The stripe of <paramref name="key"/> (the ordinal hash, as the flight board's).</summary>
    internal static int StripeOf(string key) => key.GetHashCode() & (Stripes - 1);

    private long[] MakeStripes()
    {
        var made = new long[Stripes];
        return Interlocked.CompareExchange(ref _lastByStripe, made, null) ?? made;
    }
}
