namespace Cached.Resilience;

/// <summary>
/// The clocks of stamped entries. Stamps are stored as wall-clock Unix milliseconds; a hit compares against a local
/// scale instead: <see cref="Environment.TickCount64"/> for the system clock (a coarse monotonic read of a few
/// nanoseconds, where a precise timestamp costs tens on a virtual machine), and the provider's own time for any other
/// <see cref="TimeProvider"/>, so tests move it by hand. The coarse clock's resolution (1 to 16 ms) is the resolution of
/// logical expiry; physical expiry stays exact.
/// </summary>
internal static class StampClock
{
    /// <summary>Now, on <paramref name="clock"/>'s local scale.</summary>
    public static long LocalNow(TimeProvider clock)
        => ReferenceEquals(clock, TimeProvider.System) ? Environment.TickCount64 : clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Now, in Unix milliseconds.</summary>
    public static long UnixNow(TimeProvider clock) => clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>A Unix-millisecond instant on <paramref name="clock"/>'s local scale.</summary>
    public static long ToLocal(long unixMilliseconds, TimeProvider clock)
    {
        if (unixMilliseconds == long.MaxValue || !ReferenceEquals(clock, TimeProvider.System))
        {
            return unixMilliseconds;
        }

        return Environment.TickCount64 + (unixMilliseconds - UnixNow(clock));
    }

    /// <summary><paramref name="now"/> plus <paramref name="span"/>; <see cref="long.MaxValue"/> for no span.</summary>
    public static long After(long now, TimeSpan? span)
        => span is { } value ? now + (long)value.TotalMilliseconds : long.MaxValue;
}
