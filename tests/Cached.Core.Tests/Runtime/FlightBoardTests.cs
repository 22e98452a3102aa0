using Cached.Runtime;

namespace Cached.Tests.Runtime;

/// <summary>
/// The board of a method's flights in the air: one flight per key, found by whoever boards next until it lands or is
/// replaced, and never lost or doubled when many callers board and land at once, across as many keys as a burst brings.
/// </summary>
public sealed class FlightBoardTests
{
    private sealed class TestFlight(string key) : BoardedFlight(key);

    [Test]
    public void The_first_flight_of_a_key_boards_and_the_next_one_finds_it()
    {
        var board = new FlightBoard();
        var first = new TestFlight("user:1");
        var second = new TestFlight("user:1");

        Assert.Multiple(() =>
        {
            Assert.That(board.GetOrAdd(first), Is.SameAs(first));
            Assert.That(board.GetOrAdd(second), Is.SameAs(first), "a second flight of the key joins the first");
            Assert.That(board.TryAdd(second), Is.False);
            Assert.That(board.GetOrAdd(new TestFlight("user:2")).Key, Is.EqualTo("user:2"), "another key boards a flight of its own");
            Assert.That(board.Count, Is.EqualTo(2));
        });
    }

    [Test]
    public void Keys_are_told_apart_ordinally()
    {
        var board = new FlightBoard();
        var lower = new TestFlight("user:a");
        var upper = new TestFlight("user:A");

        Assert.That(board.GetOrAdd(lower), Is.SameAs(lower));
        Assert.That(board.GetOrAdd(upper), Is.SameAs(upper));
    }

    [Test]
    public void A_flight_lands_only_itself_never_the_newer_flight_that_replaced_it()
    {
        var board = new FlightBoard();
        var old = new TestFlight("k");
        var newer = new TestFlight("k");
        board.GetOrAdd(old);

        Assert.Multiple(() =>
        {
            Assert.That(board.TryReplace(old, newer), Is.True);
            Assert.That(board.TryReplace(old, new TestFlight("k")), Is.False, "the old flight is no longer there to replace");
            Assert.That(board.TryRemove(old), Is.False, "the old flight landing late leaves the newer one");
            Assert.That(board.GetOrAdd(new TestFlight("k")), Is.SameAs(newer));
            Assert.That(board.TryRemove(newer), Is.True);
            Assert.That(board.TryRemove(newer), Is.False, "a second landing finds nothing");
            Assert.That(board.Count, Is.Zero);
        });

        var next = new TestFlight("k");
        Assert.That(board.TryAdd(next), Is.True, "once landed, the key takes a new flight");
    }

    [Test]
    public void A_landed_flight_lets_go_of_the_flights_after_it_in_its_bucket()
    {
        var board = new FlightBoard();
        var flights = Enumerable.Range(0, 200).Select(i => new TestFlight($"k{i}")).ToArray();
        foreach (var flight in flights)
        {
            board.GetOrAdd(flight);
        }

        foreach (var flight in flights)
        {
            Assert.That(board.TryRemove(flight), Is.True, flight.Key);
            Assert.That(flight.NextOnBoard, Is.Null, $"{flight.Key} still links into the board");
        }
    }

    [Test]
    public void Every_flight_of_a_burst_stays_findable_as_its_stripes_grow_and_the_board_empties_after()
    {
        var board = new FlightBoard();
        const int Keys = 20_000;
        var flights = new TestFlight[Keys];
        for (var i = 0; i < Keys; i++)
        {
            flights[i] = new TestFlight($"user:{i}");
            Assert.That(board.GetOrAdd(flights[i]), Is.SameAs(flights[i]));
        }

        Assert.That(board.Count, Is.EqualTo(Keys));
        for (var i = 0; i < Keys; i++)
        {
            if (!ReferenceEquals(board.GetOrAdd(new TestFlight($"user:{i}")), flights[i]))
            {
                Assert.Fail($"user:{i} was lost as the board grew");
            }
        }

        for (var i = Keys - 1; i >= 0; i--)
        {
            Assert.That(board.TryRemove(flights[i]), Is.True);
        }

        Assert.That(board.Count, Is.Zero);
    }

    [Test]
    public async Task Callers_boarding_and_landing_at_once_share_one_flight_per_key_and_leave_nothing_behind()
    {
        var board = new FlightBoard();
        const int Callers = 8;
        const int Rounds = 5_000;
        const int KeysInPlay = 64;
        var leaders = new int[KeysInPlay];
        var doubled = 0;
        using var start = new Barrier(Callers);

        var callers = Enumerable.Range(0, Callers).Select(caller => Task.Run(() =>
        {
            start.SignalAndWait();
            for (var round = 0; round < Rounds; round++)
            {
                var id = (round * 7 + caller) % KeysInPlay;
                var flight = new TestFlight($"key:{id}");
                if (board.GetOrAdd(flight) != flight)
                {
                    continue;
                }

                // The leader of its key: nobody else may lead it until it lands.
                if (Interlocked.Increment(ref leaders[id]) != 1)
                {
                    Interlocked.Increment(ref doubled);
                }

                Thread.SpinWait(20);
                Interlocked.Decrement(ref leaders[id]);
                if (!board.TryRemove(flight))
                {
                    Interlocked.Increment(ref doubled);
                }
            }
        })).ToArray();

        await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Multiple(() =>
        {
            Assert.That(doubled, Is.Zero, "two leaders of one key at once, or a leader whose flight was gone");
            Assert.That(board.Count, Is.Zero);
        });
    }
}
