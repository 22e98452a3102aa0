using Cached.Tests.Runtime;

namespace Cached.Tests.Resilience;

/// <summary>
/// A review of GetOrSet and its resilience options on one level: fifty callers of a key, failures that reach every
/// waiter, durations at the edges of what the options accept, and a timeout without fail-safe.
/// </summary>
public sealed class ResilienceReviewTests : ResilienceFixture
{
    private static readonly CacheEntryOptions s_failSafe = new() { Ttl = TimeSpan.FromSeconds(10), FailSafe = TimeSpan.FromSeconds(60) };

    /// <summary>
    /// Fifty callers of a cold key, all on board before the factory answers (async ones board before their call
    /// returns; sync ones are seen blocked): one factory call, and its outcome for every caller.
    /// </summary>
    private async Task<(object?[] Results, int Calls)> Fifty(bool async, CacheEntryOptions? options, bool fails)
    {
        var calls = 0;
        var results = new object?[50];
        if (async)
        {
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            async ValueTask<int> Factory(CancellationToken _)
            {
                Interlocked.Increment(ref calls);
                await gate.Task;
                return fails ? throw new InvalidOperationException("source down") : 7;
            }

            var callers = Enumerable.Range(0, 50).Select(_ => Cache.GetOrSetAsync("k", Factory, options).AsTask()).ToArray();
            gate.SetResult();
            for (var i = 0; i < callers.Length; i++)
            {
                try
                {
                    results[i] = await callers[i].WaitAsync(Limit);
                }
                catch (Exception ex)
                {
                    results[i] = ex;
                }
            }
        }
        else
        {
            using var gate = new ManualResetEventSlim();
            int Factory(CancellationToken _)
            {
                Interlocked.Increment(ref calls);
                gate.Wait();
                return fails ? throw new InvalidOperationException("source down") : 7;
            }

            var threads = Enumerable.Range(0, 50).Select(i => new Thread(() =>
            {
                try
                {
                    results[i] = Cache.GetOrSet("k", Factory, options);
                }
                catch (Exception ex)
                {
                    results[i] = ex;
                }
            })).ToArray();
            foreach (var thread in threads)
            {
                thread.Start();
            }

            Waits.UntilAllBlocked(threads, Limit);
            gate.Set();
            Assert.That(threads.All(t => t.Join(Limit)), Is.True);
        }

        return (results, calls);
    }

    [Test]
    public async Task Fifty_callers_of_a_cold_key_make_one_factory_call_and_all_get_its_value([Values] bool async, [Values] bool failSafe)
    {
        var (results, calls) = await Fifty(async, failSafe ? s_failSafe : null, fails: false);

        Assert.That(calls, Is.EqualTo(1));
        Assert.That(results, Has.All.EqualTo(7));
    }

    [Test]
    public async Task A_factory_failure_reaches_all_fifty_callers_is_not_stored_and_the_next_call_runs_it_again([Values] bool async, [Values] bool failSafe)
    {
        var options = failSafe ? s_failSafe : null;
        var (results, calls) = await Fifty(async, options, fails: true);

        Assert.That(calls, Is.EqualTo(1));
        Assert.That(results, Has.All.InstanceOf<InvalidOperationException>());
        Assert.That(Cache.Exists("k"), Is.False);
        Assert.That(Cache.GetOrSet("k", _ => 3, options), Is.EqualTo(3));
    }

    [Test]
    public async Task A_factory_that_fails_after_a_soft_timeout_leaves_no_unobserved_task_exception([Values] bool async)
    {
        var soft = s_failSafe with { SoftTimeout = TimeSpan.FromSeconds(1) };
        var unobserved = new List<Exception>();
        void Record(object? sender, UnobservedTaskExceptionEventArgs e)
        {
            lock (unobserved)
            {
                unobserved.Add(e.Exception);
            }
        }

        TaskScheduler.UnobservedTaskException += Record;
        try
        {
            await Cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), soft);
            Time.Advance(TimeSpan.FromSeconds(11));
            var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            var call = async
                ? Cache.GetOrSetAsync("k", _ => new ValueTask<string>(release.Task), soft).AsTask()
                : Task.Run(() => Cache.GetOrSet("k", _ => release.Task.GetAwaiter().GetResult(), soft));
            while (!call.IsCompleted)
            {
                Time.Advance(TimeSpan.FromSeconds(0.5));
                await Task.WhenAny(call, Task.Delay(20));
            }

