namespace Cached.Tests.Resilience;

/// <summary>SoftTimeout and HardTimeout: how long a caller waits for the factory, and what it gets when it stops.</summary>
public sealed class FactoryTimeoutTests : ResilienceFixture
{
    private static readonly CacheEntryOptions s_soft = new()
    {
        Ttl = TimeSpan.FromSeconds(10),
        FailSafe = TimeSpan.FromSeconds(60),
        SoftTimeout = TimeSpan.FromSeconds(1),
    };


    /// <summary>Moves the fake clock by <paramref name="step"/> until <paramref name="call"/> ends: a sync call's timer may start late.</summary>
    private async Task<T> AdvanceUntilDone<T>(Task<T> call, TimeSpan step)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (!call.IsCompleted && DateTime.UtcNow < deadline)
        {
            Time.Advance(step);
            await Task.WhenAny(call, Task.Delay(20));
        }

        return await call.WaitAsync(Limit);
    }

    private Task<string> Call(bool async, Func<CancellationToken, Task<string>> factory, CacheEntryOptions options, CancellationToken cancellationToken = default)
        => async
            ? Cache.GetOrSetAsync("k", ct => new ValueTask<string>(factory(ct)), options, cancellationToken: cancellationToken).AsTask()
            : Task.Run(() => Cache.GetOrSet("k", ct => factory(ct).GetAwaiter().GetResult(), options));

    /// <summary>
    /// Starts a call whose factory waits, moves the clock <paramref name="seconds"/> seconds one at a time, checks the
    /// caller still waits, then lets the factory answer <paramref name="value"/>: what the caller got.
    /// </summary>
    private async Task<string> StillWaitingAfter(int seconds, bool async, CacheEntryOptions options, string value)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = Call(async, _ =>
        {
            started.TrySetResult();
            return release.Task;
        }, options);

        // The clock moves only once the call has read and started the factory, and (a sync call's timer is set on a
        // pool thread) a moment after: moved earlier, it would pass a timer set later, and the test could not fail.
        await started.Task.WaitAsync(Limit);
        await Task.Delay(50);
        for (var i = 0; i < seconds; i++)
        {
            Time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(20);
        }

        Assert.That(call.IsCompleted, Is.False, "the caller still waits for the factory");
        release.SetResult(value);
        return await call.WaitAsync(Limit);
    }

    private async Task StaleEntry(CacheEntryOptions options)
    {
        await Cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), options);
        Time.Advance(TimeSpan.FromSeconds(11));
    }

    [Test]
    public async Task SoftTimeout_answers_with_the_last_value_and_the_factory_stores_its_result_later([Values] bool async)
    {
        await StaleEntry(s_soft);
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);

        var answer = await AdvanceUntilDone(Call(async, _ => release.Task, s_soft), TimeSpan.FromSeconds(0.5));
        Assert.That(answer, Is.EqualTo("v1"), "the last value, at the soft timeout");

        release.SetResult("v2");
        await WaitUntil(() => Cache.Get<string>("k") == "v2");
        Assert.That(await Cache.GetOrSetAsync("k", _ => new ValueTask<string>("not called"), s_soft), Is.EqualTo("v2"));
    }

    [Test]
    public async Task SoftTimeout_without_a_last_value_waits_for_the_factory([Values] bool async)
    {
        Assert.That(await StillWaitingAfter(seconds: 5, async, s_soft, "v1"), Is.EqualTo("v1"), "nothing to answer with: the caller waited");
    }

    [Test]
    public async Task HardTimeout_without_a_last_value_throws_TimeoutException_and_the_late_result_is_stored([Values] bool async)
    {
        var hard = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), HardTimeout = TimeSpan.FromSeconds(2) };
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = Call(async, _ => release.Task, hard);

        Assert.That(async () => await AdvanceUntilDone(call, TimeSpan.FromSeconds(1)), Throws.InstanceOf<TimeoutException>().With.Message.Contains("'k'"));
        release.SetResult("late");
        await WaitUntil(() => Cache.Get<string>("k") == "late");
    }

    [Test]
    public async Task SoftTimeout_past_the_last_value_s_FailSafe_window_goes_on_waiting_for_the_factory([Values] bool async)
    {
        // Stale at 11 s and kept until 15 s: the soft timeout, 5 s after the call began, comes after that.
        var shortWindow = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), FailSafe = TimeSpan.FromSeconds(5), SoftTimeout = TimeSpan.FromSeconds(5) };
        await StaleEntry(shortWindow);

        Assert.That(await StillWaitingAfter(seconds: 10, async, shortWindow, "v2"), Is.EqualTo("v2"), "the last value is gone: the caller waited as if there were none");
    }

    [Test]
    public async Task SoftTimeout_past_the_last_value_s_FailSafe_window_then_HardTimeout_throws([Values] bool async)
    {
        var both = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), FailSafe = TimeSpan.FromSeconds(5), SoftTimeout = TimeSpan.FromSeconds(5), HardTimeout = TimeSpan.FromSeconds(8) };
        await StaleEntry(both);
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);

        Assert.That(async () => await AdvanceUntilDone(Call(async, _ => release.Task, both), TimeSpan.FromSeconds(1)), Throws.InstanceOf<TimeoutException>());
        release.SetResult("late");
    }

    [Test]
    public async Task HardTimeout_with_a_last_value_answers_with_it([Values] bool async)
    {
        var hard = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), FailSafe = TimeSpan.FromSeconds(60), HardTimeout = TimeSpan.FromSeconds(2) };
        await StaleEntry(hard);
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);

        Assert.That(await AdvanceUntilDone(Call(async, _ => release.Task, hard), TimeSpan.FromSeconds(1)), Is.EqualTo("v1"));
        release.SetResult("v2");
        await WaitUntil(() => Cache.Get<string>("k") == "v2");
    }

    [Test]
    public async Task The_shorter_of_the_two_timeouts_applies_with_a_last_value()
    {
        var both = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), FailSafe = TimeSpan.FromSeconds(60), SoftTimeout = TimeSpan.FromSeconds(5), HardTimeout = TimeSpan.FromSeconds(1) };
        await StaleEntry(both);
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = Call(async: true, _ => release.Task, both);

        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(await call.WaitAsync(Limit), Is.EqualTo("v1"));
        release.SetResult("v2");
    }

    [Test]
    public async Task A_caller_that_left_at_a_timeout_no_longer_cancels_the_factory()
    {
        await StaleEntry(s_soft);
        using var caller = new CancellationTokenSource();
        var factoryToken = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = Call(async: true, ct =>
        {
            factoryToken.SetResult(ct);
            return release.Task;
        }, s_soft, caller.Token);

        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(await call.WaitAsync(Limit), Is.EqualTo("v1"));
        caller.Cancel();

        Assert.That((await factoryToken.Task).IsCancellationRequested, Is.False);
        release.SetResult("v2");
        await WaitUntil(() => Cache.Get<string>("k") == "v2");
    }

    [Test]
    public async Task A_factory_s_own_TimeoutException_is_a_failure_that_fail_safe_answers()
    {
        await StaleEntry(s_soft);

        var answer = await Call(async: true, _ => Task.FromException<string>(new TimeoutException("the source's own timeout")), s_soft).WaitAsync(Limit);

        Assert.That(answer, Is.EqualTo("v1"));
    }

    [Test]
    public async Task Disposing_the_cache_cancels_a_factory_left_running_after_a_timeout()
    {
        await StaleEntry(s_soft);
        var factoryToken = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = Call(async: true, async ct =>
        {
            factoryToken.SetResult(ct);
            await Task.Delay(Timeout.Infinite, ct);
            return "never";
        }, s_soft);
        Time.Advance(TimeSpan.FromSeconds(1));
        await call.WaitAsync(Limit);

        Cache.Dispose();

        var token = await factoryToken.Task;
        await WaitUntil(() => token.IsCancellationRequested);
    }

    [Test]
    public async Task The_leader_s_cancellation_leaves_a_resilient_miss_running_for_a_waiter()
    {
        var hard = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), HardTimeout = TimeSpan.FromMinutes(1) };
        using var leaving = new CancellationTokenSource();
        var started = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var leader = Cache.GetOrSetAsync("k", async ct =>
        {
            started.SetResult(ct);
            return await release.Task.WaitAsync(ct);
        }, hard, cancellationToken: leaving.Token).AsTask();
        var factoryToken = await started.Task.WaitAsync(Limit);
        var waiter = Cache.GetOrSetAsync("k", _ => new ValueTask<string>("from the waiter"), hard).AsTask();

        leaving.Cancel();

        Assert.That(async () => await leader, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(factoryToken.IsCancellationRequested, Is.False, "a caller still waits for the factory");
        release.SetResult("from the factory");
        Assert.That(await waiter.WaitAsync(Limit), Is.EqualTo("from the factory"), "the waiter was not made to call it again");
        Assert.That(Cache.Get<string>("k"), Is.EqualTo("from the factory"));
    }
}
