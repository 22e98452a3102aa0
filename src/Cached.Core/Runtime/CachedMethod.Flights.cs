using Cached.Capabilities;

namespace Cached.Runtime;

/// <summary>
/// The flights of a cached method: one call of the body per key that the callers of that key share, and the rules
/// for boarding one after an invalidation.
/// </summary>
public sealed partial class CachedMethod<TResult>
{
    /// <summary>
    /// Boards the flight of <paramref name="key"/>: the one already under way, or <paramref name="flight"/> as its
    /// leader. A flight that an invalidation in this process has overtaken takes no new passengers, and neither does
    /// any flight for a call that skips the read (<see cref="CacheScope.SkipRead"/>): a call never joins a computation
    /// older than itself that it cannot trust.
    /// </summary>
    private Flight Board(string key, Flight flight)
    {
        while (true)
        {
            var current = _flights.GetOrAdd(key, flight);
            if (current == flight)
            {
                return flight;
            }

            if (!CacheScope.IsReadSkipped && !current.IsOvertaken)
            {
                return current;
            }

            if (_flights.TryUpdate(key, flight, current))
            {
                return flight;
            }
        }
    }

    /// <summary>Ends a flight's stay on the board, unless a newer flight of the key has taken its place.</summary>
    private void Land(string key, Flight flight)
        => _flights.TryRemove(new KeyValuePair<string, Flight>(key, flight));

    /// <summary>
    /// One call of the body that the callers of a key share. Its fill (once open) tells whether an invalidation in
    /// this process overtook it; <see cref="Stale"/> says, once it lands, that its result must not be handed to waiters.
    /// </summary>
    private sealed class Flight() : TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        private volatile FillTicket? _fill;

        /// <summary>The leader's fenced fill, set before the body runs.</summary>
        public FillTicket? Fill
        {
            get => _fill;
            set => _fill = value;
        }

        /// <summary>Set before the flight completes: an invalidation overtook it, in this process or (refused fill) any.</summary>
        public bool Stale { get; set; }

        /// <summary>A caller stopped waiting at a timeout: nobody may observe the outcome, so a failure is logged as background work's.</summary>
        public bool Detached { get; set; }

        /// <summary>Whether an invalidation in this process came after the fill opened: no new caller may board.</summary>
        public bool IsOvertaken => _fill is { IsCurrentInProcess: false };
    }
}
