namespace Cached.Runtime;

/// <summary>The one reading of time-to-live arguments shared by caches, commands and configuration.</summary>
internal static class TtlRules
{
    /// <summary>
    /// Turns an expiry argument into the backend's form: <c>null</c> for no expiry, else a positive span.
    /// Zero and <see cref="Timeout.InfiniteTimeSpan"/> mean no expiry; any other negative span is refused.
    /// </summary>
    public static TimeSpan? Normalize(TimeSpan? ttl, string paramName)
    {
        if (ttl is not { } value || value == TimeSpan.Zero || value == Timeout.InfiniteTimeSpan)
        {
            return null;
        }

        if (value < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(paramName, value, "A time to live cannot be negative; use null or TimeSpan.Zero for no expiry.");
        }

        return ToWholeMilliseconds(value);
    }

    /// <summary>
    /// Rounds a positive span up to a whole millisecond, the resolution Redis keeps (<c>PX</c>). Every backend applies
    /// the same rule, so a TTL under a millisecond means 1 ms everywhere instead of an error on one backend and a
    /// sub-millisecond life on another.
    /// </summary>
    public static TimeSpan ToWholeMilliseconds(TimeSpan value)
    {
        var remainder = value.Ticks % TimeSpan.TicksPerMillisecond;
        if (remainder == 0 || value.Ticks > TimeSpan.MaxValue.Ticks - TimeSpan.TicksPerMillisecond)
        {
            return value;
        }

        return TimeSpan.FromTicks(value.Ticks - remainder + TimeSpan.TicksPerMillisecond);
    }

    /// <summary>Reads seconds (pycached's unit, as in <c>Ttl = 10</c>), refusing NaN, infinities and negatives.</summary>
    public static TimeSpan? FromSeconds(double seconds, string paramName)
    {
        if (double.IsNaN(seconds) || double.IsInfinity(seconds) || seconds < 0)
        {
            throw new ArgumentOutOfRangeException(paramName, seconds, "Seconds must be a finite number, zero or more.");
        }

        return seconds == 0 ? null : TimeSpan.FromSeconds(seconds);
    }
}
