using Cached.Pipeline;

namespace Cached.Tests.Pipeline;

/// <summary>
/// One timer per cache keeps the timeout of its remote commands: a command that ends in time hands its outcome over,
/// one that runs late fails with a <see cref="TimeoutException"/> at a sweep past its deadline and is still observed
/// when it ends, and the watching objects (one pool per result type) and the timer are reused and stopped. Commands
/// are task sources the tests complete.
/// </summary>
public sealed class CommandDeadlinesTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);

    private static long DeadlineIn(TimeSpan span)
        => TimeProvider.System.GetTimestamp() + (long)(span.TotalSeconds * TimeProvider.System.TimestampFrequency);

    private static ValueTask<CacheResult<object?>> Pending(TaskCompletionSource<CacheResult<object?>> source) => new(source.Task);

    [Test]
    public async Task A_read_that_ends_in_time_hands_over_its_value_and_its_watcher_is_reused()
    {
        var deadlines = new CommandDeadlines(s_timeout);
        var first = new TaskCompletionSource<CacheResult<object?>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var watched = deadlines.Watch(Pending(first), DeadlineIn(s_timeout)).AsTask();
        Assert.That(deadlines.Watched, Is.EqualTo(1));

        first.SetResult(new CacheResult<object?>(true, "v"));
        Assert.That((await watched.WaitAsync(s_limit)).Value, Is.EqualTo("v"));
        await WaitUntil(() => deadlines.Watched == 0);

        await AssertServesTheNextRead(deadlines, "a reused watcher hands over the new read's value");
    }

    [Test]
    public async Task Commands_of_other_result_types_are_watched_side_by_side_each_from_its_own_pool()
    {
        var deadlines = new CommandDeadlines(s_timeout);
        for (var round = 0; round < 3; round++)
        {
            var count = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            var flag = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            var counted = deadlines.Watch(new ValueTask<int>(count.Task), DeadlineIn(s_timeout)).AsTask();
            var flagged = deadlines.Watch(new ValueTask<bool>(flag.Task), DeadlineIn(s_timeout)).AsTask();

            flag.SetResult(true);
            count.SetResult(round);
            Assert.That(await counted.WaitAsync(s_limit), Is.EqualTo(round));
            Assert.That(await flagged.WaitAsync(s_limit), Is.True);
            await WaitUntil(() => deadlines.Watched == 0);
        }
    }

    [Test]
    public async Task Many_reads_at_once_from_many_threads_each_get_their_own_value_and_reuse_the_watchers_made_for_the_first()
    {
        // More reads at once than the pool has slots, so that watchers also go through its spare stack.
        const int AtOnce = 100;
        var deadlines = new CommandDeadlines(s_timeout);
        for (var round = 0; round < 5; round++)
        {
            var sources = Enumerable.Range(0, AtOnce).Select(static _ => new TaskCompletionSource<CacheResult<object?>>(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
            var watched = await Task.WhenAll(sources.Select(source => Task.Factory.StartNew(() => deadlines.Watch(Pending(source), DeadlineIn(s_limit)).AsTask(), CancellationToken.None, TaskCreationOptions.None, TaskScheduler.Default)));
            await Task.WhenAll(sources.Select((source, i) => Task.Run(() => source.SetResult(new CacheResult<object?>(true, $"{round}:{i}")))));

            var values = await Task.WhenAll(watched).WaitAsync(s_limit);
            Assert.That(values.Select(static v => v.Value), Is.EqualTo(Enumerable.Range(0, AtOnce).Select(i => $"{round}:{i}")), $"round {round}");
            // A watcher goes back once its command has ended and its awaiter has its value, in either order.
            await WaitUntil(() => deadlines.Watched == 0 && deadlines.Idle == deadlines.Made);
        }

        Assert.That(deadlines.Made, Is.EqualTo(AtOnce), "the first round's watchers serve every later round");
    }

    [Test]
    public async Task Workers_that_watch_and_complete_reads_in_a_loop_race_rents_against_returns_and_lose_no_watcher()
    {
        // Each worker's next read starts while watchers of its and the others' last reads are still going back.
        const int Workers = 8;
        const int ReadsEach = 2_000;
        var deadlines = new CommandDeadlines(s_timeout);
        var workers = Enumerable.Range(0, Workers).Select(worker => Task.Run(async () =>
        {
            for (var read = 0; read < ReadsEach; read++)
            {
                var source = new TaskCompletionSource<CacheResult<object?>>(TaskCreationOptions.RunContinuationsAsynchronously);
                var watched = deadlines.Watch(Pending(source), DeadlineIn(s_limit));
                var value = $"{worker}:{read}";
                _ = Task.Run(() => source.SetResult(new CacheResult<object?>(true, value)));
                Assert.That((await watched).Value, Is.EqualTo(value));
            }
        }));

        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromMinutes(2));
        await WaitUntil(() => deadlines.Watched == 0 && deadlines.Idle == deadlines.Made);

        // A watcher dropped or never reused would show as thousands made; a few per worker come of the overlap.
        Assert.That(deadlines.Made, Is.InRange(1, Workers * 8));
    }

    [Test]
    public async Task A_failure_of_the_read_reaches_its_awaiter()
    {
        var deadlines = new CommandDeadlines(s_timeout);
        var read = new TaskCompletionSource<CacheResult<object?>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var watched = deadlines.Watch(Pending(read), DeadlineIn(s_timeout)).AsTask();

        var failure = new InvalidOperationException("the backend failed");
        read.SetException(failure);
        Assert.That(async () => await watched.WaitAsync(s_limit), Throws.InvalidOperationException.With.SameAs(failure));
    }

    [Test]
    public async Task A_late_read_fails_at_the_first_sweep_past_its_deadline_and_is_observed_when_it_ends()
    {
        var deadlines = new CommandDeadlines(s_timeout);
        var read = new TaskCompletionSource<CacheResult<object?>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = TimeProvider.System.GetTimestamp();
        var watched = deadlines.Watch(Pending(read), DeadlineIn(s_timeout)).AsTask();

        Assert.That(async () => await watched.WaitAsync(s_limit), Throws.InstanceOf<TimeoutException>());
        var waited = TimeProvider.System.GetElapsedTime(started);
        Assert.That(waited, Is.GreaterThanOrEqualTo(s_timeout - TimeSpan.FromMilliseconds(5)), "not before the deadline");
        // 5 s of room for a stall of a loaded CI machine: still far from the test's limit, which a read never swept reaches.
        Assert.That(waited, Is.LessThan(s_timeout + TimeSpan.FromSeconds(5)), "at a sweep soon after it (every 20 ms here), not at the test's limit");
        TestContext.Out.WriteLine($"timed out after {waited.TotalMilliseconds:F0} ms");
        Assert.That(deadlines.Watched, Is.EqualTo(1), "the read itself is still awaited");

        // The read fails after its awaiter has gone: the watcher takes the failure, so nothing goes unobserved.
        read.SetException(new InvalidOperationException("too late"));
        await WaitUntil(() => deadlines.Watched == 0);

        await AssertServesTheNextRead(deadlines, "the watcher of a late read serves the next one");
    }

    [Test]
    public async Task The_timer_stops_when_no_read_is_watched_and_starts_with_the_next()
    {
        var deadlines = new CommandDeadlines(s_timeout);
        var read = new TaskCompletionSource<CacheResult<object?>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var watched = deadlines.Watch(Pending(read), DeadlineIn(s_timeout)).AsTask();
        Assert.That(deadlines.IsTicking, Is.True);

        read.SetResult(new CacheResult<object?>(true, 1));
        await watched.WaitAsync(s_limit);
        await WaitUntil(() => !deadlines.IsTicking);
        Assert.That(deadlines.IsRunning, Is.False, "the timer is stopped, not only marked so");

        var late = new TaskCompletionSource<CacheResult<object?>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var again = deadlines.Watch(Pending(late), DeadlineIn(s_timeout)).AsTask();
        Assert.That(deadlines.IsTicking, Is.True, "a read watched after the stop starts the timer again");

        // A sweep queued before the stop may run after it, or two may overlap: each leaves the timer running while a
        // read is watched, so the timer is never left stopped while marked running.
        deadlines.Sweep();
        deadlines.Sweep();
        Assert.That(deadlines.IsRunning, Is.True);
        Assert.That(async () => await again.WaitAsync(s_limit), Throws.InstanceOf<TimeoutException>(), "and its deadline is kept");
        late.SetResult(default);
    }

    [Test]
    public async Task A_read_watched_while_a_sweep_stops_the_timer_keeps_it_running()
    {
        // The timer stops when a sweep finds no read waiting; a read watched at that moment must either be seen by the
        // sweep or see the timer stopped and start it. Each round lines a watch and a sweep up at a barrier with the
        // timer marked running and nothing else watched, then checks the read is still under a running timer.
        var deadlines = new CommandDeadlines(TimeSpan.FromSeconds(30));
        var warm = new TaskCompletionSource<CacheResult<object?>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = deadlines.Watch(Pending(warm), DeadlineIn(TimeSpan.FromSeconds(30))).AsTask();
        warm.SetResult(default);
        await first.WaitAsync(s_limit);
        for (var round = 0; round < 2_000; round++)
        {
            Assert.That(deadlines.IsTicking, Is.True, "each round starts with the timer marked running");
            var read = new TaskCompletionSource<CacheResult<object?>>(TaskCreationOptions.RunContinuationsAsynchronously);
            ValueTask<CacheResult<object?>> watched = default;
            using var barrier = new Barrier(2);
            var watcher = Task.Run(() =>
            {
                barrier.SignalAndWait();
                watched = deadlines.Watch(Pending(read), DeadlineIn(TimeSpan.FromSeconds(30)));
            });
            var sweeper = Task.Run(() =>
            {
                barrier.SignalAndWait();
                deadlines.Sweep();
            });
            await Task.WhenAll(watcher, sweeper).WaitAsync(s_limit);

            Assert.That(deadlines.IsRunning, Is.True, $"round {round}: a waiting read was left without a running timer");
            read.SetResult(default);
            await watched.AsTask().WaitAsync(s_limit);
        }
    }

    [Test]
    public void A_sweep_fails_only_reads_past_their_deadline()
    {
        var deadlines = new CommandDeadlines(TimeSpan.FromSeconds(30));
        var early = new TaskCompletionSource<CacheResult<object?>>();
        var late = new TaskCompletionSource<CacheResult<object?>>();
        var inTime = deadlines.Watch(Pending(early), DeadlineIn(TimeSpan.FromSeconds(30)));
        var overdue = deadlines.Watch(Pending(late), DeadlineIn(-TimeSpan.FromSeconds(1)));

        deadlines.Sweep();

        Assert.Multiple(() =>
        {
            Assert.That(inTime.IsCompleted, Is.False);
            Assert.That(overdue.IsFaulted, Is.True);
        });
        early.SetResult(default);
        late.SetResult(default);
    }

    [Test]
    public void A_read_already_complete_is_handed_back_as_it_is()
    {
        var deadlines = new CommandDeadlines(s_timeout);
        var done = new ValueTask<CacheResult<object?>>(new CacheResult<object?>(true, "now"));
        var watched = deadlines.Watch(done, DeadlineIn(s_timeout));
        Assert.That(watched.Result.Value, Is.EqualTo("now"));
        Assert.That(deadlines.Watched, Is.Zero);
        Assert.That(deadlines.IsTicking, Is.False);
    }

    [Test]
    public void A_timeout_under_the_shortest_is_refused()
        => Assert.That(() => new CommandDeadlines(TimeSpan.FromMilliseconds(50)), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("timeout"));

    /// <summary>Watches one more read, ends it in time, and checks its value is handed over.</summary>
    private static async Task AssertServesTheNextRead(CommandDeadlines deadlines, string because)
    {
        var next = new TaskCompletionSource<CacheResult<object?>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var watched = deadlines.Watch(Pending(next), DeadlineIn(s_timeout)).AsTask();
        next.SetResult(new CacheResult<object?>(true, "next"));
        Assert.That((await watched.WaitAsync(s_limit)).Value, Is.EqualTo("next"), because);
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
