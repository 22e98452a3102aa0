namespace Cached.Resilience;

/// <summary>
/// The clocks of stamped entries: stored as wall-clock Unix milliseconds (every process agrees on them), compared on a
/// <see cref="TimeProvider"/>'s monotonic timestamps (exact, and a wall-clock change does not move them).
/// </summary>
internal static class StampClock
{
    /// <summary>Now, in Unix milliseconds.</summary>
    public static long UnixNow(TimeProvider clock) => clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary><paramref name="now"/> plus <paramref name="span"/>; <see cref="long.MaxValue"/> for no span.</summary>
    public static long After(long now, TimeSpan? span)
        => span is { } value ? now + (long)value.TotalMilliseconds : long.MaxValue;

    /// <summary>
    /// The time from now to <paramref name="timestamp"/> of <paramref name="clock"/>, in whole milliseconds (as stamps are
    /// kept); zero once it has passed.
    /// </summary>
    public static TimeSpan Until(long timestamp, TimeProvider clock)
    {
        var left = (timestamp - clock.GetTimestamp()) * (1000.0 / clock.TimestampFrequency);
        return left <= 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Floor(left));
    }

    /// <summary>
    /// A Unix-millisecond instant as a timestamp of <paramref name="clock"/>, given a reading of both
    /// (<paramref name="nowTimestamp"/>, <paramref name="nowUnix"/>); <see cref="long.MaxValue"/> stays never.
    /// </summary>
    public static long ToTimestamp(long unixMilliseconds, TimeProvider clock, long nowTimestamp, long nowUnix)
    {
        if (unixMilliseconds == long.MaxValue)
        {
            return long.MaxValue;
        }

        var ticks = (unixMilliseconds - nowUnix) * (clock.TimestampFrequency / 1000.0);
        return ticks >= long.MaxValue - (double)nowTimestamp ? long.MaxValue : nowTimestamp + (long)ticks;
    }
}
