using Cached.Pipeline;

namespace Cached.Tests.Pipeline;

/// <summary>
/// The shared deadlines watching a backend client's own task (<see cref="PendingEntryRead"/>) rather than a frame of
/// the backend's: the entry its result becomes is handed over, the client's own exception passes as it is, a late read
/// fails with a <see cref="TimeoutException"/> and is still observed, and one watcher serves task and frame reads alike.
/// </summary>
public sealed class CommandDeadlinesClientTaskTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);

    // What RedisCache hands out: the client's string reply, taken as GetAwaiter().GetResult() takes it.
    private static readonly Func<Task, CacheResult<object?>> s_toEntry
        = static reply => ((Task<string?>)reply).GetAwaiter().GetResult() is { } value ? new CacheResult<object?>(true, value) : default;

    private static long DeadlineIn(TimeSpan span)
        => TimeProvider.System.GetTimestamp() + (long)(span.TotalSeconds * TimeProvider.System.TimestampFrequency);

    [Test]
    public async Task A_client_reply_in_time_becomes_the_entry_and_its_watcher_then_serves_a_frame_read()
    {
        var deadlines = new CommandDeadlines(s_timeout);
        var reply = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var watched = deadlines.Watch(reply.Task, s_toEntry, DeadlineIn(s_timeout)).AsTask();
        Assert.That(deadlines.Watched, Is.EqualTo(1));
        Assert.That(deadlines.IsTicking, Is.True, "a client's task is under the timer like a frame");

        reply.SetResult("v");
        Assert.That((await watched.WaitAsync(s_limit)).Value, Is.EqualTo("v"));
        await WaitUntil(() => deadlines.Watched == 0 && deadlines.Idle == deadlines.Made);

        // The same watcher, now for a read through a frame: nothing of the client's task is left in it.
        var frame = new TaskCompletionSource<CacheResult<object?>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var next = deadlines.Watch(new ValueTask<CacheResult<object?>>(frame.Task), DeadlineIn(s_timeout)).AsTask();
        frame.SetResult(new CacheResult<object?>(true, "frame"));
        Assert.That((await next.WaitAsync(s_limit)).Value, Is.EqualTo("frame"));
        Assert.That(deadlines.Made, Is.EqualTo(1), "one watcher served both");
    }

    [Test]
    public async Task A_missing_entry_and_a_failed_reply_come_through_as_the_client_gave_them()
    {
        var deadlines = new CommandDeadlines(s_timeout);
        var missing = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var failed = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var absent = deadlines.Watch(missing.Task, s_toEntry, DeadlineIn(s_timeout)).AsTask();
        var broken = deadlines.Watch(failed.Task, s_toEntry, DeadlineIn(s_timeout)).AsTask();

        missing.SetResult(null);
        var failure = new InvalidOperationException("the client's own");
        failed.SetException(failure);

        Assert.That((await absent.WaitAsync(s_limit)).Found, Is.False);
        Assert.That(async () => await broken.WaitAsync(s_limit), Throws.InvalidOperationException.With.SameAs(failure), "not wrapped in an AggregateException");
    }

    [Test]
    public async Task A_late_client_reply_fails_past_its_deadline_and_is_observed_when_it_ends()
    {
        var deadlines = new CommandDeadlines(s_timeout);
        var reply = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = TimeProvider.System.GetTimestamp();
        var watched = deadlines.Watch(reply.Task, s_toEntry, DeadlineIn(s_timeout)).AsTask();

        Assert.That(async () => await watched.WaitAsync(s_limit), Throws.InstanceOf<TimeoutException>());
        Assert.That(TimeProvider.System.GetElapsedTime(started), Is.GreaterThanOrEqualTo(s_timeout - TimeSpan.FromMilliseconds(5)), "not before the deadline");
        Assert.That(deadlines.Watched, Is.EqualTo(1), "the client's task is still awaited");

        reply.SetException(new InvalidOperationException("too late"));
        await WaitUntil(() => deadlines.Watched == 0 && deadlines.Idle == deadlines.Made);
    }

    [Test]
    public void A_client_reply_already_ended_is_taken_at_once_without_a_watcher()
    {
        var deadlines = new CommandDeadlines(s_timeout);
        var done = deadlines.Watch(Task.FromResult<string?>("now"), s_toEntry, DeadlineIn(s_timeout));
        var failure = new InvalidOperationException("at once");
        var failed = deadlines.Watch(Task.FromException<string?>(failure), s_toEntry, DeadlineIn(s_timeout));

        Assert.That(done.Result.Value, Is.EqualTo("now"));
        Assert.That(failed.IsFaulted, Is.True);
        Assert.That(() => failed.GetAwaiter().GetResult(), Throws.InvalidOperationException.With.SameAs(failure));
        Assert.That(deadlines.Made, Is.Zero);
        Assert.That(deadlines.IsTicking, Is.False);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var started = TimeProvider.System.GetTimestamp();
        while (!condition())
        {
            Assert.That(TimeProvider.System.GetElapsedTime(started), Is.LessThan(s_limit), "the condition never held");
            await Task.Delay(5);
        }
    }
}
