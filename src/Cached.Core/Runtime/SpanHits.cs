using Cached.Diagnostics;

namespace Cached.Runtime;

/// <summary>
/// The switches that can change between two calls and turn the span hit of generated methods off everywhere: caching
/// disabled, or someone listening to what a hit records (its count, its duration, its activity). Only a hit may be
/// answered under this check: a miss must go on to the ordinary path, which checks every instrument.
/// </summary>
internal static class SpanHits
{
    public static bool Open => !Cache.Disabled && !CacheTelemetry.IsHitObserved;
}
