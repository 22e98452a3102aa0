using Cached.Memory;

namespace Cached.Resilience;

/// <summary>A stored value with its logical expiry, as an in-process backend keeps it; see <see cref="StampFormat"/>.</summary>
internal interface IStamped
{
    /// <summary>When the value stops being fresh, in Unix milliseconds; <see cref="long.MaxValue"/> for never.</summary>
    long FreshUntil { get; }

    /// <summary>The value, boxed: for plain reads of a stamped entry, which are rare.</summary>
    object? BoxedValue { get; }

    /// <summary>The entry's tags and their versions; <c>null</c> for an untagged entry.</summary>
    Tags.TagStamp? Tags { get; }

    /// <summary>The same entry with other tag versions.</summary>
    IStamped WithTags(Tags.TagStamp tags);

    /// <summary>
    /// Whether a read that found this entry counts as a hit: fresh, and no tag known to be invalidated (tags read from
    /// bytes are checked after the read, so those count until then).
    /// </summary>
    bool CountsAsHit { get; }

    /// <summary>Whether the value is fresh now, on its clock's monotonic timestamps (its tags unchecked).</summary>
    bool IsFreshNow { get; }
}

/// <summary>
/// A value stored with resilience options (<see cref="CacheEntryOptions.FailSafe"/>, <see cref="CacheEntryOptions.EagerRefresh"/>):
/// fresh until <see cref="FreshUntil"/>, due for an eager refresh from <see cref="RefreshAt"/>, kept as a last value
/// until <see cref="StaleUntil"/>. The three are wall-clock Unix milliseconds, so processes that share a backend agree
/// on them. A hit compares against the same instants on <see cref="Clock"/>'s timestamp scale instead
/// (<see cref="FreshUntilTimestamp"/>, <see cref="RefreshAtTimestamp"/>, <see cref="StaleUntilTimestamp"/>), computed
/// once here: the memory store hands over the timestamp it read to check the entry's physical expiry, so a stamped hit
/// reads no clock of its own, and a wall-clock jump after the stamp was made or read moves none of its checks.
/// </summary>
internal sealed class Stamped<T> : IStamped
{
    public Stamped(T value, long freshUntil, long staleUntil, long refreshAt, TimeProvider clock, bool throttled = false, Tags.TagStamp? tags = null)
    {
        Value = value;
        Tags = tags;
        FreshUntil = freshUntil;
        StaleUntil = staleUntil;
        RefreshAt = refreshAt;
        Throttled = throttled;
        Clock = clock;
        // The coarse clock first: the proof of CoarseClock needs its reading no later than the precise one.
        var tick = ReferenceEquals(clock, TimeProvider.System) ? CoarseClock.Now : 0;
        var (nowTimestamp, nowUnix) = (clock.GetTimestamp(), StampClock.UnixNow(clock));
        FreshUntilTimestamp = StampClock.ToTimestamp(freshUntil, clock, nowTimestamp, nowUnix);
        RefreshAtTimestamp = StampClock.ToTimestamp(refreshAt, clock, nowTimestamp, nowUnix);
        StaleUntilTimestamp = StampClock.ToTimestamp(staleUntil, clock, nowTimestamp, nowUnix);
        if (tick != 0)
        {
            var until = Math.Min(FreshUntilTimestamp, RefreshAtTimestamp);
            FreshBeforeTick = until == long.MaxValue
                ? long.MaxValue
                : CoarseClock.LiveBefore(tick, TimeSpan.FromSeconds((until - nowTimestamp) / (double)clock.TimestampFrequency));
        }
    }

    public T Value { get; }

    public long FreshUntil { get; }

    /// <summary>When the backend drops the entry, in Unix milliseconds; <see cref="long.MaxValue"/> for never.</summary>
    public long StaleUntil { get; }

    /// <summary>When a hit starts an eager refresh, in Unix milliseconds; <see cref="long.MaxValue"/> for never.</summary>
    public long RefreshAt { get; }

    /// <summary>A last value made fresh again by fail-safe for a short while (it starts no eager refresh).</summary>
    public bool Throttled { get; }

    /// <summary>The clock whose timestamps <see cref="FreshUntilTimestamp"/> and <see cref="RefreshAtTimestamp"/> are on.</summary>
    public TimeProvider Clock { get; }

    public long FreshUntilTimestamp { get; }

    public long RefreshAtTimestamp { get; }

    /// <summary><see cref="StaleUntil"/> on <see cref="Clock"/>'s timestamp scale: until then fail-safe keeps the value.</summary>
    public long StaleUntilTimestamp { get; }

    /// <summary>
    /// The <see cref="CoarseClock"/> tick before which the value is certainly fresh and not due for a refresh, so that
    /// a hit can skip the precise clock; 0 when unknown (a clock other than the system's).
    /// </summary>
    public long FreshBeforeTick { get; }

    public object? BoxedValue => Value;

    public bool CountsAsHit => Clock.GetTimestamp() < FreshUntilTimestamp && (Tags is null || Tags.NeedsCheck || Tags.IsCurrent);

    public bool IsFreshNow => Clock.GetTimestamp() < FreshUntilTimestamp;

    /// <summary>The entry's tags and the versions it was computed under; an invalidated tag makes it stale.</summary>
    public Tags.TagStamp? Tags { get; }

    /// <summary>The same entry with other tag versions: an in-process copy of an entry read from another level.</summary>
    public Stamped<T> WithTags(Tags.TagStamp tags) => new(Value, FreshUntil, StaleUntil, RefreshAt, Clock, Throttled, tags);

    IStamped IStamped.WithTags(Tags.TagStamp tags) => WithTags(tags);

    /// <summary>This entry, or a copy whose tags this read may check (see <see cref="Tags.TagStamp.ForRead"/>).</summary>
    public Stamped<T> ForRead() => Tags is { } tags && tags.ForRead() is var own && !ReferenceEquals(own, tags) ? WithTags(own) : this;

    /// <summary>An entry stored without a stamp (a plain write, another client): fresh for as long as it exists.</summary>
    public static Stamped<T> Unstamped(T value, TimeProvider clock) => new(value, long.MaxValue, long.MaxValue, long.MaxValue, clock);

    /// <summary>
    /// Whether the value is fresh and not yet due for a refresh at the coarse clock's <paramref name="coarseTick"/>,
    /// with no precise clock read; false when the stamp has no coarse bound (<see cref="FreshBeforeTick"/> 0). Tags
    /// are the caller's to check.
    /// </summary>
    public bool IsCertainlyFreshAt(long coarseTick) => FreshBeforeTick != 0 && coarseTick < FreshBeforeTick;

    /// <summary>
    /// Whether the value is fresh at <paramref name="now"/> (a timestamp of <see cref="Clock"/>) and none of its tags was
    /// invalidated since it was computed, and whether a hit then is due to refresh it.
    /// </summary>
    public bool IsFreshAt(long now, out bool refreshDue)
    {
        refreshDue = now >= RefreshAtTimestamp;
        return now < FreshUntilTimestamp && (Tags is null || Tags.IsCurrent);
    }
}
