namespace Cached.Runtime;

/// <summary>A flight that can be on a <see cref="FlightBoard"/>: its key, and the link to the next flight of its bucket.</summary>
internal abstract class BoardedFlight(string key)
{
    /// <summary>The key whose callers it serves.</summary>
    public string Key { get; } = key;

    /// <summary>The next flight in its bucket while it is on a board; only the board reads and writes it, under its stripe's lock.</summary>
    internal BoardedFlight? NextOnBoard;
}

/// <summary>
/// The flights of one method that are in the air, at most one per key (ordinal). Flights link themselves into their
/// buckets, so boarding allocates nothing beyond the flight: a <c>ConcurrentDictionary</c>'s node cost every miss 48
/// bytes more, for a flight that lands a few hundred nanoseconds later.
/// </summary>
/// <remarks>
/// Keys spread over stripes by their (randomized) hash; each stripe is a small table of its own, behind its own lock,
/// that doubles as it fills, so callers of different keys rarely meet and a burst of misses never leaves long chains.
/// Every operation takes its stripe's lock once, as a <c>ConcurrentDictionary</c>'s add and remove do (its lookup of a
/// key already there takes none, where a caller joining a flight here does); a flight is searched for only on a miss,
/// never on a hit.
/// </remarks>
internal sealed class FlightBoard
{
    private readonly Stripe[] _stripes;
    private readonly int _stripeBits;

    public FlightBoard()
    {
        // Enough stripes that the callers of one method on every core seldom share one; a power of two.
        _stripeBits = Math.Clamp((int)Math.Ceiling(Math.Log2(Environment.ProcessorCount * 2)), 1, 6);
        _stripes = new Stripe[1 << _stripeBits];
        for (var i = 0; i < _stripes.Length; i++)
        {
            _stripes[i] = new Stripe();
        }
    }

    /// <summary>The flight on the board for <paramref name="flight"/>'s key, or <paramref name="flight"/>, boarded now.</summary>
    public BoardedFlight GetOrAdd(BoardedFlight flight)
    {
        var stripe = StripeOf(flight.Key, out var hash);
        lock (stripe)
        {
            return stripe.Find(flight.Key, hash) ?? stripe.Add(flight, hash);
        }
    }

    /// <summary>The flight on the board for <paramref name="key"/>, if any.</summary>
    public BoardedFlight? Find(string key)
    {
        var stripe = StripeOf(key, out var hash);
        lock (stripe)
        {
            return stripe.Find(key, hash);
        }
    }

    /// <summary>Boards <paramref name="flight"/> unless a flight of its key is on the board.</summary>
    public bool TryAdd(BoardedFlight flight)
    {
        var stripe = StripeOf(flight.Key, out var hash);
        lock (stripe)
        {
            return stripe.Find(flight.Key, hash) is null && stripe.Add(flight, hash) == flight;
        }
    }

    /// <summary>Puts <paramref name="flight"/> in the place of <paramref name="current"/> (of the same key), if that is still on the board.</summary>
    public bool TryReplace(BoardedFlight current, BoardedFlight flight)
    {
        var stripe = StripeOf(flight.Key, out var hash);
        lock (stripe)
        {
            return stripe.Replace(current, flight, hash);
        }
    }

    /// <summary>Takes <paramref name="flight"/> off the board, if it is the flight of its key there.</summary>
    public bool TryRemove(BoardedFlight flight)
    {
        var stripe = StripeOf(flight.Key, out var hash);
        lock (stripe)
        {
            return stripe.Replace(flight, replacement: null, hash);
        }
    }

    /// <summary>How many flights are on the board (for tests).</summary>
    internal int Count
    {
        get
        {
            var count = 0;
            foreach (var stripe in _stripes)
            {
                lock (stripe)
                {
                    count += stripe.Count;
                }
            }

            return count;
        }
    }

    private Stripe StripeOf(string key, out int hash)
    {
        // Randomized per process, so that keys chosen from outside (ids in requests) cannot pile up in one bucket.
        hash = key.GetHashCode();
        return _stripes[hash & ((1 << _stripeBits) - 1)];
    }

    /// <summary>One stripe's table: chains of flights in buckets, used only under a lock on the stripe.</summary>
    private sealed class Stripe
    {
        private const int FirstBuckets = 4;

        private BoardedFlight?[] _buckets = new BoardedFlight?[FirstBuckets];
        private int _count;

        public int Count => _count;

        public BoardedFlight? Find(string key, int hash)
        {
            for (var flight = _buckets[BucketOf(hash, _buckets.Length)]; flight is not null; flight = flight.NextOnBoard)
            {
                if (string.Equals(flight.Key, key, StringComparison.Ordinal))
                {
                    return flight;
                }
            }

            return null;
        }

        public BoardedFlight Add(BoardedFlight flight, int hash)
        {
            if (_count >= 2 * _buckets.Length)
            {
                Grow();
            }

            ref var head = ref _buckets[BucketOf(hash, _buckets.Length)];
            flight.NextOnBoard = head;
            head = flight;
            _count++;
            return flight;
        }

        /// <summary>Unlinks <paramref name="current"/> and links <paramref name="replacement"/> (if any) in its place; false if it is not here.</summary>
        public bool Replace(BoardedFlight current, BoardedFlight? replacement, int hash)
        {
            ref var link = ref _buckets[BucketOf(hash, _buckets.Length)];
            while (link is not null)
            {
                if (ReferenceEquals(link, current))
                {
                    if (replacement is null)
                    {
                        link = current.NextOnBoard;
                        _count--;
                    }
                    else
                    {
                        replacement.NextOnBoard = current.NextOnBoard;
                        link = replacement;
                    }

                    // A landed flight may live on with its callers: it must not keep the flights after it alive.
                    current.NextOnBoard = null;
                    return true;
                }

                link = ref link.NextOnBoard;
            }

            return false;
        }

        private void Grow()
        {
            var buckets = new BoardedFlight?[_buckets.Length * 2];
            foreach (var head in _buckets)
            {
                var flight = head;
                while (flight is not null)
                {
                    var next = flight.NextOnBoard;
                    ref var bucket = ref buckets[BucketOf(flight.Key.GetHashCode(), buckets.Length)];
                    flight.NextOnBoard = bucket;
                    bucket = flight;
                    flight = next;
                }
            }

            _buckets = buckets;
        }

        // The stripe took the low bits; the bucket takes the ones above them.
        private static int BucketOf(int hash, int buckets) => (int)((uint)hash >> 6) & (buckets - 1);
    }
}
