using Cached.Runtime;

namespace Cached.Tests.Runtime;

/// <summary>
/// A flight makes the task its passengers wait on only when one asks for it, and that task always ends with the
/// flight's outcome, whether it was asked for before the flight landed, after, or at the same moment.
/// </summary>
public sealed class FlightTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);

    [Test]
    public async Task A_task_asked_for_before_the_flight_lands_ends_with_its_value()
    {
        var flight = new CachedMethod<string>.Flight("k");
        var task = flight.Task;
        Assert.That(task.IsCompleted, Is.False);

        Assert.That(flight.TrySetResult("v"), Is.True);
        Assert.That(await task.WaitAsync(s_limit), Is.EqualTo("v"));
    }

    [Test]
    public void A_task_asked_for_after_the_flight_landed_has_its_value_and_a_second_landing_changes_nothing()
    {
        var flight = new CachedMethod<string>.Flight("k");
        Assert.That(flight.TrySetResult("first"), Is.True);
        Assert.That(flight.TrySetResult("second"), Is.False);
        Assert.That(flight.TrySetException(new InvalidOperationException()), Is.False);

        Assert.That(flight.Task.IsCompletedSuccessfully, Is.True);
        Assert.That(flight.Task.Result, Is.EqualTo("first"));
    }

    [Test]
    public void A_flight_takes_88_bytes_with_its_key_and_its_link_on_the_board_so_a_miss_costs_less_than_MemoryCache_s()
    {
        // Every miss makes one. Its three marks live in the outcome's word: as three fields of their own they padded the
        // object by 8 bytes, and a [Cached] miss allocated 312 B against MemoryCache's TryGetValue + Set's 304. The key
        // and the link (FlightBoard) cost 16 bytes and save the 48 of a ConcurrentDictionary node.
        const int Count = 1_000;
        var flights = new CachedMethod<string>.Flight[Count];
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Count; i++)
        {
            flights[i] = new CachedMethod<string>.Flight("k");
        }

        var perFlight = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)Count;
        GC.KeepAlive(flights);
        Assert.That(perFlight, Is.LessThanOrEqualTo(88), $"{perFlight} B per flight");
    }

    [Test]
    public void A_flight_s_marks_and_its_outcome_do_not_disturb_each_other()
    {
        var flight = new CachedMethod<string>.Flight("k") { Stale = true, Detached = true };
        flight.Landed = true;
        Assert.That((flight.Stale, flight.Landed, flight.Detached), Is.EqualTo((true, true, true)));

        Assert.That(flight.TrySetResult("v"), Is.True, "marks set before the landing do not stop it");
        Assert.That(flight.TrySetResult("w"), Is.False);
        flight.Stale = false;
        Assert.That((flight.Stale, flight.Landed, flight.Detached), Is.EqualTo((false, true, true)));
        Assert.That(flight.Task.Result, Is.EqualTo("v"), "and the landing does not lose them, nor they the outcome");

        var failed = new CachedMethod<string>.Flight("k") { Detached = true };
        Assert.That(failed.TrySetException(new InvalidOperationException()), Is.True);
        Assert.That(failed.Detached, Is.True);
        Assert.That(failed.TrySetResult("late"), Is.False);
        Assert.That(failed.Task.IsFaulted, Is.True);
    }

    [Test]
    public void A_failure_reaches_a_task_asked_for_before_or_after_it()
    {
        var before = new CachedMethod<int>.Flight("k");
        var early = before.Task;
        var failure = new InvalidOperationException("body failed");
        Assert.That(before.TrySetException(failure), Is.True);
        Assert.That(early.Exception!.InnerException, Is.SameAs(failure));

        var after = new CachedMethod<int>.Flight("k");
        Assert.That(after.TrySetCanceled(new CancellationToken(canceled: true)), Is.True);
        Assert.That(after.Task.IsCanceled, Is.True);
        Assert.That(after.TrySetResult(1), Is.False);
    }

    [Test]
    public void A_passenger_that_asks_as_the_flight_lands_always_gets_the_value()
    {
        // Each round lines both threads up at a barrier, so the ask and the landing race; a protocol that let both sides
        // miss each other leaves a task that never completes, and the round fails at its limit.
        const int Rounds = 20_000;
        using var barrier = new Barrier(2);
        var flights = new CachedMethod<int>.Flight[Rounds];
        for (var i = 0; i < Rounds; i++)
        {
            flights[i] = new CachedMethod<int>.Flight("k");
        }

        var tasks = new Task<int>[Rounds];
        var passenger = Task.Run(() =>
        {
            for (var i = 0; i < Rounds; i++)
            {
                barrier.SignalAndWait();
                tasks[i] = flights[i].Task;
            }
        });

        for (var i = 0; i < Rounds; i++)
        {
            barrier.SignalAndWait();
            flights[i].TrySetResult(i);
        }

        Assert.That(passenger.Wait(s_limit), Is.True);
        Assert.That(Task.WaitAll(tasks, s_limit), Is.True, "every passenger's task completed");
        Assert.That(tasks.Select(static task => task.Result), Is.EqualTo(Enumerable.Range(0, Rounds)));
    }

    [Test]
    public void A_mark_set_as_the_flight_lands_is_kept_and_so_is_the_outcome([Values] bool fails)
    {
        // The marks share the outcome's word: a caller marking the flight detached at a timeout races its leader's
        // landing. Each round lines both up at a barrier; neither may lose the other's write.
        const int Rounds = 20_000;
        using var barrier = new Barrier(2);
        var flights = new CachedMethod<int>.Flight[Rounds];
        for (var i = 0; i < Rounds; i++)
        {
            flights[i] = new CachedMethod<int>.Flight("k");
        }

        var failure = new InvalidOperationException("body failed");
        var marker = Task.Run(() =>
        {
            for (var i = 0; i < Rounds; i++)
            {
                barrier.SignalAndWait();
                flights[i].Detached = true;
            }
        });

        for (var i = 0; i < Rounds; i++)
        {
            barrier.SignalAndWait();
            flights[i].Stale = i % 2 == 0;
            Assert.That(fails ? flights[i].TrySetException(failure) : flights[i].TrySetResult(i), Is.True);
        }

        Assert.That(marker.Wait(s_limit), Is.True);
        for (var i = 0; i < Rounds; i++)
        {
            var flight = flights[i];
            Assert.That((flight.Detached, flight.Stale, flight.Landed), Is.EqualTo((true, i % 2 == 0, false)), $"round {i}");
            if (fails)
            {
                Assert.That(flight.Task.Exception!.InnerException, Is.SameAs(failure), $"round {i}");
            }
            else
            {
                Assert.That(flight.Task.Result, Is.EqualTo(i), $"round {i}");
            }

            Assert.That(flight.TrySetResult(-1), Is.False, $"round {i}: landed once");
        }
    }
}
