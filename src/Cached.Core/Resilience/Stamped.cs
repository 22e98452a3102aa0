namespace Cached.Resilience;

/// <summary>A stored value with its logical expiry, as an in-process backend keeps it; see <see cref="StampFormat"/>.</summary>
internal interface IStamped
{
    /// <summary>When the value stops being fresh, in Unix milliseconds; <see cref="long.MaxValue"/> for never.</summary>
    long FreshUntil { get; }

    /// <summary>The value, boxed: for plain reads of a stamped entry, which are rare.</summary>
    object? BoxedValue { get; }
}

/// <summary>
/// A value stored with resilience options (<see cref="CacheEntryOptions.FailSafe"/>, <see cref="CacheEntryOptions.EagerRefresh"/>):
/// fresh until <see cref="FreshUntil"/>, kept as a last value until <see cref="StaleUntil"/>. Both are wall-clock
/// Unix milliseconds, so processes that share a backend agree on them. A hit compares against <see cref="FreshUntilLocal"/>
/// on <see cref="StampClock"/>'s cheap clock instead, so checking freshness costs no second wall-clock read.
/// </summary>
internal sealed class Stamped<T> : IStamped
{
    public Stamped(T value, long freshUntil, long staleUntil, TimeProvider clock, bool throttled = false)
    {
        Value = value;
        Throttled = throttled;
        FreshUntil = freshUntil;
        StaleUntil = staleUntil;
        Clock = clock;
        FreshUntilLocal = StampClock.ToLocal(freshUntil, clock);
    }

    public T Value { get; }

    public long FreshUntil { get; }

    /// <summary>When the backend drops the entry, in Unix milliseconds; <see cref="long.MaxValue"/> for never.</summary>
    public long StaleUntil { get; }

    /// <summary>The clock <see cref="FreshUntilLocal"/> was computed on.</summary>
    public TimeProvider Clock { get; }

    /// <summary><see cref="FreshUntil"/> on <see cref="StampClock.LocalNow"/>'s scale for <see cref="Clock"/>.</summary>
    public long FreshUntilLocal { get; }

    /// <summary>A last value made fresh again by fail-safe for a short while: no eager refresh starts from it.</summary>
    public bool Throttled { get; }

    public object? BoxedValue => Value;

    /// <summary>An entry stored without a stamp (a plain write, another client): fresh for as long as it exists.</summary>
    public static Stamped<T> Unstamped(T value, TimeProvider clock) => new(value, long.MaxValue, long.MaxValue, clock);

    /// <summary>The freshness deadline on <paramref name="clock"/>'s local scale.</summary>
    public long FreshUntilOn(TimeProvider clock)
        => ReferenceEquals(clock, Clock) ? FreshUntilLocal : StampClock.ToLocal(FreshUntil, clock);
}
