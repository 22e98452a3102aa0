namespace Cached.Capabilities;

/// <summary>
/// A span reader that also hands over the timestamp it read to check the entry's expiry, so that a stamped hit
/// (<see cref="Resilience.Stamped{T}"/>) compares its logical expiry against the same reading instead of reading a
/// clock again. <see cref="SimpleMemoryCache"/> implements it.
/// </summary>
internal interface ITimedSpanReader
{
    /// <summary>The clock whose timestamps <see cref="TryReadBySpanTimed"/> hands over.</summary>
    TimeProvider ReaderClock { get; }

    /// <summary>
    /// <see cref="ISpanReadableCache.TryReadBySpan"/>, with <paramref name="now"/> the timestamp read to check the
    /// entry's expiry, 0 when none was read (an entry without expiry, or one the coarse clock proved live), and
    /// <paramref name="coarseTick"/> the <see cref="Memory.CoarseClock"/> tick read for that proof, 0 when none was read:
    /// a stamped hit proves its own freshness with the same tick rather than reading the coarse clock again.
    /// </summary>
    SpanRead TryReadBySpanTimed(ReadOnlySpan<char> key, string? resolvedNamespace, out object? payload, out long now, out long coarseTick);
}
