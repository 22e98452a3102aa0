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
        var flight = new CachedMethod<string>.Flight();
        var task = flight.Task;
        Assert.That(task.IsCompleted, Is.False);

        Assert.That(flight.TrySetResult("v"), Is.True);
        Assert.That(await task.WaitAsync(s_limit), Is.EqualTo("v"));
    }

    [Test]
    public void A_task_asked_for_after_the_flight_landed_has_its_value_and_a_second_landing_changes_nothing()
    {
        var flight = new CachedMethod<string>.Flight();
        Assert.That(flight.TrySetResult("first"), Is.True);
        Assert.That(flight.TrySetResult("second"), Is.False);
        Assert.That(flight.TrySetException(new InvalidOperationException()), Is.False);

        Assert.That(flight.Task.IsCompletedSuccessfully, Is.True);
        Assert.That(flight.Task.Result, Is.EqualTo("first"));
    }

    [Test]
    public void A_failure_reaches_a_task_asked_for_before_or_after_it()
    {
        var before = new CachedMethod<int>.Flight();
        var early = before.Task;
        var failure = new InvalidOperationException("body failed");
        Assert.That(before.TrySetException(failure), Is.True);
        Assert.That(early.Exception!.InnerException, Is.SameAs(failure));

        var after = new CachedMethod<int>.Flight();
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
            flights[i] = new CachedMethod<int>.Flight();
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
}
