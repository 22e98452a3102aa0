using System.Runtime.CompilerServices;
using Cached.Capabilities;
using Cached.Resilience;

namespace Cached.Runtime;

/// <summary>The hit path: the read by span key every call starts with, before any key string is made.</summary>
public sealed partial class CachedMethod<TResult>
{
    /// <summary>
    /// The read every call starts with, small enough to inline into the entry points: the cache as last resolved, if
    /// it is still current and reads by span, read without a key string. <see cref="SpanRead.Hit"/> when the entry is
    /// there with this result type; <see cref="SpanRead.Miss"/> for a miss that nobody needs counted, so the ordinary
    /// read can be skipped; otherwise (no current resolution, an open <see cref="CacheScope"/>, a listener, caching
    /// disabled, a payload of another type) <see cref="SpanRead.Unsupported"/>, and the ordinary read checks and
    /// reports everything.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private SpanRead ReadBySpan(ReadOnlySpan<char> key, in EntryPolicy policy, out TResult value, out bool refresh)
    {
        refresh = false;
        var resolution = _cache.Last;
        if (resolution is { SpanReader: { } reader }
            && resolution.Version == Caches.Version
            && CacheScope.NoneOpen
            && SpanHits.Open
            && !key.IsEmpty)
        {
            long now = 0;
            long coarseTick = 0;
            object? payload;
            var read = resolution.TimedReader is { } timed
                ? timed.TryReadBySpanTimed(key, resolution.SpanNamespace, out payload, out now, out coarseTick)
                : reader.TryReadBySpan(key, resolution.SpanNamespace, out payload);
            if (read == SpanRead.Hit)
            {
                // A method that stores stamped entries finds one nearly always: that type test first, and the test
                // that needs no clock inline, so a resilient hit costs one type test more than a plain one, not three
                // and a call; a tagged one adds a field read per tag (an entry kept by reference holds its tags'
                // versions), not the call. A plain entry found there (written by Set) goes on to the plain test below,
                // which a tagged method skips: an entry without tags may not answer it (CanAnswer).
                if (policy.Stamps && payload is Stamped<TResult> stamped)
                {
                    if (policy.Tagged && stamped.Tags is null)
                    {
                        // Written without tags: only the ordinary read knows whether this call has any (CanAnswer).
                        value = default!;
                        return SpanRead.Unsupported;
                    }

                    if (coarseTick != 0 && stamped.IsCertainlyFreshAt(coarseTick) && (stamped.Tags is not { } tags || tags.IsCurrent))
                    {
                        value = stamped.Value;
                        return SpanRead.Hit;
                    }

                    if (TryTakeFresh(stamped, now, coarseTick, resolution.ReaderClock, in policy, out value, out refresh))
                    {
                        return SpanRead.Hit;
                    }
                }
                else if (!policy.Tagged && SpanPayload<TResult>.TryTake(payload, out var typed))
                {
                    value = typed;
                    return SpanRead.Hit;
                }
                else if (payload is Stamped<TResult> unexpected && TryTakeFresh(unexpected, now, coarseTick, resolution.ReaderClock, in policy, out value, out refresh))
                {
                    return SpanRead.Hit;
                }
            }

            // A hit needs only the hit instruments unobserved; a miss is counted by the ordinary read when observed.
            if (read == SpanRead.Miss && resolution.SpanMissIsFinal && !Diagnostics.CacheTelemetry.IsObserved)
            {
                value = default!;
                return SpanRead.Miss;
            }
        }

        value = default!;
        return SpanRead.Unsupported;
    }

    /// <summary>The span read, unless the call is already cancelled: the ordinary path then returns a cancelled task.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private SpanRead ReadBySpanUnlessCancelled(ReadOnlySpan<char> key, in EntryPolicy policy, out TResult value, out bool refresh, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            value = default!;
            refresh = false;
            return SpanRead.Unsupported;
        }

        return ReadBySpan(key, in policy, out value, out refresh);
    }
}
