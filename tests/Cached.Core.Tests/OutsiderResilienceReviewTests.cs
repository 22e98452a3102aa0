using Microsoft.Extensions.Time.Testing;
using JsonSerializer = Cached.Serializers.JsonSerializer;

namespace Cached.Tests.Outsider;

/// <summary>
/// An outsider's review of GetOrSet's resilience options (docs/resilience.md, docs/usage.md) on the memory cache with
/// a fake clock: fail-safe and its throttle, soft and hard timeouts, eager refresh, cancellation of single flights and
/// argument checks. Each test asserts what the docs say.
/// </summary>
[NonParallelizable]
public sealed class OutsiderResilienceReviewTests
{
    // 10 s: every wait on it ends at once when the code is right; a loaded CI machine can stall a few seconds.
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    private static readonly CacheEntryOptions s_failSafe = new()
    {
        Ttl = TimeSpan.FromMinutes(1),
        FailSafe = TimeSpan.FromHours(1),
        FailSafeThrottle = TimeSpan.FromSeconds(30),
    };

    private FakeTimeProvider _time = null!;
    private SimpleMemoryCache _cache = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        _cache = new SimpleMemoryCache { TimeProvider = _time };
    }

    [TearDown]
    public void TearDown() => _cache.Dispose();

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (!condition())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "timed out waiting");
            await Task.Delay(5);
        }
    }

    private static SimpleMemoryCache Bytes(FakeTimeProvider time) => new() { TimeProvider = time, Serializer = new JsonSerializer() };

    private async Task<string> Call(bool async, Func<string> factory, CacheEntryOptions options, string key = "k", SimpleMemoryCache? cache = null)
    {
        cache ??= _cache;
        return async
            ? await cache.GetOrSetAsync(key, _ => new ValueTask<string>(factory()), options)
            : cache.GetOrSet(key, _ => factory(), options);
    }

    // ---------------------------------------------------------------- fail-safe

    [Test]
    public async Task FailSafe_a_failing_factory_after_Ttl_answers_the_last_value_and_the_throttle_holds_off_the_source([Values] bool async, [Values] bool bytes)
    {
        using var cache = bytes ? Bytes(_time) : null;
        var target = cache ?? _cache;
        Assert.That(await Call(async, () => "v1", s_failSafe, cache: target), Is.EqualTo("v1"));
        _time.Advance(TimeSpan.FromMinutes(2));

        var calls = 0;
        string Failing()
        {
            calls++;
            throw new InvalidOperationException("source down");
        }

        Assert.That(await Call(async, Failing, s_failSafe, cache: target), Is.EqualTo("v1"));
        Assert.That(calls, Is.EqualTo(1));
        Assert.That(target.Get<string>("k"), Is.EqualTo("v1"), "fresh again for the throttle");

        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.That(await Call(async, Failing, s_failSafe, cache: target), Is.EqualTo("v1"));
        Assert.That(calls, Is.EqualTo(1), "within the 30 s throttle the source is not called");

        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.That(await Call(async, Failing, s_failSafe, cache: target), Is.EqualTo("v1"));
        Assert.That(calls, Is.EqualTo(2), "past the throttle the source is tried once more");

        _time.Advance(TimeSpan.FromSeconds(31));
        Assert.That(await Call(async, () => "v2", s_failSafe, cache: target), Is.EqualTo("v2"), "a succeeding factory replaces the last value");
        Assert.That(target.Get<string>("k"), Is.EqualTo("v2"));
    }

    [Test]
    public void FailSafe_without_a_last_value_the_factory_exception_propagates_and_nothing_is_stored([Values] bool async)
    {
        var ex = Assert.CatchAsync<InvalidOperationException>(async () =>
            await Call(async, () => throw new InvalidOperationException("no value"), s_failSafe));
        Assert.That(ex!.Message, Is.EqualTo("no value"));
        Assert.That(_cache.TryGet<string>("k", out _), Is.False);
    }

    [Test]
    public async Task FailSafe_past_Ttl_plus_FailSafe_the_exception_propagates([Values] bool async)
    {
        await Call(async, () => "v1", s_failSafe);
        _time.Advance(TimeSpan.FromMinutes(61) + TimeSpan.FromSeconds(1));

        Assert.CatchAsync<InvalidOperationException>(async () => await Call(async, () => throw new InvalidOperationException("down"), s_failSafe));
        Assert.That(_cache.TryGet<string>("k", out _), Is.False);
    }

    [Test]
    public async Task FailSafe_the_throttle_is_cut_to_what_FailSafe_has_left([Values] bool async)
    {
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), FailSafe = TimeSpan.FromSeconds(10), FailSafeThrottle = TimeSpan.FromSeconds(30) };
        await Call(async, () => "v1", options);
        _time.Advance(TimeSpan.FromSeconds(65));
        Assert.That(await Call(async, () => throw new InvalidOperationException("down"), options), Is.EqualTo("v1"));
        Assert.That(_cache.Get<string>("k"), Is.EqualTo("v1"));

        _time.Advance(TimeSpan.FromSeconds(6)); // 71 s: past Ttl + FailSafe, though within the 30 s throttle
        Assert.That(_cache.TryGet<string>("k", out _), Is.False, "the throttle never keeps the value past the end FailSafe gave it");
        Assert.CatchAsync<InvalidOperationException>(async () => await Call(async, () => throw new InvalidOperationException("down"), options));
    }

    [Test]
    public async Task FailSafe_a_last_value_whose_window_ends_while_the_factory_runs_is_not_served()
    {
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), FailSafe = TimeSpan.FromMinutes(1) };
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), options);
        _time.Advance(TimeSpan.FromSeconds(110));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = _cache.GetOrSetAsync<string>("k", async _ =>
        {
            started.TrySetResult();
            await gate.Task;
            throw new InvalidOperationException("down");
        }, options).AsTask();
        await started.Task.WaitAsync(Limit);
        _time.Advance(TimeSpan.FromSeconds(20)); // 130 s: the window ended at 120 s
        gate.SetResult();

        Assert.That(async () => await call.WaitAsync(Limit), Throws.InvalidOperationException);
    }

    [Test]
    public async Task FailSafe_a_factory_throwing_its_own_TaskCanceledException_is_a_failure_fail_safe_answers([Values] bool async)
    {
        // Like HttpClient's timeout: a TaskCanceledException whose token is not the factory's. Only "a factory cancelled
        // through its token did not fail"; this one did.
        await Call(async, () => "v1", s_failSafe);
        _time.Advance(TimeSpan.FromMinutes(2));

        Assert.That(await Call(async, () => throw new TaskCanceledException("http timeout"), s_failSafe), Is.EqualTo("v1"));
    }

    [Test]
    public async Task FailSafe_a_factory_throwing_a_TimeoutException_is_a_failure_fail_safe_answers([Values] bool async)
    {
        await Call(async, () => "v1", s_failSafe);
        _time.Advance(TimeSpan.FromMinutes(2));

        Assert.That(await Call(async, () => throw new TimeoutException("db timeout"), s_failSafe), Is.EqualTo("v1"));
    }

    [Test]
    public async Task FailSafe_every_waiter_of_the_failing_flight_gets_the_last_value()
    {
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_failSafe);
        _time.Advance(TimeSpan.FromMinutes(2));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        async ValueTask<string> Failing(CancellationToken _)
        {
            Interlocked.Increment(ref calls);
            await gate.Task;
            throw new InvalidOperationException("down");
        }

        var callers = Enumerable.Range(0, 5).Select(_ => _cache.GetOrSetAsync("k", Failing, s_failSafe).AsTask()).ToArray();
        await WaitUntil(() => Volatile.Read(ref calls) == 1);
        gate.SetResult();
        var answers = await Task.WhenAll(callers).WaitAsync(Limit);

        Assert.That(answers, Is.All.EqualTo("v1"));
        Assert.That(calls, Is.EqualTo(1));
    }

    [Test]
    public async Task FailSafe_of_TimeSpan_MaxValue_keeps_the_last_value_for_a_long_time([Values] bool bytes)
    {
        using var cache = bytes ? Bytes(_time) : null;
        var target = cache ?? _cache;
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), FailSafe = TimeSpan.MaxValue };
        Assert.That(await target.GetOrSetAsync("k", _ => new ValueTask<int>(7), options), Is.EqualTo(7));
        _time.Advance(TimeSpan.FromDays(400));

        Assert.That(await target.GetOrSetAsync<int>("k", _ => throw new InvalidOperationException("down"), options), Is.EqualTo(7));
    }

    [Test]
    public async Task FailSafe_an_entry_with_no_expiry_never_goes_stale([Values] bool infinite)
    {
        var options = new CacheEntryOptions { Ttl = infinite ? Timeout.InfiniteTimeSpan : TimeSpan.Zero, FailSafe = TimeSpan.FromMinutes(1) };
        await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), options);
        _time.Advance(TimeSpan.FromDays(30));
        var calls = 0;

        Assert.That(await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(++calls + 1), options), Is.EqualTo(1));
        Assert.That(calls, Is.Zero);
    }

    // ---------------------------------------------------------------- timeouts

    [Test]
    public async Task SoftTimeout_answers_the_last_value_and_the_factory_stores_its_result_later()
    {
        var options = s_failSafe with { SoftTimeout = TimeSpan.FromSeconds(1) };
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), options);
        _time.Advance(TimeSpan.FromMinutes(2));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        CancellationToken factoryToken = default;
        var call = _cache.GetOrSetAsync("k", async ct =>
        {
            factoryToken = ct;
            started.TrySetResult();
            await gate.Task;
            return "v2";
        }, options).AsTask();
        await started.Task.WaitAsync(Limit);
        Assert.That(call.IsCompleted, Is.False);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(await call.WaitAsync(Limit), Is.EqualTo("v1"));
        Assert.That(factoryToken.IsCancellationRequested, Is.False, "the factory goes on in the background");

        gate.SetResult();
        await WaitUntil(() => _cache.Get<string>("k") == "v2");
    }

    [Test]
    public async Task SoftTimeout_then_a_background_failure_makes_the_last_value_fresh_for_the_throttle()
    {
        var options = s_failSafe with { SoftTimeout = TimeSpan.FromSeconds(1) };
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), options);
        _time.Advance(TimeSpan.FromMinutes(2));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = _cache.GetOrSetAsync<string>("k", async _ =>
        {
            started.TrySetResult();
            await gate.Task;
            throw new InvalidOperationException("down");
        }, options).AsTask();
        await started.Task.WaitAsync(Limit);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(await call.WaitAsync(Limit), Is.EqualTo("v1"));

        gate.SetResult();
        // "the factory's late result, or its failure, is handled as above": written back fresh for FailSafeThrottle.
        await WaitUntil(() => _cache.TryGet<string>("k", out var seen) && seen == "v1");
        var calls = 0;
        Assert.That(await _cache.GetOrSetAsync("k", _ => new ValueTask<string>((++calls).ToString()), options), Is.EqualTo("v1"));
        Assert.That(calls, Is.Zero);
    }

    [Test]
    public async Task SoftTimeout_without_a_last_value_waits_for_the_factory()
    {
        var options = s_failSafe with { SoftTimeout = TimeSpan.FromSeconds(1) };
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = _cache.GetOrSetAsync("k", async _ =>
        {
            started.TrySetResult();
            await gate.Task;
            return "v1";
        }, options).AsTask();
        await started.Task.WaitAsync(Limit);
        _time.Advance(TimeSpan.FromSeconds(5));
        await Task.Delay(20);
        Assert.That(call.IsCompleted, Is.False);
        gate.SetResult();
        Assert.That(await call.WaitAsync(Limit), Is.EqualTo("v1"));
    }

    [Test]
    public async Task SoftTimeout_whose_last_value_window_ended_before_it_came_waits_up_to_HardTimeout()
    {
        var options = new CacheEntryOptions
        {
            Ttl = TimeSpan.FromMinutes(1), FailSafe = TimeSpan.FromMinutes(1),
            SoftTimeout = TimeSpan.FromSeconds(10), HardTimeout = TimeSpan.FromSeconds(30),
        };
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), options);
        _time.Advance(TimeSpan.FromSeconds(115)); // the window ends at 120 s, before the 10 s soft timeout
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = _cache.GetOrSetAsync("k", async _ =>
        {
            started.TrySetResult();
            await gate.Task;
            return "v2";
        }, options).AsTask();
        await started.Task.WaitAsync(Limit);
        _time.Advance(TimeSpan.FromSeconds(10));
        await Task.Delay(30);
        Assert.That(call.IsCompleted, Is.False, "no last value any more: waits on");
        _time.Advance(TimeSpan.FromSeconds(20));
        var ex = Assert.ThrowsAsync<TimeoutException>(async () => await call.WaitAsync(Limit));
        Assert.That(ex!.Message, Does.Contain("'k'"));
        gate.SetResult();
        await WaitUntil(() => _cache.Get<string>("k") == "v2");
    }

    [Test]
    public async Task HardTimeout_without_a_last_value_throws_TimeoutException_naming_the_key_and_the_late_result_is_stored([Values] bool async)
    {
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), HardTimeout = TimeSpan.FromSeconds(2) };
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = async
            ? _cache.GetOrSetAsync("slow", async _ =>
            {
                started.TrySetResult();
                await gate.Task;
                return "late";
            }, options).AsTask()
            : Task.Run(() => _cache.GetOrSet("slow", _ =>
            {
                started.TrySetResult();
                gate.Task.GetAwaiter().GetResult();
                return "late";
            }, options));
        await started.Task.WaitAsync(Limit);
        var deadline = DateTime.UtcNow + Limit;
        while (!call.IsCompleted && DateTime.UtcNow < deadline)
        {
            _time.Advance(TimeSpan.FromMilliseconds(500));
            await Task.WhenAny(call, Task.Delay(10));
        }

        var ex = Assert.ThrowsAsync<TimeoutException>(async () => await call.WaitAsync(Limit));
        Assert.That(ex!.Message, Does.Contain("'slow'"));
        gate.SetResult();
        await WaitUntil(() => _cache.Get<string>("slow") == "late");
    }

    [Test]
    public async Task HardTimeout_with_a_last_value_answers_it()
    {
        var options = s_failSafe with { HardTimeout = TimeSpan.FromSeconds(2) };
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), options);
        _time.Advance(TimeSpan.FromMinutes(2));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = _cache.GetOrSetAsync("k", async _ =>
        {
            started.TrySetResult();
            await gate.Task;
            return "v2";
        }, options).AsTask();
        await started.Task.WaitAsync(Limit);
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.That(await call.WaitAsync(Limit), Is.EqualTo("v1"));
        gate.SetResult();
        await WaitUntil(() => _cache.Get<string>("k") == "v2");
    }

    [Test]
    public async Task A_caller_that_left_at_a_timeout_no_longer_cancels_the_factory()
    {
        var options = s_failSafe with { SoftTimeout = TimeSpan.FromSeconds(1) };
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), options);
        _time.Advance(TimeSpan.FromMinutes(2));
        using var cts = new CancellationTokenSource();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        CancellationToken factoryToken = default;
        var call = _cache.GetOrSetAsync("k", async ct =>
        {
            factoryToken = ct;
            started.TrySetResult();
            await gate.Task;
            return "v2";
        }, options, cancellationToken: cts.Token).AsTask();
        await started.Task.WaitAsync(Limit);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(await call.WaitAsync(Limit), Is.EqualTo("v1"));

        cts.Cancel();
        Assert.That(factoryToken.IsCancellationRequested, Is.False);
        gate.SetResult();
        await WaitUntil(() => _cache.Get<string>("k") == "v2");
    }

    [Test]
    public async Task SoftTimeout_of_TimeSpan_MaxValue_is_no_timeout()
    {
        var options = s_failSafe with { SoftTimeout = TimeSpan.MaxValue, HardTimeout = TimeSpan.MaxValue };
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), options);
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.That(await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v2"), options), Is.EqualTo("v2"));
        Assert.That(_cache.GetOrSet("k2", _ => "w", options), Is.EqualTo("w"));
    }

    [Test]
    public async Task Dispose_cancels_a_factory_that_went_on_after_a_timeout()
    {
        var cache = new SimpleMemoryCache { TimeProvider = _time };
        var options = s_failSafe with { SoftTimeout = TimeSpan.FromSeconds(1) };
        await cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), options);
        _time.Advance(TimeSpan.FromMinutes(2));
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = cache.GetOrSetAsync("k", async ct =>
        {
            ct.Register(() => cancelled.TrySetResult());
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return "never";
        }, options).AsTask();
        await started.Task.WaitAsync(Limit);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(await call.WaitAsync(Limit), Is.EqualTo("v1"));

        cache.Dispose();
        await cancelled.Task.WaitAsync(Limit);
    }

    // ---------------------------------------------------------------- eager refresh

    private static readonly CacheEntryOptions s_eager = new() { Ttl = TimeSpan.FromSeconds(10), EagerRefresh = 0.5 };

    [Test]
    public async Task EagerRefresh_starts_once_for_many_late_hits_and_its_result_is_visible_afterwards([Values] bool async)
    {
        await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), s_eager);
        _time.Advance(TimeSpan.FromSeconds(6));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        async ValueTask<int> Refresh(CancellationToken _)
        {
            Interlocked.Increment(ref calls);
            await gate.Task;
            return 2;
        }

        for (var i = 0; i < 10; i++)
        {
            var hit = async ? await _cache.GetOrSetAsync("k", Refresh, s_eager) : _cache.GetOrSet("k", ct => Refresh(ct).AsTask().GetAwaiter().GetResult(), s_eager);
            Assert.That(hit, Is.EqualTo(1));
        }

        await WaitUntil(() => Volatile.Read(ref calls) == 1);
        gate.SetResult();
        await WaitUntil(() => _cache.Get<int>("k") == 2);
        Assert.That(calls, Is.EqualTo(1));
        _time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.That(await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(3), s_eager), Is.EqualTo(2), "the refresh wrote a fresh life");
    }

    [Test]
    public async Task EagerRefresh_a_miss_while_the_refresh_runs_joins_it()
    {
        await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), s_eager);
        _time.Advance(TimeSpan.FromSeconds(6));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        async ValueTask<int> Refresh(CancellationToken _)
        {
            Interlocked.Increment(ref calls);
            await gate.Task;
            return 2;
        }

        Assert.That(await _cache.GetOrSetAsync("k", Refresh, s_eager), Is.EqualTo(1));
        await WaitUntil(() => Volatile.Read(ref calls) == 1);
        _time.Advance(TimeSpan.FromSeconds(5)); // expired now: a miss
        var miss = _cache.GetOrSetAsync("k", Refresh, s_eager).AsTask();
        await Task.Delay(20);
        gate.SetResult();

        Assert.That(await miss.WaitAsync(Limit), Is.EqualTo(2));
        Assert.That(calls, Is.EqualTo(1), "a key never has two factory calls under way in a process");
    }

    [Test]
    public async Task EagerRefresh_a_failing_refresh_does_not_evict()
    {
        await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), s_eager);
        _time.Advance(TimeSpan.FromSeconds(6));
        var failed = 0;
        Assert.That(await _cache.GetOrSetAsync<int>("k", _ =>
        {
            Interlocked.Increment(ref failed);
            throw new InvalidOperationException("down");
        }, s_eager), Is.EqualTo(1));
        await WaitUntil(() => Volatile.Read(ref failed) == 1);
        await Task.Delay(20);

        Assert.That(_cache.Get<int>("k"), Is.EqualTo(1));
        Assert.That(await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(9), new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10) }), Is.EqualTo(1));
    }

    // ---------------------------------------------------------------- cancellation

    [Test]
    public void Cancellation_a_token_cancelled_before_the_call_throws_OperationCanceledException_and_stores_nothing([Values] bool withOptions)
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var options = withOptions ? s_failSafe : null;

        Assert.CatchAsync<OperationCanceledException>(async () =>
            await _cache.GetOrSetAsync("k", ct =>
            {
                ct.ThrowIfCancellationRequested();
                return new ValueTask<string>("v");
            }, options, cancellationToken: cts.Token));
        Assert.That(_cache.TryGet<string>("k", out _), Is.False);
    }

    [Test]
    public async Task Cancellation_during_the_factory_the_only_caller_leaves_the_factory_token_is_cancelled_and_nothing_is_stored([Values] bool withOptions)
    {
        var options = withOptions ? s_failSafe : null;
        using var cts = new CancellationTokenSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var factoryEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = _cache.GetOrSetAsync("k", async ct =>
        {
            started.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
                return "v";
            }
            finally
            {
                factoryEnded.TrySetResult();
            }
        }, options, cancellationToken: cts.Token).AsTask();
        await started.Task.WaitAsync(Limit);
        cts.Cancel();

        Assert.CatchAsync<OperationCanceledException>(async () => await call.WaitAsync(Limit));
        await factoryEnded.Task.WaitAsync(Limit);
        Assert.That(_cache.TryGet<string>("k", out _), Is.False);
        Assert.That(await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("anew"), options), Is.EqualTo("anew"), "a later caller runs the factory anew");
    }

    [Test]
    public async Task Cancellation_a_joiner_that_cancels_leaves_and_the_leader_and_others_get_the_value([Values] bool withOptions)
    {
        var options = withOptions ? s_failSafe : null;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        CancellationToken factoryToken = default;
        async ValueTask<string> Factory(CancellationToken ct)
        {
            Interlocked.Increment(ref calls);
            factoryToken = ct;
            await gate.Task;
            return "v";
        }

        var leader = _cache.GetOrSetAsync("k", Factory, options).AsTask();
        await WaitUntil(() => Volatile.Read(ref calls) == 1);
        using var cts = new CancellationTokenSource();
        var joiner = _cache.GetOrSetAsync("k", Factory, options, cancellationToken: cts.Token).AsTask();
        var other = _cache.GetOrSetAsync("k", Factory, options).AsTask();
        cts.Cancel();

        Assert.CatchAsync<OperationCanceledException>(async () => await joiner.WaitAsync(Limit));
        Assert.That(factoryToken.IsCancellationRequested, Is.False);
        gate.SetResult();
        Assert.That(await leader.WaitAsync(Limit), Is.EqualTo("v"));
        Assert.That(await other.WaitAsync(Limit), Is.EqualTo("v"));
        Assert.That(calls, Is.EqualTo(1));
        Assert.That(_cache.Get<string>("k"), Is.EqualTo("v"));
    }

    [Test]
    public async Task Cancellation_the_leader_cancels_its_joiners_still_get_the_value_and_it_is_stored([Values] bool withOptions)
    {
        var options = withOptions ? s_failSafe : null;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        CancellationToken factoryToken = default;
        async ValueTask<string> Factory(CancellationToken ct)
        {
            Interlocked.Increment(ref calls);
            factoryToken = ct;
            await gate.Task.WaitAsync(ct);
            return "v";
        }

        using var cts = new CancellationTokenSource();
        var leader = _cache.GetOrSetAsync("k", Factory, options, cancellationToken: cts.Token).AsTask();
        await WaitUntil(() => Volatile.Read(ref calls) == 1);
        var joiner = _cache.GetOrSetAsync("k", Factory, options).AsTask();
        var sync = Task.Run(() => _cache.GetOrSet("k", _ => "sync's own", options));
        await Task.Delay(20);
        cts.Cancel();

        Assert.CatchAsync<OperationCanceledException>(async () => await leader.WaitAsync(Limit), "the leading caller leaves at once");
        Assert.That(factoryToken.IsCancellationRequested, Is.False, "other callers still wait");
        gate.SetResult();
        Assert.That(await joiner.WaitAsync(Limit), Is.EqualTo("v"));
        Assert.That(await sync.WaitAsync(Limit), Is.EqualTo("v"));
        Assert.That(calls, Is.EqualTo(1));
        Assert.That(_cache.Get<string>("k"), Is.EqualTo("v"));
    }

    [Test]
    public async Task Cancellation_when_every_caller_cancels_the_factory_token_is_cancelled([Values] bool withOptions)
    {
        var options = withOptions ? s_failSafe : null;
        var calls = 0;
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async ValueTask<string> Factory(CancellationToken ct)
        {
            Interlocked.Increment(ref calls);
            ct.Register(() => cancelled.TrySetResult());
            await Task.Delay(Timeout.Infinite, ct);
            return "never";
        }

        using var a = new CancellationTokenSource();
        using var b = new CancellationTokenSource();
        var first = _cache.GetOrSetAsync("k", Factory, options, cancellationToken: a.Token).AsTask();
        await WaitUntil(() => Volatile.Read(ref calls) == 1);
        var second = _cache.GetOrSetAsync("k", Factory, options, cancellationToken: b.Token).AsTask();
        a.Cancel();
        await Task.Delay(20);
        Assert.That(cancelled.Task.IsCompleted, Is.False, "one caller still waits");
        b.Cancel();
        await cancelled.Task.WaitAsync(Limit);
        Assert.CatchAsync<OperationCanceledException>(async () => await first.WaitAsync(Limit));
        Assert.CatchAsync<OperationCanceledException>(async () => await second.WaitAsync(Limit));
        Assert.That(_cache.TryGet<string>("k", out _), Is.False);
    }

    [Test]
    public async Task Cancellation_of_a_fail_safe_call_does_not_make_the_last_value_fresh_again()
    {
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_failSafe);
        _time.Advance(TimeSpan.FromMinutes(2));
        using var cts = new CancellationTokenSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = _cache.GetOrSetAsync("k", async ct =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return "never";
        }, s_failSafe, cancellationToken: cts.Token).AsTask();
        await started.Task.WaitAsync(Limit);
        cts.Cancel();
        Assert.CatchAsync<OperationCanceledException>(async () => await call.WaitAsync(Limit));
        await Task.Delay(20);

        Assert.That(_cache.TryGet<string>("k", out _), Is.False, "still stale: a cancelled factory did not fail");
        Assert.That(await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v2"), s_failSafe), Is.EqualTo("v2"));
    }

    // ---------------------------------------------------------------- more edges

    private async Task<Task<string>> GatedFailing(CacheEntryOptions options, TaskCompletionSource gate, CancellationToken cancellationToken = default)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = _cache.GetOrSetAsync<string>("k", async _ =>
        {
            started.TrySetResult();
            await gate.Task;
            throw new InvalidOperationException("down");
        }, options, cancellationToken: cancellationToken).AsTask();
        await started.Task.WaitAsync(Limit);
        return call;
    }

    [Test]
    public async Task FailSafe_a_Set_made_while_the_factory_ran_stands_and_the_last_value_is_only_served()
    {
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_failSafe);
        _time.Advance(TimeSpan.FromMinutes(2));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = await GatedFailing(s_failSafe, gate);
        _cache.Set("k", "other", s_failSafe);
        gate.SetResult();

        Assert.That(await call.WaitAsync(Limit), Is.EqualTo("v1"));
        Assert.That(_cache.Get<string>("k"), Is.EqualTo("other"));
    }

    [Test]
    public async Task FailSafe_a_Delete_made_while_the_factory_ran_stands()
    {
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_failSafe);
        _time.Advance(TimeSpan.FromMinutes(2));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = await GatedFailing(s_failSafe, gate);
        _cache.Delete("k");
        gate.SetResult();

        Assert.That(await call.WaitAsync(Limit), Is.EqualTo("v1"));
        Assert.That(_cache.TryGet<string>("k", out _), Is.False, "the delete stands: nothing written back over it");
    }

    [Test]
    public async Task FailSafe_a_deleted_entry_is_no_last_value()
    {
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_failSafe);
        _time.Advance(TimeSpan.FromMinutes(2));
        _cache.Delete("k");

        Assert.That(async () => await _cache.GetOrSetAsync<string>("k", _ => throw new InvalidOperationException("down"), s_failSafe), Throws.InvalidOperationException);
    }

    [Test]
    public async Task FailSafe_a_tag_invalidated_entry_is_the_last_value_but_is_not_made_fresh_again()
    {
        var options = s_failSafe with { Tags = ["t"] };
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), options);
        _cache.InvalidateTags(["t"]);

        Assert.That(await _cache.GetOrSetAsync<string>("k", _ => throw new InvalidOperationException("down"), options), Is.EqualTo("v1"));
        Assert.That(_cache.TryGet<string>("k", out _), Is.False, "every other reader still misses it");
        var calls = 0;
        Assert.That(await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v2" + ++calls), options), Is.EqualTo("v21"));
    }

    [Test]
    public async Task FailSafe_after_a_failed_eager_refresh_the_stale_value_still_answers_a_failing_factory()
    {
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), EagerRefresh = 0.5, FailSafe = TimeSpan.FromMinutes(1) };
        await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), options);
        _time.Advance(TimeSpan.FromSeconds(6));
        var failed = 0;
        Assert.That(await _cache.GetOrSetAsync<int>("k", _ =>
        {
            Interlocked.Increment(ref failed);
            throw new InvalidOperationException("down");
        }, options), Is.EqualTo(1));
        await WaitUntil(() => Volatile.Read(ref failed) == 1);
        await Task.Delay(20);
        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.That(await _cache.GetOrSetAsync<int>("k", _ => throw new InvalidOperationException("down"), options), Is.EqualTo(1));
    }

    [Test]
    public async Task SoftTimeout_on_a_sync_call_answers_the_last_value()
    {
        var options = s_failSafe with { SoftTimeout = TimeSpan.FromSeconds(1) };
        _cache.GetOrSet("k", _ => "v1", options);
        _time.Advance(TimeSpan.FromMinutes(2));
        var gate = new ManualResetEventSlim();
        var call = Task.Run(() => _cache.GetOrSet("k", _ =>
        {
            gate.Wait(Limit);
            return "v2";
        }, options));
        var deadline = DateTime.UtcNow + Limit;
        while (!call.IsCompleted && DateTime.UtcNow < deadline)
        {
            _time.Advance(TimeSpan.FromMilliseconds(250));
            await Task.WhenAny(call, Task.Delay(10));
        }

        Assert.That(await call.WaitAsync(Limit), Is.EqualTo("v1"));
        gate.Set();
        await WaitUntil(() => _cache.Get<string>("k") == "v2");
    }

    [Test]
    public async Task Cancellation_after_every_caller_left_a_later_caller_runs_the_factory_anew_without_waiting_for_the_abandoned_one([Values] bool withOptions)
    {
        // usage/resilience.md: "Only when no caller waits any more is the factory's token cancelled; a caller that comes
        // later then runs the factory anew." HybridCache's StampedeState refuses new callers once its count hit zero.
        var options = withOptions ? s_failSafe : null;
        using var cts = new CancellationTokenSource();
        var oldGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var oldStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = _cache.GetOrSetAsync("k", async _ =>
        {
            oldStarted.TrySetResult();
            await oldGate.Task; // ignores its token
            return "old";
        }, options, cancellationToken: cts.Token).AsTask();
        await oldStarted.Task.WaitAsync(Limit);
        cts.Cancel();
        Assert.CatchAsync<OperationCanceledException>(async () => await first.WaitAsync(Limit));

        // "a caller that comes later then runs the factory anew"
        var late = _cache.GetOrSetAsync("k", _ => new ValueTask<string>("new"), options).AsTask();
        var answeredAlone = await Task.WhenAny(late, Task.Delay(Limit)) == late;
        oldGate.TrySetResult();
        var answer = await late.WaitAsync(Limit);
        Assert.That(answeredAlone, Is.True, $"the later caller waited for the abandoned factory instead of running its own; once that ended it got '{answer}'");
        Assert.That(answer, Is.EqualTo("new"));

        await Task.Delay(50);

        Assert.That(_cache.Get<string>("k"), Is.EqualTo("new"), "the abandoned factory's older result must not replace the newer one");
    }

    [Test]
    public async Task EagerRefresh_dispose_cancels_a_running_refresh()
    {
        var cache = new SimpleMemoryCache { TimeProvider = _time };
        await cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), s_eager);
        _time.Advance(TimeSpan.FromSeconds(6));
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.That(await cache.GetOrSetAsync("k", async ct =>
        {
            ct.Register(() => cancelled.TrySetResult());
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return 2;
        }, s_eager), Is.EqualTo(1));
        await started.Task.WaitAsync(Limit);
        cache.Dispose();
        await cancelled.Task.WaitAsync(Limit);
    }

    [Test]
    public async Task FailSafe_joiners_without_fail_safe_options_get_the_exception_while_the_fail_safe_leader_gets_the_last_value()
    {
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_failSafe);
        _time.Advance(TimeSpan.FromMinutes(2));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var leader = await GatedFailing(s_failSafe, gate);
        var joiner = _cache.GetOrSetAsync("k", _ => new ValueTask<string>("joiner's"), s_failSafe).AsTask();
        await Task.Delay(20);
        gate.SetResult();

        Assert.That(await leader.WaitAsync(Limit), Is.EqualTo("v1"));
        Assert.That(await joiner.WaitAsync(Limit), Is.EqualTo("v1"), "every caller waiting on that flight gets the last value");
    }

    [Test]
    public async Task Dispose_ends_every_caller_waiting_on_a_factory_with_options_even_one_that_ignores_its_token()
    {
        // resilience.md: an async factory's token is, with options, "also [cancelled] by the cache's dispose, which then
        // ends every caller waiting for it". (Async only: a sync call without timeouts runs the factory on its own thread.)
        var cache = new SimpleMemoryCache { TimeProvider = _time };
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = cache.GetOrSetAsync("k", async _ =>
        {
            started.TrySetResult();
            await gate.Task; // ignores its token
            return "late";
        }, s_failSafe).AsTask();
        await started.Task.WaitAsync(Limit);
        cache.Dispose();
        var ended = await Task.WhenAny(call, Task.Delay(Limit)) == call;
        gate.TrySetResult();

        Assert.That(ended, Is.True, "the caller still waits on the factory after the cache was disposed");
        Assert.That(async () => await call, Throws.InstanceOf<OperationCanceledException>().Or.InstanceOf<ObjectDisposedException>());
    }

    [Test]
    public async Task Dispose_cancels_the_token_of_a_sync_factory()
    {
        var cache = new SimpleMemoryCache { TimeProvider = _time };
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = Task.Run(() => cache.GetOrSet("k", ct =>
        {
            started.TrySetResult();
            ct.WaitHandle.WaitOne(Limit);
            cancelled.TrySetResult();
            return 1;
        }));
        await started.Task.WaitAsync(Limit);
        cache.Dispose();
        await cancelled.Task.WaitAsync(Limit);
        try { await call.WaitAsync(Limit); } catch (Exception) { /* what the caller gets is not this test's question */ }
    }

    [Test]
    public async Task FailSafe_with_the_cache_s_Ttl_and_the_default_throttle_of_30_s()
    {
        using var cache = new SimpleMemoryCache { TimeProvider = _time, Ttl = TimeSpan.FromMinutes(1) };
        var options = new CacheEntryOptions { FailSafe = TimeSpan.FromHours(1) };
        await cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), options);
        _time.Advance(TimeSpan.FromSeconds(61));
        Assert.That(cache.TryGet<string>("k", out _), Is.False, "stale after the cache's Ttl");
        Assert.That(await cache.GetOrSetAsync<string>("k", _ => throw new InvalidOperationException("down"), options), Is.EqualTo("v1"));
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.That(cache.Get<string>("k"), Is.EqualTo("v1"));
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.That(cache.TryGet<string>("k", out _), Is.False, "the default throttle is 30 s");
    }

    [Test]
    public async Task FailSafe_an_entry_written_by_Set_with_options_is_a_last_value([Values] bool async)
    {
        if (async)
        {
            await _cache.SetAsync("k", "v1", s_failSafe);
        }
        else
        {
            _cache.Set("k", "v1", s_failSafe);
        }

        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.That(await Call(async, () => throw new InvalidOperationException("down"), s_failSafe), Is.EqualTo("v1"));
    }

    [Test]
    public async Task HardTimeout_on_a_sync_call_with_a_last_value_answers_it()
    {
        var options = s_failSafe with { HardTimeout = TimeSpan.FromSeconds(1) };
        _cache.GetOrSet("k", _ => "v1", options);
        _time.Advance(TimeSpan.FromMinutes(2));
        var gate = new ManualResetEventSlim();
        var call = Task.Run(() => _cache.GetOrSet("k", _ =>
        {
            gate.Wait(Limit);
            return "v2";
        }, options));
        var deadline = DateTime.UtcNow + Limit;
        while (!call.IsCompleted && DateTime.UtcNow < deadline)
        {
            _time.Advance(TimeSpan.FromMilliseconds(250));
            await Task.WhenAny(call, Task.Delay(10));
        }

        Assert.That(await call.WaitAsync(Limit), Is.EqualTo("v1"));
        gate.Set();
        await WaitUntil(() => _cache.Get<string>("k") == "v2");
    }

    [Test]
    public async Task EagerRefresh_beyond_the_cap_is_skipped_and_the_next_late_hit_tries_again()
    {
        var cap = Math.Max(4, 4 * Environment.ProcessorCount);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = 0;
        for (var i = 0; i <= cap; i++)
        {
            await _cache.GetOrSetAsync("k" + i, _ => new ValueTask<int>(1), s_eager);
        }

        _time.Advance(TimeSpan.FromSeconds(6));
        for (var i = 0; i < cap; i++)
        {
            await _cache.GetOrSetAsync("k" + i, async _ =>
            {
                Interlocked.Increment(ref running);
                await gate.Task;
                return 2;
            }, s_eager);
        }

        await WaitUntil(() => Volatile.Read(ref running) == cap);
        var extra = 0;
        Assert.That(await _cache.GetOrSetAsync("k" + cap, _ => new ValueTask<int>(++extra + 1), s_eager), Is.EqualTo(1));
        await Task.Delay(50);
        Assert.That(extra, Is.Zero, "a refresh beyond the cap is skipped, not queued");
        gate.SetResult();
        await WaitUntil(() => Enumerable.Range(0, cap).All(i => _cache.Get<int>("k" + i) == 2));
        // A refresh frees its slot just after it stores: late hits until one is taken (polled rather than after a fixed
        // wait, which a loaded machine could outlast), each answered with the stale value, or the last with the new one.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Volatile.Read(ref extra) == 0 && _cache.Get<int>("k" + cap) != 2)
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "a late hit took a freed slot");
            Assert.That(await _cache.GetOrSetAsync("k" + cap, _ => new ValueTask<int>(Interlocked.Increment(ref extra) + 1), s_eager), Is.EqualTo(1).Or.EqualTo(2));
            await Task.Delay(5);
        }

        await WaitUntil(() => _cache.Get<int>("k" + cap) == 2);
        Assert.That(extra, Is.EqualTo(1), "one refresh: the late hits after it joined it or found the fresh value");
    }

    [Test]
    public async Task Tags_an_eager_refresh_computed_while_its_tag_was_invalidated_is_never_served_afterwards()
    {
        var options = s_eager with { Tags = ["t"] };
        await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), options);
        _time.Advance(TimeSpan.FromSeconds(6));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.That(await _cache.GetOrSetAsync("k", async _ =>
        {
            started.TrySetResult();
            await gate.Task;
            return 2;
        }, options), Is.EqualTo(1));
        await started.Task.WaitAsync(Limit);
        _cache.InvalidateTags(["t"]);
        gate.SetResult();
        await Task.Delay(50);

        Assert.That(_cache.TryGet<int>("k", out _), Is.False);
        Assert.That(await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(3), options), Is.EqualTo(3));
    }

    [Test]
    public async Task Tags_a_late_result_after_a_soft_timeout_computed_while_its_tag_was_invalidated_is_never_served_afterwards()
    {
        var options = s_failSafe with { SoftTimeout = TimeSpan.FromSeconds(1), Tags = ["t"] };
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), options);
        _time.Advance(TimeSpan.FromMinutes(2));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var factoryEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = _cache.GetOrSetAsync("k", async _ =>
        {
            started.TrySetResult();
            await gate.Task;
            factoryEnded.TrySetResult();
            return "v2";
        }, options).AsTask();
        await started.Task.WaitAsync(Limit);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(await call.WaitAsync(Limit), Is.EqualTo("v1"));
        _cache.InvalidateTags(["t"]);
        gate.SetResult();
        await factoryEnded.Task.WaitAsync(Limit);
        await Task.Delay(50);

        Assert.That(_cache.TryGet<string>("k", out _), Is.False);
        Assert.That(await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v3"), options), Is.EqualTo("v3"));
    }

    [Test]
    public async Task FailSafe_a_sync_caller_joined_on_a_failing_async_flight_gets_the_last_value()
    {
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_failSafe);
        _time.Advance(TimeSpan.FromMinutes(2));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var leader = await GatedFailing(s_failSafe, gate);
        var syncCalls = 0;
        var sync = Task.Run(() => _cache.GetOrSet("k", _ => { Interlocked.Increment(ref syncCalls); return "sync's"; }, s_failSafe));
        await Task.Delay(50);
        gate.SetResult();

        Assert.That(await leader.WaitAsync(Limit), Is.EqualTo("v1"));
        Assert.That(await sync.WaitAsync(Limit), Is.EqualTo("v1"));
        Assert.That(syncCalls, Is.Zero);
    }

    [Test]
    public async Task HardTimeout_a_joiner_without_a_last_value_times_out_too_and_the_leader_s_late_value_is_stored()
    {
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), HardTimeout = TimeSpan.FromSeconds(2) };
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var leader = _cache.GetOrSetAsync("k", async _ =>
        {
            started.TrySetResult();
            await gate.Task;
            return "late";
        }, options).AsTask();
        await started.Task.WaitAsync(Limit);
        var joiner = _cache.GetOrSetAsync("k", _ => new ValueTask<string>("joiner's"), options).AsTask();
        await Task.Delay(20);
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.ThrowsAsync<TimeoutException>(async () => await leader.WaitAsync(Limit));
        Assert.ThrowsAsync<TimeoutException>(async () => await joiner.WaitAsync(Limit));
        gate.SetResult();
        await WaitUntil(() => _cache.Get<string>("k") == "late");
    }

    // ---------------------------------------------------------------- argument validation

    [Test]
    public void Options_bad_durations_throw_ArgumentOutOfRangeException_naming_the_property()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => new CacheEntryOptions { FailSafe = TimeSpan.Zero }, Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("FailSafe"));
            Assert.That(() => new CacheEntryOptions { FailSafe = TimeSpan.FromSeconds(-1) }, Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("FailSafe"));
            Assert.That(() => new CacheEntryOptions { FailSafeThrottle = TimeSpan.Zero }, Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("FailSafeThrottle"));
            Assert.That(() => new CacheEntryOptions { SoftTimeout = TimeSpan.FromTicks(-1) }, Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("SoftTimeout"));
            Assert.That(() => new CacheEntryOptions { HardTimeout = TimeSpan.Zero }, Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("HardTimeout"));
            // Infinite is no timeout, as FusionCache's default (FailSafeTests.Infinite_timeouts_are_no_timeouts...).
            Assert.That(() => new CacheEntryOptions { HardTimeout = Timeout.InfiniteTimeSpan }, Throws.Nothing);
            Assert.That(() => new CacheEntryOptions { Lease = TimeSpan.Zero }, Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("Lease"));
            Assert.That(() => new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(-5) }, Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("Ttl"));
            Assert.That(() => new CacheEntryOptions { EagerRefresh = 0 }, Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("EagerRefresh"));
            Assert.That(() => new CacheEntryOptions { EagerRefresh = 1 }, Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("EagerRefresh"));
            Assert.That(() => new CacheEntryOptions { EagerRefresh = double.NaN }, Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("EagerRefresh"));
            Assert.That(() => new CacheEntryOptions { Ttl = TimeSpan.Zero }, Throws.Nothing);
            Assert.That(() => new CacheEntryOptions { Ttl = Timeout.InfiniteTimeSpan }, Throws.Nothing);
            Assert.That(() => s_failSafe with { FailSafe = TimeSpan.Zero }, Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("FailSafe"));
        });
    }

    [Test]
    public void Arguments_a_null_factory_or_key_throws_naming_the_argument()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => _cache.GetOrSet("k", (Func<CancellationToken, int>)null!), Throws.TypeOf<ArgumentNullException>().With.Property("ParamName").EqualTo("factory"));
            Assert.That(() => _cache.GetOrSet("k", 1, (Func<int, CancellationToken, int>)null!), Throws.TypeOf<ArgumentNullException>().With.Property("ParamName").EqualTo("factory"));
            Assert.That(async () => await _cache.GetOrSetAsync("k", (Func<CancellationToken, ValueTask<int>>)null!), Throws.TypeOf<ArgumentNullException>().With.Property("ParamName").EqualTo("factory"));
            Assert.That(() => _cache.GetOrSet(null!, _ => 1), Throws.TypeOf<ArgumentNullException>().With.Property("ParamName").EqualTo("key"));
            Assert.That(async () => await _cache.GetOrSetAsync(null!, _ => new ValueTask<int>(1)), Throws.TypeOf<ArgumentNullException>().With.Property("ParamName").EqualTo("key"));
            Assert.That(() => _cache.GetOrSet("", _ => 1, s_failSafe), Throws.InstanceOf<ArgumentException>().With.Property("ParamName").EqualTo("key"));
        });
    }

    [Test]
    public void Arguments_a_null_factory_is_refused_before_a_hit_is_answered()
    {
        _cache.Set("k", 1);
        Assert.That(() => _cache.GetOrSet("k", (Func<CancellationToken, int>)null!), Throws.TypeOf<ArgumentNullException>().With.Property("ParamName").EqualTo("factory"));
    }
}