            Assert.That(await call, Is.EqualTo("v1"));
            release.SetException(new InvalidOperationException("late"));
            await WaitUntil(() => Logs.Entries.Any(static e => e.EventId == 8));
            Assert.That(Cache.Get<string>("k"), Is.EqualTo("v1"), "the late failure made the last value fresh for the throttle");
            for (var i = 0; i < 3; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                await Task.Delay(20);
            }
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= Record;
        }

        Assert.That(unobserved, Is.Empty);
    }

    [Test]
    public async Task A_null_result_with_fail_safe_is_cached_and_served_stale([Values] bool async)
    {
        var calls = 0;
        string? Factory()
        {
            calls++;
            return null;
        }

        for (var i = 0; i < 2; i++)
        {
            var value = async
                ? await Cache.GetOrSetAsync("k", _ => new ValueTask<string?>(Factory()), s_failSafe)
                : Cache.GetOrSet("k", _ => Factory(), s_failSafe);
            Assert.That(value, Is.Null);
        }

        Assert.That(calls, Is.EqualTo(1));
        Assert.That(Cache.Get("k", @default: "none"), Is.Null, "a stored null is not a miss");
        Time.Advance(TimeSpan.FromSeconds(11));
        Assert.That(Cache.Get("k", @default: "none"), Is.EqualTo("none"), "stale: a plain read misses");
        Assert.That(Cache.GetOrSet<string?>("k", _ => throw new InvalidOperationException("source down"), s_failSafe), Is.Null, "the last value, null");
    }

    // FailSafe = TimeSpan.MaxValue reads as "keep the last value for good"; a long Ttl with FailSafe is as plausible.
    // Ttl + FailSafe overflowed TimeSpan in Stamping.Stamp: the factory ran, then the call threw OverflowException,
    // nothing was stored, and every later call ran the factory again. Set with the options threw too.
    private static IEnumerable<TestCaseData> HugeDurations()
    {
        yield return new TestCaseData(TimeSpan.FromMinutes(1), TimeSpan.MaxValue).SetArgDisplayNames("FailSafe=MaxValue");
        yield return new TestCaseData(TimeSpan.MaxValue, TimeSpan.FromHours(1)).SetArgDisplayNames("Ttl=MaxValue");
    }

    [TestCaseSource(nameof(HugeDurations))]
    public async Task A_huge_Ttl_or_FailSafe_stores_the_value_instead_of_overflowing(TimeSpan ttl, TimeSpan failSafe)
    {
        var options = new CacheEntryOptions { Ttl = ttl, FailSafe = failSafe };
        var calls = 0;

        Assert.That(Cache.GetOrSet("sync", _ => ++calls, options), Is.EqualTo(1));
        Assert.That(await Cache.GetOrSetAsync("async", _ => new ValueTask<int>(++calls), options), Is.EqualTo(2));
        Assert.That(Cache.Set("set", 3, options), Is.True);

        // A year on, the value is either fresh (Ttl) or still kept (FailSafe): a failing source is answered with it.
        Time.Advance(TimeSpan.FromDays(365));
        Assert.That(Cache.GetOrSet<int>("sync", _ => throw new InvalidOperationException("source down"), options), Is.EqualTo(1), "stored, and kept");
        Assert.That(await Cache.GetOrSetAsync<int>("async", _ => throw new InvalidOperationException("source down"), options), Is.EqualTo(2));
        Assert.That(calls, Is.EqualTo(2));
    }

    // Task.WaitAsync refuses a timeout past about 49.7 days (uint.MaxValue - 1 ms). The options accept any positive
    // duration ("a bad value throws when it is set"), yet every miss then threw ArgumentOutOfRangeException ("timeout")
    // from the caller's wait, after the factory had started.
    [Test]
    public async Task A_timeout_longer_than_a_timer_can_wait_is_a_wait_with_no_end([Values] bool async, [Values] bool soft)
    {
        var options = soft
            ? s_failSafe with { SoftTimeout = TimeSpan.FromDays(60) }
            : new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), HardTimeout = TimeSpan.FromDays(60) };
        await Cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), options);
        Time.Advance(TimeSpan.FromSeconds(11));

        var value = async ? await Cache.GetOrSetAsync("k", _ => new ValueTask<int>(2), options) : Cache.GetOrSet("k", _ => 2, options);

        Assert.That(value, Is.EqualTo(2));
    }

    // docs/resilience.md: "SoftTimeout applies when a last value is at hand, and past Ttl only FailSafe keeps one"; the
    // attribute form warns that a SoftTimeout without FailSafe "has no effect" (CACHED023), and without FailSafe a failing
    // factory's exception propagates. But a call without FailSafe whose options stamp entries (EagerRefresh) took the
    // stale entry another call's FailSafe kept as its last value, and answered with it at its soft timeout.
    [Test]
    public async Task Without_FailSafe_a_soft_timeout_does_not_answer_with_a_stale_value([Values] bool async)
    {
        var writer = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), FailSafe = TimeSpan.FromMinutes(1) };
        var reader = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), EagerRefresh = 0.8, SoftTimeout = TimeSpan.FromSeconds(1) };
        Cache.GetOrSet("k", _ => "v1", writer);
        Time.Advance(TimeSpan.FromSeconds(11));
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        string Factory()
        {
            started.TrySetResult();
            return release.Task.GetAwaiter().GetResult();
        }

        var call = async
            ? Cache.GetOrSetAsync("k", _ => { started.TrySetResult(); return new ValueTask<string>(release.Task); }, reader).AsTask()
            : Task.Run(() => Cache.GetOrSet("k", _ => Factory(), reader));
        await started.Task.WaitAsync(Limit);
        // A sync call's timer is set on a pool thread: moved in steps, the clock passes it however late it starts.
        for (var i = 0; i < 10 && !call.IsCompleted; i++)
        {
            Time.Advance(TimeSpan.FromSeconds(0.5));
            await Task.WhenAny(call, Task.Delay(20));
        }

        var answeredEarly = call.IsCompleted;
        release.SetResult("v2");

        Assert.That(await call.WaitAsync(Limit), Is.EqualTo("v2"), "the caller waited for the factory, as without a last value");
        Assert.That(answeredEarly, Is.False);
    }
}
