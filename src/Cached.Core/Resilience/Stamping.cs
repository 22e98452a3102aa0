using System.Buffers;
using Cached.Serializers;

namespace Cached.Resilience;

/// <summary>How the read-through cores stamp values and make a last value fresh again for the fail-safe throttle.</summary>
internal static class Stamping
{
    /// <summary>
    /// Stamps a value: fresh for the time to live, kept by the backend for fail-safe's extra time after it. An entry
    /// that never expires is stored with no expiry and never goes stale.
    /// </summary>
    public static Stamped<T> Stamp<T>(ICache cache, TimeProvider clock, in EntryPolicy policy, T value, Tags.TagStamp? tags, out TimeSpan? physicalTtl)
    {
        if (policy.FreshFor(cache) is not { } fresh)
        {
            physicalTtl = TimeSpan.Zero;
            return new Stamped<T>(value, long.MaxValue, long.MaxValue, long.MaxValue, clock, tags: tags);
        }

        var now = StampClock.UnixNow(clock);
        // Saturated: a FailSafe of TimeSpan.MaxValue (keep the last value for good), or a huge Ttl with one, must not
        // overflow the sum; the backends keep a TimeSpan.MaxValue time to live as long as they can.
        var failSafe = policy.FailSafe ?? TimeSpan.Zero;
        physicalTtl = failSafe > TimeSpan.MaxValue - fresh ? TimeSpan.MaxValue : fresh + failSafe;
        var refreshAt = policy.EagerRefresh is { } fraction ? StampClock.After(now, fresh * fraction) : long.MaxValue;
        return new Stamped<T>(value, StampClock.After(now, fresh), StampClock.After(now, physicalTtl), refreshAt, clock, tags: tags);
    }

    /// <summary>
    /// The last value, fresh again for the fail-safe throttle and never past the end fail-safe gave it, with the time
    /// the backend should keep it; null when that end has passed.
    /// </summary>
    /// <remarks>
    /// A last value whose tags were invalidated, or written without the tags the call has (which no invalidation of
    /// them could reach), is served to the failing call only: made fresh again it would be served to every reader
    /// after the invalidation. A copy of a merely expired one carries <paramref name="tags"/>,
    /// the versions the failed call observed, else its own tags unchecked (a stored stamp must not keep a read's check).
    /// </remarks>
    public static (Stamped<T>? Throttled, TimeSpan? Ttl) Throttle<T>(Stamped<T> last, in EntryPolicy policy, TimeProvider clock, Tags.TagStamp? tags = null)
    {
        // Against the versions observed for the factory when there are some: the last value's own check may predate
        // an invalidation that came before them, and the copy would carry the newer versions as if computed under them.
        // What is left of the last value's life is measured on the monotonic clock and stamped anew from the wall clock
        // of now: a wall-clock jump since the value was stamped (or read) must neither give it the time the clock went
        // back, past Ttl + FailSafe, nor take away the time it went forward. Under a millisecond left is none: a zero
        // time to live would be no expiry.
        var left = last.StaleUntil == long.MaxValue ? (TimeSpan?)null : StampClock.Until(last.StaleUntilTimestamp, last.Clock);
        if (left == TimeSpan.Zero || last.Tags is { IsCurrent: false } || (tags is not null && (last.Tags is not { } own || !own.SameTokensAs(tags))))
        {
            return (null, null);
        }

        var now = StampClock.UnixNow(clock);
        var staleUntil = StampClock.After(now, left);
        var freshUntil = Math.Min(StampClock.After(now, policy.FailSafeThrottle), staleUntil);
        // A throttled value is left alone until the throttle ends: no eager refresh.
        return (new Stamped<T>(last.Value, freshUntil, staleUntil, long.MaxValue, clock, throttled: true, tags ?? last.Tags?.Unshared()), left ?? TimeSpan.Zero);
    }

    /// <summary>
    /// Whether fail-safe still keeps <paramref name="last"/> now: a last value read while kept stops being one when its
    /// window ends, even during the factory run that was to fall back on it.
    /// </summary>
    /// <remarks>On the monotonic clock, as freshness is: a wall-clock jump since the value was read does not move the end.</remarks>
    public static bool IsKept<T>(Stamped<T> last) => last.StaleUntilTimestamp > last.Clock.GetTimestamp();

    /// <summary>Whether <paramref name="stamped"/> is fresh now, on its own clock.</summary>
    public static bool IsFresh<T>(Stamped<T> stamped) => stamped.IsFreshAt(stamped.Clock.GetTimestamp(), out _);

    /// <summary>
    /// Whether <paramref name="now"/>, read again, is the entry <paramref name="read"/> was: the same stamps and an equal
    /// value (a write in between stamps anew, or stores no stamp at all). Two reads of one entry from a byte store make
    /// two objects, which a type without value equality (a class, a record holding a list) tells apart: such values are
    /// the same when <paramref name="serializer"/>, the one they were read with, writes them alike.
    /// </summary>
    public static bool IsSameEntry<T>(Stamped<T> read, Stamped<T>? now, ISerializer serializer)
        => now is not null
            && (ReferenceEquals(read, now)
                || (now.FreshUntil == read.FreshUntil && now.StaleUntil == read.StaleUntil && now.Throttled == read.Throttled
                    && (EqualityComparer<T>.Default.Equals(now.Value, read.Value) || WrittenAlike(serializer, now.Value, read.Value))));

    /// <summary>Whether <paramref name="serializer"/> writes the same bytes for both values; false when it cannot write them.</summary>
    private static bool WrittenAlike<T>(ISerializer serializer, T? first, T? second)
    {
        if (first is null || second is null)
        {
            return false;
        }

        try
        {
            var a = new ArrayBufferWriter<byte>();
            serializer.Serialize(a, first);
            var b = new ArrayBufferWriter<byte>();
            serializer.Serialize(b, second);
            return a.WrittenSpan.SequenceEqual(b.WrittenSpan);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A serializer that cannot write the value (an in-process store's, which keeps references): not shown alike,
            // so the last value is served but not written back, as on any doubt.
            return false;
        }
    }

    /// <summary>
    /// Where a last value is read again before fail-safe writes it back: a two-level cache's L2, which every node
    /// writes, since L1 may still hold a copy another node's write has not reached yet.
    /// </summary>
    public static ICache HolderOf(ICache cache) => cache is MultiLevelCache twoLevels ? twoLevels.L2 : cache;
}
