using System.Collections.Concurrent;
using Cached.Runtime;
using Microsoft.Extensions.Time.Testing;
using JsonSerializer = Cached.Serializers.JsonSerializer;

namespace Cached.Tests.Outsider;

/// <summary>
/// An outsider's review of eager refresh, soft and hard timeouts, fail-safe and cancellation (docs/resilience.md,
/// docs/decorators.md, the XML docs of <see cref="CacheEntryOptions"/> and <see cref="ICache"/>), on the memory cache
/// with a fake clock. Generated [Cached] methods are driven through the runtime they compile to
/// (<see cref="CachedMethod{TResult}"/>, as the generator writes it: this project does not run the generator). Races
/// are forced with gates the factories wait on; the real clock only bounds the waits, so a hang fails.
/// </summary>
[NonParallelizable]
public sealed class OutsiderRefreshTimeoutsReviewTests
{
    // 10 s: every wait on it ends at once when the code is right; a loaded CI machine can stall a few seconds.
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    // A marker in every exception these tests throw, so that unobserved ones of other tests are not counted here.
    private const string Marker = "outsider-refresh-timeouts";

    private static readonly CacheEntryOptions s_eager = new() { Ttl = TimeSpan.FromSeconds(10), EagerRefresh = 0.5 };

    private static readonly CacheEntryOptions s_failSafe = new()
    {
        Ttl = TimeSpan.FromMinutes(1),
        FailSafe = TimeSpan.FromHours(1),
        FailSafeThrottle = TimeSpan.FromSeconds(30),
    };

    private readonly ConcurrentQueue<Exception> _unobserved = new();
    private FakeTimeProvider _time = null!;
    private SimpleMemoryCache _cache = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        _cache = new SimpleMemoryCache { TimeProvider = _time };
        TaskScheduler.UnobservedTaskException += OnUnobserved;
    }

    [TearDown]
    public void TearDown()
    {
        TaskScheduler.UnobservedTaskException -= OnUnobserved;
        _cache.Dispose();
    }

    private void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
    {
        if (e.Exception.ToString().Contains(Marker, StringComparison.Ordinal))
        {
            _unobserved.Enqueue(e.Exception);
        }
    }

    private void AssertNothingUnobserved()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.That(_unobserved, Is.Empty, "an exception of the call went unobserved: " + string.Join(" | ", _unobserved));
    }

    private static async Task WaitUntil(Func<bool> condition, string? because = null)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (!condition())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), because ?? "timed out waiting");
            await Task.Delay(5);
        }
    }

    /// <summary>Moves the fake clock in small steps until <paramref name="call"/> completes (bounded in real time).</summary>
    private async Task AdvanceUntilDone(Task call, TimeSpan step, TimeSpan? most = null)
    {
        var deadline = DateTime.UtcNow + Limit;
        var moved = TimeSpan.Zero;
        while (!call.IsCompleted && DateTime.UtcNow < deadline && (most is null || moved < most))
        {
            _time.Advance(step);
            moved += step;
            await Task.WhenAny(call, Task.Delay(10));
        }
    }

    private static InvalidOperationException Down() => new($"source down ({Marker})");

    /// <summary>A factory that notes its start, waits on a gate (ignoring or honouring its token) and then answers.</summary>
    private sealed class Gated<T>(Func<T> answer, bool honoursToken = false)
    {
        private int _calls;

        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationToken Token { get; private set; }

        public int Calls => Volatile.Read(ref _calls);

        public async ValueTask<T> RunAsync(CancellationToken ct)
        {
            Interlocked.Increment(ref _calls);
            Token = ct;
            Started.TrySetResult();
            try
            {
                if (honoursToken)
                {
                    await Gate.Task.WaitAsync(ct);
                }
                else
                {
                    await Gate.Task;
                }

                return answer();
            }
            finally
            {
                Ended.TrySetResult();
            }
        }

        public T Run(CancellationToken ct)
        {
            Interlocked.Increment(ref _calls);
            Token = ct;
            Started.TrySetResult();
            try
            {
                if (!Gate.Task.Wait(Limit))
                {
                    throw new TimeoutException("test gate never opened");
                }

                return answer();
            }
            finally
            {
                Ended.TrySetResult();
            }
        }
    }

    private ValueTask<T> GetOrSet<T>(bool async, string key, Func<CancellationToken, ValueTask<T>> asyncFactory, Func<CancellationToken, T> syncFactory, CacheEntryOptions? options, CancellationToken ct = default, SimpleMemoryCache? cache = null)
    {
        cache ??= _cache;
        return async ? cache.GetOrSetAsync(key, asyncFactory, options, cancellationToken: ct) : new ValueTask<T>(cache.GetOrSet(key, syncFactory, options));
    }

    private CachedMethod<string> Method(double ttl = 10, double eagerRefresh = 0, double failSafe = 0, double throttle = 0, double soft = 0, double hard = 0)
        => new(new CachedMethodOptions
        {
            Method = "Outsider.Review." + TestContext.CurrentContext.Test.MethodName,
            Ttl = ttl,
            EagerRefresh = eagerRefresh,
            FailSafe = failSafe,
            FailSafeThrottle = throttle,
            SoftTimeout = soft,
            HardTimeout = hard,
            CacheFactory = () => _cache,
        });

    // ================================================================ eager refresh

    [Test]
    public async Task EagerRefresh_concurrent_late_hits_of_sync_and_async_callers_all_answer_the_current_value_and_start_one_refresh()
    {
        await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), s_eager);
        _time.Advance(TimeSpan.FromSeconds(6));
        var refresh = new Gated<int>(() => 2);

        var hits = Enumerable.Range(0, 32).Select(i => Task.Run(async () => i % 2 == 0
            ? await _cache.GetOrSetAsync("k", refresh.RunAsync, s_eager)
            : _cache.GetOrSet("k", refresh.Run, s_eager))).ToArray();
        var answers = await Task.WhenAll(hits).WaitAsync(Limit);

        Assert.That(answers, Is.All.EqualTo(1), "every late hit answers at once with the current value");
        await refresh.Started.Task.WaitAsync(Limit);
        refresh.Gate.SetResult();
        await WaitUntil(() => _cache.Get<int>("k") == 2);
        Assert.That(refresh.Calls, Is.EqualTo(1), "only one refresh per key");
    }

    [Test]
    public async Task EagerRefresh_a_sync_refresh_runs_off_the_caller_s_thread([Values] bool async)
    {
        await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), s_eager);
        _time.Advance(TimeSpan.FromSeconds(6));
        var refresh = new Gated<int>(() => 2);

        // The gate is closed: a refresh run inline would block this hit until the Limit.
        var hit = Task.Run(async () => await GetOrSet(async, "k", refresh.RunAsync, refresh.Run, s_eager));
        Assert.That(await hit.WaitAsync(Limit), Is.EqualTo(1));
        await refresh.Started.Task.WaitAsync(Limit);
        refresh.Gate.SetResult();
        await WaitUntil(() => _cache.Get<int>("k") == 2);
    }

    [Test]
    public async Task EagerRefresh_a_failing_refresh_keeps_the_entry_and_the_next_late_hit_tries_again([Values] bool async)
    {
        await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), s_eager);
        _time.Advance(TimeSpan.FromSeconds(6));
        var failing = new Gated<int>(() => throw Down());

        Assert.That(await GetOrSet(async, "k", failing.RunAsync, failing.Run, s_eager), Is.EqualTo(1));
        failing.Gate.SetResult();
        await failing.Ended.Task.WaitAsync(Limit);
        await WaitUntil(() => _cache.Get<int>("k") == 1);

        // The failed refresh's flight is gone: the next late hit refreshes again, and this time succeeds.
        var second = new Gated<int>(() => 3);
        second.Gate.SetResult();
        Assert.That(await GetOrSet(async, "k", second.RunAsync, second.Run, s_eager), Is.EqualTo(1));
        await WaitUntil(() => _cache.Get<int>("k") == 3, "the next late hit after a failed refresh starts one again");
        Assert.That(failing.Calls, Is.EqualTo(1));
        Assert.That(second.Calls, Is.EqualTo(1));
        AssertNothingUnobserved();
    }

    [Test]
    public async Task EagerRefresh_a_Delete_while_the_refresh_runs_is_not_undone_by_its_result([Values] bool async, [Values] bool bytes)
    {
        using var byteCache = bytes ? new SimpleMemoryCache { TimeProvider = _time, Serializer = new JsonSerializer() } : null;
        var cache = byteCache ?? _cache;
        await cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_eager);
        _time.Advance(TimeSpan.FromSeconds(6));
        var refresh = new Gated<string>(() => "refreshed before the delete");

        Assert.That(await GetOrSet(async, "k", refresh.RunAsync, refresh.Run, s_eager, cache: cache), Is.EqualTo("v1"));
        await refresh.Started.Task.WaitAsync(Limit);
        Assert.That(cache.Delete("k"), Is.EqualTo(1));
        refresh.Gate.SetResult();
        await refresh.Ended.Task.WaitAsync(Limit);
        await Task.Delay(30); // lets the store after the body land, if it were to

        Assert.That(cache.TryGet<string>("k", out var seen), Is.False, $"the delete was undone by the refresh: '{seen}'");
        Assert.That(await cache.GetOrSetAsync("k", _ => new ValueTask<string>("v2"), s_eager), Is.EqualTo("v2"), "a later call computes anew");
    }

    [Test]
    public async Task EagerRefresh_a_miss_after_a_Delete_while_the_refresh_runs_does_not_get_the_refresh_s_older_value()
    {
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_eager);
        _time.Advance(TimeSpan.FromSeconds(6));
        var refresh = new Gated<string>(() => "computed before the delete");

        Assert.That(await _cache.GetOrSetAsync("k", refresh.RunAsync, s_eager), Is.EqualTo("v1"));
        await refresh.Started.Task.WaitAsync(Limit);
        _cache.Delete("k");

        // The flight the delete overtook takes no passenger: this miss computes on its own, without the closed gate.
        var miss = _cache.GetOrSetAsync("k", _ => new ValueTask<string>("after the delete"), s_eager).AsTask();
        var alone = await Task.WhenAny(miss, Task.Delay(Limit)) == miss;
        refresh.Gate.SetResult();
        Assert.That(alone, Is.True, "the miss after the delete waited for the refresh started before it");
        Assert.That(await miss.WaitAsync(Limit), Is.EqualTo("after the delete"));
        await refresh.Ended.Task.WaitAsync(Limit);
        await Task.Delay(30);
        Assert.That(_cache.Get<string>("k"), Is.EqualTo("after the delete"));
    }

    [Test]
    public async Task EagerRefresh_a_Set_while_the_refresh_runs_stands([Values] bool async)
    {
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_eager);
        _time.Advance(TimeSpan.FromSeconds(6));
        var refresh = new Gated<string>(() => "refreshed");

        Assert.That(await GetOrSet(async, "k", refresh.RunAsync, refresh.Run, s_eager), Is.EqualTo("v1"));
        await refresh.Started.Task.WaitAsync(Limit);
        _cache.Set("k", "written meanwhile", s_eager);
        refresh.Gate.SetResult();
        await refresh.Ended.Task.WaitAsync(Limit);
        await Task.Delay(30);

        Assert.That(_cache.Get<string>("k"), Is.EqualTo("written meanwhile"));
    }

    [Test]
    public async Task EagerRefresh_a_Clear_while_the_refresh_runs_is_not_undone([Values] bool async)
    {
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_eager);
        _time.Advance(TimeSpan.FromSeconds(6));
        var refresh = new Gated<string>(() => "refreshed");

        Assert.That(await GetOrSet(async, "k", refresh.RunAsync, refresh.Run, s_eager), Is.EqualTo("v1"));
        await refresh.Started.Task.WaitAsync(Limit);
        _cache.Clear();
        refresh.Gate.SetResult();
        await refresh.Ended.Task.WaitAsync(Limit);
        await Task.Delay(30);

        Assert.That(_cache.TryGet<string>("k", out var seen), Is.False, $"the clear was undone: '{seen}'");
    }

    [Test]
    public async Task EagerRefresh_a_generated_method_s_InvalidateCache_while_the_refresh_runs_is_not_undone([Values] bool async)
    {
        var method = Method(ttl: 10, eagerRefresh: 0.5);
        var value = "v1";
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gated = false;
        string Body()
        {
            var read = Volatile.Read(ref value); // what the source holds when the body reads it
            if (Volatile.Read(ref gated))
            {
                started.TrySetResult();
                gate.Task.Wait(Limit);
                ended.TrySetResult();
            }

            return read;
        }

        Task<string> Call() => async
            ? method.CallTaskAsync("user:1", 0, (_, _) => Task.Run(Body), null, CancellationToken.None)
            : Task.FromResult(method.Call("user:1", 0, _ => Body(), null));

        Assert.That(await Call(), Is.EqualTo("v1"));
        _time.Advance(TimeSpan.FromSeconds(6));
        Volatile.Write(ref gated, true);
        Volatile.Write(ref value, "read before the update");
        Assert.That(await Call().WaitAsync(Limit), Is.EqualTo("v1"));
        await started.Task.WaitAsync(Limit);

        // [InvalidateCache] of an update: the body changed the source, then the entry is deleted.
        Volatile.Write(ref value, "after the update");
        if (async)
        {
            await method.InvalidateAsync("user:1", CancellationToken.None);
        }
        else
        {
            method.Invalidate("user:1");
        }

        gate.SetResult();
        await ended.Task.WaitAsync(Limit);
        await Task.Delay(30);
        Volatile.Write(ref gated, false);

        Assert.That(await Call().WaitAsync(Limit), Is.EqualTo("after the update"), "the refresh computed before the invalidation must not answer after it");
    }

    [Test]
    public async Task EagerRefresh_a_miss_joining_the_refresh_gets_its_value_and_the_body_runs_once([Values] bool async)
    {
        await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), s_eager);
        _time.Advance(TimeSpan.FromSeconds(6));
        var refresh = new Gated<int>(() => 2);

        Assert.That(await _cache.GetOrSetAsync("k", refresh.RunAsync, s_eager), Is.EqualTo(1));
        await refresh.Started.Task.WaitAsync(Limit);
        _time.Advance(TimeSpan.FromSeconds(5)); // expired: a miss
        var miss = Task.Run(async () => await GetOrSet(async, "k", refresh.RunAsync, refresh.Run, s_eager));
        await Task.Delay(30);
        Assert.That(miss.IsCompleted, Is.False, "the miss waits for the refresh under way");
        refresh.Gate.SetResult();

        Assert.That(await miss.WaitAsync(Limit), Is.EqualTo(2));
        Assert.That(refresh.Calls, Is.EqualTo(1));
    }

    [Test]
    public async Task EagerRefresh_a_miss_that_joined_the_refresh_and_cancels_leaves_at_once_and_the_refresh_still_stores()
    {
        await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), s_eager);
        _time.Advance(TimeSpan.FromSeconds(6));
        var refresh = new Gated<int>(() => 2);

        Assert.That(await _cache.GetOrSetAsync("k", refresh.RunAsync, s_eager), Is.EqualTo(1));
        await refresh.Started.Task.WaitAsync(Limit);
        _time.Advance(TimeSpan.FromSeconds(5));
        using var cts = new CancellationTokenSource();
        var miss = _cache.GetOrSetAsync("k", refresh.RunAsync, s_eager, cancellationToken: cts.Token).AsTask();
        await Task.Delay(20);
        cts.Cancel();

        Assert.CatchAsync<OperationCanceledException>(async () => await miss.WaitAsync(Limit));
        Assert.That(refresh.Token.IsCancellationRequested, Is.False, "a refresh runs for nobody's call: a caller leaving does not stop it");
        refresh.Gate.SetResult();
        await WaitUntil(() => _cache.Get<int>("k") == 2);
        Assert.That(refresh.Calls, Is.EqualTo(1));
    }

    [Test]
    public async Task EagerRefresh_the_starter_s_token_cancelling_afterwards_does_not_stop_the_refresh()
    {
        await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), s_eager);
        _time.Advance(TimeSpan.FromSeconds(6));
        var refresh = new Gated<int>(() => 2, honoursToken: true);
        using var cts = new CancellationTokenSource();

        Assert.That(await _cache.GetOrSetAsync("k", refresh.RunAsync, s_eager, cancellationToken: cts.Token), Is.EqualTo(1));
        await refresh.Started.Task.WaitAsync(Limit);
        cts.Cancel();
        Assert.That(refresh.Token.IsCancellationRequested, Is.False);
        refresh.Gate.SetResult();
        await WaitUntil(() => _cache.Get<int>("k") == 2);
    }

    [Test]
    public async Task EagerRefresh_a_generated_sync_method_refreshes_once_in_the_background_and_hits_answer_meanwhile()
    {
        var method = Method(ttl: 10, eagerRefresh: 0.5);
        var calls = 0;
        var gate = new ManualResetEventSlim();
        string Body(int id)
        {
            var n = Interlocked.Increment(ref calls);
            if (n > 1)
            {
                gate.Wait(Limit);
            }

            return $"v{n}";
        }

        Assert.That(method.Call("p:1", 1, Body, null), Is.EqualTo("v1"));
        _time.Advance(TimeSpan.FromSeconds(6));
        var hits = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => method.Call("p:1", 1, Body, null)))).WaitAsync(Limit);
        Assert.That(hits, Is.All.EqualTo("v1"));
        await WaitUntil(() => Volatile.Read(ref calls) == 2);
        gate.Set();
        await WaitUntil(() => _cache.Get<string>("p:1") == "v2");
        Assert.That(calls, Is.EqualTo(2));
        Assert.That(method.Call("p:1", 1, Body, null), Is.EqualTo("v2"));
    }

    [Test]
    public async Task EagerRefresh_a_value_served_by_fail_safe_and_fresh_for_its_throttle_starts_no_refresh([Values] bool async)
    {
        var options = new CacheEntryOptions
        {
            Ttl = TimeSpan.FromSeconds(10), EagerRefresh = 0.5, FailSafe = TimeSpan.FromHours(1), FailSafeThrottle = TimeSpan.FromSeconds(30),
        };
        await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), options);
        _time.Advance(TimeSpan.FromSeconds(11));
        Assert.That(await GetOrSet(async, "k", _ => throw Down(), (Func<CancellationToken, int>)(_ => throw Down()), options), Is.EqualTo(1));

        // Fresh again for 30 s; at 20 s in, past half of anything, still no refresh.
        _time.Advance(TimeSpan.FromSeconds(20));
        var calls = 0;
        Assert.That(await GetOrSet(async, "k", _ => new ValueTask<int>(Interlocked.Increment(ref calls) + 1), _ => Interlocked.Increment(ref calls) + 1, options), Is.EqualTo(1));
        await Task.Delay(50);
        Assert.That(Volatile.Read(ref calls), Is.Zero, "the throttle's job is to leave a failing source alone");
        AssertNothingUnobserved();
    }

    [Test]
    public async Task EagerRefresh_an_entry_with_no_expiry_is_never_refreshed([Values] bool infinite)
    {
        var options = new CacheEntryOptions { Ttl = infinite ? Timeout.InfiniteTimeSpan : TimeSpan.Zero, EagerRefresh = 0.5 };
        await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), options);
        _time.Advance(TimeSpan.FromDays(365));
        var calls = 0;
        Assert.That(await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(Interlocked.Increment(ref calls) + 1), options), Is.EqualTo(1));
        await Task.Delay(50);
        Assert.That(Volatile.Read(ref calls), Is.Zero);
    }

    [Test]
    public async Task EagerRefresh_inside_SkipWrite_a_late_hit_stores_nothing()
    {
        await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), s_eager);
        _time.Advance(TimeSpan.FromSeconds(6));
        var refresh = new Gated<int>(() => 2);
        refresh.Gate.SetResult();
        using (CacheScope.SkipWrite())
        {
            Assert.That(await _cache.GetOrSetAsync("k", refresh.RunAsync, s_eager), Is.EqualTo(1));
        }

        await Task.Delay(50);
        Assert.That(_cache.Get<int>("k"), Is.EqualTo(1), "calls inside SkipWrite never store a result");
    }

    [Test]
    public async Task EagerRefresh_and_fail_safe_a_miss_that_joined_a_failing_refresh_gets_the_last_value_and_the_throttle_holds_off_the_source([Values] bool async)
    {
        // resilience.md, fail-safe: "The factory throws: the call returns the last value, and so does every caller waiting
        // on that flight. The entry is written back fresh for FailSafeThrottle, so the next calls are hits."
        var options = new CacheEntryOptions
        {
            Ttl = TimeSpan.FromSeconds(10), EagerRefresh = 0.5, FailSafe = TimeSpan.FromHours(1), FailSafeThrottle = TimeSpan.FromSeconds(30),
        };
        await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), options);
        _time.Advance(TimeSpan.FromSeconds(6));
        var refresh = new Gated<int>(() => throw Down());
        Assert.That(await GetOrSet(async, "k", refresh.RunAsync, refresh.Run, options), Is.EqualTo(1));
        await refresh.Started.Task.WaitAsync(Limit);

        _time.Advance(TimeSpan.FromSeconds(5)); // stale now, still kept: a miss with a last value joins the refresh
        var miss = _cache.GetOrSetAsync("k", refresh.RunAsync, options).AsTask();
        await Task.Delay(30);
        refresh.Gate.SetResult();
        Assert.That(await miss.WaitAsync(Limit), Is.EqualTo(1), "the caller waiting on the failing flight gets the last value");
        Assert.That(refresh.Calls, Is.EqualTo(1));

        var calls = 0;
        Assert.That(await _cache.GetOrSetAsync<int>("k", _ =>
        {
            Interlocked.Increment(ref calls);
            throw Down();
        }, options), Is.EqualTo(1));
        Assert.That(calls, Is.Zero, "after a failure served by fail-safe the next call is a hit for the throttle, not another call of the failing source");
        AssertNothingUnobserved();
    }

    [Test]
    public async Task EagerRefresh_the_refresh_point_is_the_writer_s_a_reader_with_EagerRefresh_does_not_refresh_an_entry_written_without_it()
    {
        // resilience.md: "The eager-refresh point is stamped by the writer ..., so every reader of the entry agrees on it;
        // a reader refreshes only if it has EagerRefresh itself."
        var writer = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), FailSafe = TimeSpan.FromMinutes(1) };
        var reader = writer with { EagerRefresh = 0.5 };
        await _cache.GetOrSetAsync("plain", _ => new ValueTask<int>(1), writer);
        await _cache.GetOrSetAsync("eager", _ => new ValueTask<int>(1), reader);
        _time.Advance(TimeSpan.FromSeconds(8));
        var calls = 0;

        Assert.That(await _cache.GetOrSetAsync("plain", _ => new ValueTask<int>(Interlocked.Increment(ref calls) + 1), reader), Is.EqualTo(1));
        Assert.That(await _cache.GetOrSetAsync("eager", _ => new ValueTask<int>(Interlocked.Increment(ref calls) + 1), writer), Is.EqualTo(1));
        await Task.Delay(50);
        Assert.That(Volatile.Read(ref calls), Is.Zero, "neither reader refreshes: one has no point stamped, the other no EagerRefresh of its own");
    }

    [Test]
    public async Task EagerRefresh_a_miss_without_a_last_value_joining_the_refresh_times_out_at_its_HardTimeout_and_the_refresh_still_stores()
    {
        var options = s_eager with { HardTimeout = TimeSpan.FromSeconds(1) };
        await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), options);
        _time.Advance(TimeSpan.FromSeconds(6));
        var refresh = new Gated<int>(() => 2);
        Assert.That(await _cache.GetOrSetAsync("k", refresh.RunAsync, options), Is.EqualTo(1));
        await refresh.Started.Task.WaitAsync(Limit);
        _time.Advance(TimeSpan.FromSeconds(5)); // expired, and no fail-safe: no last value

        var miss = _cache.GetOrSetAsync("k", refresh.RunAsync, options).AsTask();
        await AdvanceUntilDone(miss, TimeSpan.FromMilliseconds(250));
        Assert.ThrowsAsync<TimeoutException>(async () => await miss.WaitAsync(Limit));
        refresh.Gate.SetResult();
        await WaitUntil(() => _cache.TryGet<int>("k", out var v) && v == 2);
        Assert.That(refresh.Calls, Is.EqualTo(1));
    }

    // ================================================================ SkipRead: a forced recompute against an older body

    [Test]
    public async Task SkipRead_a_forced_recompute_is_not_overwritten_by_an_older_body_that_finishes_after_it([Values] bool refreshing, [Values] bool async)
    {
        // decorators.md: "using (CacheScope.SkipRead()) { ... }   // runs the body, stores the fresh result", and a call
        // that skips the read "never joins a computation older than itself that it cannot trust". The older body then
        // finishing must not put its older value back over the fresh one.
        var method = refreshing ? Method(ttl: 10, eagerRefresh: 0.5) : Method(ttl: 10);
        var source = "v1";
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gated = 0;
        string Body()
        {
            var read = Volatile.Read(ref source);
            if (Interlocked.Exchange(ref gated, 0) == 1)
            {
                started.TrySetResult();
                gate.Task.Wait(Limit);
                ended.TrySetResult();
            }

            return read;
        }

        Task<string> Call() => async
            ? method.CallTaskAsync("item:1", 0, (_, _) => Task.Run(Body), null, CancellationToken.None)
            : Task.Run(() => method.Call("item:1", 0, _ => Body(), null));

        Task<string> older;
        if (refreshing)
        {
            Assert.That(await Call(), Is.EqualTo("v1"));
            _time.Advance(TimeSpan.FromSeconds(6));
            Volatile.Write(ref gated, 1);
            Assert.That(await Call().WaitAsync(Limit), Is.EqualTo("v1")); // a late hit: the refresh reads v1 and waits
            older = Task.FromResult("v1");
        }
        else
        {
            Volatile.Write(ref gated, 1);
            older = Call(); // a miss: its body reads v1 and waits
        }

        await started.Task.WaitAsync(Limit);
        Volatile.Write(ref source, "v2");
        string forced;
        using (CacheScope.SkipRead())
        {
            forced = await Call().WaitAsync(Limit);
        }

        Assert.That(forced, Is.EqualTo("v2"));
        Assert.That(_cache.Get<string>("item:1"), Is.EqualTo("v2"), "the forced recompute stored its fresh result");
        gate.SetResult();
        await ended.Task.WaitAsync(Limit);
        await older.WaitAsync(Limit);
        await Task.Delay(30);

        Assert.That(_cache.Get<string>("item:1"), Is.EqualTo("v2"), "the body that began before the forced recompute stored its older value over the fresh one");
    }

    // ================================================================ soft and hard timeouts

    [Test]
    public async Task SoftTimeout_a_slow_body_answers_the_stale_value_at_the_soft_timeout_and_stores_its_result_later([Values] bool async)
    {
        var options = s_failSafe with { SoftTimeout = TimeSpan.FromSeconds(1) };
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), options);
        _time.Advance(TimeSpan.FromMinutes(2));
        var slow = new Gated<string>(() => "v2");

        var call = Task.Run(async () => await GetOrSet(async, "k", slow.RunAsync, slow.Run, options));
        await slow.Started.Task.WaitAsync(Limit);
        await AdvanceUntilDone(call, TimeSpan.FromMilliseconds(250));
        Assert.That(await call.WaitAsync(Limit), Is.EqualTo("v1"));
        Assert.That(slow.Token.IsCancellationRequested, Is.False);

        slow.Gate.SetResult();
        await WaitUntil(() => _cache.TryGet<string>("k", out var v) && v == "v2", "the body's late result is stored");
        Assert.That(slow.Calls, Is.EqualTo(1));
        var calls = 0;
        Assert.That(await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v" + ++calls), options), Is.EqualTo("v2"), "a hit after the late store");
        Assert.That(calls, Is.Zero);
    }

    [Test]
    public async Task SoftTimeout_each_joiner_with_a_last_value_is_answered_and_the_body_runs_once([Values] bool async)
    {
        var options = s_failSafe with { SoftTimeout = TimeSpan.FromSeconds(1) };
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), options);
        _time.Advance(TimeSpan.FromMinutes(2));
        var slow = new Gated<string>(() => "v2");

        var leader = _cache.GetOrSetAsync("k", slow.RunAsync, options).AsTask();
        await slow.Started.Task.WaitAsync(Limit);
        var joiners = Enumerable.Range(0, 4).Select(_ => Task.Run(async () => await GetOrSet(async, "k", slow.RunAsync, slow.Run, options))).ToArray();
        var all = Task.WhenAll(joiners.Append(leader));
        await AdvanceUntilDone(all, TimeSpan.FromMilliseconds(250));

        Assert.That(await all.WaitAsync(Limit), Is.All.EqualTo("v1"));
        Assert.That(slow.Calls, Is.EqualTo(1));
        slow.Gate.SetResult();
        await WaitUntil(() => _cache.TryGet<string>("k", out var v) && v == "v2");
    }

    [Test]
    public async Task SoftTimeout_a_caller_arriving_after_others_left_at_the_timeout_joins_the_same_body()
    {
        // "Once a caller left at a timeout, its token no longer cancels the factory: the result serves the next callers."
        var options = s_failSafe with { SoftTimeout = TimeSpan.FromSeconds(1) };
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), options);
        _time.Advance(TimeSpan.FromMinutes(2));
        var slow = new Gated<string>(() => "v2");
        using var cts = new CancellationTokenSource();

        var first = _cache.GetOrSetAsync("k", slow.RunAsync, options, cancellationToken: cts.Token).AsTask();
        await slow.Started.Task.WaitAsync(Limit);
        await AdvanceUntilDone(first, TimeSpan.FromMilliseconds(250));
        Assert.That(await first.WaitAsync(Limit), Is.EqualTo("v1"));
        cts.Cancel();

        var next = _cache.GetOrSetAsync("k", slow.RunAsync, options).AsTask();
        await Task.Delay(20);
        slow.Gate.SetResult();
        var answer = await next.WaitAsync(Limit);
        Assert.That(answer, Is.AnyOf("v1", "v2"));
        Assert.That(slow.Calls, Is.EqualTo(1), "the body that went on serves the next caller; none runs anew");
        await WaitUntil(() => _cache.TryGet<string>("k", out var v) && v == "v2");
    }

    [Test]
    public async Task Timeouts_with_both_and_a_last_value_the_shorter_applies([Values] bool hardIsShorter)
    {
        var options = s_failSafe with
        {
            SoftTimeout = TimeSpan.FromSeconds(hardIsShorter ? 5 : 1),
            HardTimeout = TimeSpan.FromSeconds(hardIsShorter ? 1 : 5),
        };
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), options);
        _time.Advance(TimeSpan.FromMinutes(2));
        var slow = new Gated<string>(() => "v2");

        var call = _cache.GetOrSetAsync("k", slow.RunAsync, options).AsTask();
        await slow.Started.Task.WaitAsync(Limit);
        await AdvanceUntilDone(call, TimeSpan.FromMilliseconds(250), most: TimeSpan.FromSeconds(2));

        Assert.That(call.IsCompleted, Is.True, "answered within about 1 s of fake time, the shorter of the two");
        Assert.That(await call, Is.EqualTo("v1"));
        slow.Gate.SetResult();
        await WaitUntil(() => _cache.TryGet<string>("k", out var v) && v == "v2");
    }

    [Test]
    public async Task HardTimeout_without_a_last_value_throws_TimeoutException_naming_the_key_for_leader_and_joiners([Values] bool async)
    {
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), HardTimeout = TimeSpan.FromSeconds(1) };
        var slow = new Gated<string>(() => "late");

        var leader = Task.Run(async () => await GetOrSet(async, "slow-key", slow.RunAsync, slow.Run, options));
        await slow.Started.Task.WaitAsync(Limit);
        var joiner = Task.Run(async () => await GetOrSet(!async, "slow-key", slow.RunAsync, slow.Run, options));
        var both = Task.WhenAll(leader, joiner);
        await AdvanceUntilDone(both, TimeSpan.FromMilliseconds(250));

        var ex = Assert.ThrowsAsync<TimeoutException>(async () => await leader.WaitAsync(Limit));
        Assert.That(ex!.Message, Does.Contain("slow-key"));
        Assert.ThrowsAsync<TimeoutException>(async () => await joiner.WaitAsync(Limit));
        Assert.That(slow.Calls, Is.EqualTo(1));
        slow.Gate.SetResult();
        await WaitUntil(() => _cache.TryGet<string>("slow-key", out var v) && v == "late", "the late result is still stored");
    }

    [Test]
    public async Task HardTimeout_a_body_failing_after_the_caller_left_leaves_no_unobserved_exception_and_nothing_stored([Values] bool async)
    {
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), HardTimeout = TimeSpan.FromSeconds(1) };
        var slow = new Gated<string>(() => throw Down());

        var call = Task.Run(async () => await GetOrSet(async, "k", slow.RunAsync, slow.Run, options));
        await slow.Started.Task.WaitAsync(Limit);
        await AdvanceUntilDone(call, TimeSpan.FromMilliseconds(250));
        Assert.ThrowsAsync<TimeoutException>(async () => await call.WaitAsync(Limit));

        slow.Gate.SetResult();
        await slow.Ended.Task.WaitAsync(Limit);
        await Task.Delay(30);
        Assert.That(_cache.TryGet<string>("k", out _), Is.False);
        var fresh = new Gated<string>(() => "anew");
        fresh.Gate.SetResult();
        Assert.That(await GetOrSet(async, "k", fresh.RunAsync, fresh.Run, options), Is.EqualTo("anew"), "nothing left on the flight board");
        AssertNothingUnobserved();
    }

    [Test]
    public async Task Timeouts_InfiniteTimeSpan_is_no_timeout([Values] bool async, [Values] bool soft)
    {
        var options = soft
            ? s_failSafe with { SoftTimeout = Timeout.InfiniteTimeSpan }
            : new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), HardTimeout = Timeout.InfiniteTimeSpan };
        if (soft)
        {
            await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), options);
            _time.Advance(TimeSpan.FromMinutes(2));
        }

        var slow = new Gated<string>(() => "v2");
        var call = Task.Run(async () => await GetOrSet(async, "k", slow.RunAsync, slow.Run, options));
        await slow.Started.Task.WaitAsync(Limit);
        _time.Advance(TimeSpan.FromDays(60));
        await Task.Delay(50);
        Assert.That(call.IsCompleted, Is.False, "an infinite timeout never answers early");
        slow.Gate.SetResult();
        Assert.That(await call.WaitAsync(Limit), Is.EqualTo("v2"));
    }

    [Test]
    public async Task Timeouts_a_generated_async_method_with_SoftTimeout_answers_the_last_value_and_stores_the_late_result()
    {
        var method = Method(ttl: 60, failSafe: 3600, soft: 1);
        var slow = new Gated<string>(() => "v2");
        Assert.That(await method.CallTaskAsync("price:1", 0, (_, _) => Task.FromResult("v1"), null, CancellationToken.None), Is.EqualTo("v1"));
        _time.Advance(TimeSpan.FromMinutes(2));

        var call = method.CallTaskAsync("price:1", slow, static (s, ct) => s.RunAsync(ct).AsTask(), null, CancellationToken.None);
        await slow.Started.Task.WaitAsync(Limit);
        await AdvanceUntilDone(call, TimeSpan.FromMilliseconds(250));
        Assert.That(await call.WaitAsync(Limit), Is.EqualTo("v1"));
        slow.Gate.SetResult();
        await WaitUntil(() => _cache.TryGet<string>("price:1", out var v) && v == "v2");
    }

    [Test]
    public async Task Timeouts_a_caller_cancelling_before_its_hard_timeout_gets_OperationCanceledException_not_TimeoutException()
    {
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), HardTimeout = TimeSpan.FromSeconds(10) };
        var slow = new Gated<string>(() => "v", honoursToken: true);
        using var cts = new CancellationTokenSource();

        var call = _cache.GetOrSetAsync("k", slow.RunAsync, options, cancellationToken: cts.Token).AsTask();
        await slow.Started.Task.WaitAsync(Limit);
        cts.Cancel();
        var ex = Assert.CatchAsync(async () => await call.WaitAsync(Limit));
        Assert.That(ex, Is.InstanceOf<OperationCanceledException>());
        await slow.Ended.Task.WaitAsync(Limit);
        Assert.That(await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("anew"), options), Is.EqualTo("anew"));
    }

    // ================================================================ fail-safe

    [Test]
    public async Task FailSafe_a_generated_async_method_answers_the_last_value_and_throttles_concurrent_callers()
    {
        var method = Method(ttl: 60, failSafe: 3600, throttle: 30);
        Assert.That(await method.CallTaskAsync("r:1", 0, (_, _) => Task.FromResult("v1"), null, CancellationToken.None), Is.EqualTo("v1"));
        _time.Advance(TimeSpan.FromMinutes(2));
        var calls = 0;
        Task<string> Failing(int _, CancellationToken __)
        {
            Interlocked.Increment(ref calls);
            return Task.FromException<string>(Down());
        }

        Assert.That(await method.CallTaskAsync("r:1", 0, Failing, null, CancellationToken.None), Is.EqualTo("v1"));
        var burst = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => method.CallTaskAsync("r:1", 0, Failing, null, CancellationToken.None)))).WaitAsync(Limit);
        Assert.That(burst, Is.All.EqualTo("v1"));
        Assert.That(Volatile.Read(ref calls), Is.EqualTo(1), "within the throttle the source is not called again");

        _time.Advance(TimeSpan.FromSeconds(31));
        Assert.That(await method.CallTaskAsync("r:1", 0, Failing, null, CancellationToken.None), Is.EqualTo("v1"));
        Assert.That(Volatile.Read(ref calls), Is.EqualTo(2), "past the throttle it is tried once more");
        AssertNothingUnobserved();
    }

    [Test]
    public async Task FailSafe_a_failing_body_with_sync_and_async_waiters_answers_everyone_the_last_value_once([Values] bool asyncLeader)
    {
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_failSafe);
        _time.Advance(TimeSpan.FromMinutes(2));
        var failing = new Gated<string>(() => throw Down());

        var leader = Task.Run(async () => await GetOrSet(asyncLeader, "k", failing.RunAsync, failing.Run, s_failSafe));
        await failing.Started.Task.WaitAsync(Limit);
        var waiters = Enumerable.Range(0, 6).Select(i => Task.Run(async () => await GetOrSet(i % 2 == 0, "k", failing.RunAsync, failing.Run, s_failSafe))).ToArray();
        await Task.Delay(30);
        failing.Gate.SetResult();

        Assert.That(await Task.WhenAll(waiters.Append(leader)).WaitAsync(Limit), Is.All.EqualTo("v1"));
        Assert.That(failing.Calls, Is.EqualTo(1));
        Assert.That(_cache.Get<string>("k"), Is.EqualTo("v1"), "fresh for the throttle");
        AssertNothingUnobserved();
    }

    // ================================================================ cancellation at every await

    [Test]
    public async Task Cancellation_a_pre_cancelled_joiner_leaves_at_once_and_the_others_get_the_value([Values] bool withOptions)
    {
        var options = withOptions ? s_failSafe with { SoftTimeout = TimeSpan.FromSeconds(1), EagerRefresh = 0.5 } : null;
        var body = new Gated<string>(() => "v");
        var leader = _cache.GetOrSetAsync("k", body.RunAsync, options).AsTask();
        await body.Started.Task.WaitAsync(Limit);

        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var joiner = _cache.GetOrSetAsync("k", body.RunAsync, options, cancellationToken: cts.Token).AsTask();
        Assert.CatchAsync<OperationCanceledException>(async () => await joiner.WaitAsync(Limit));
        Assert.That(body.Token.IsCancellationRequested, Is.False, "a joiner that never waited does not stop the body");

        body.Gate.SetResult();
        Assert.That(await leader.WaitAsync(Limit), Is.EqualTo("v"));
        Assert.That(body.Calls, Is.EqualTo(1));
        Assert.That(_cache.Get<string>("k"), Is.EqualTo("v"));
    }

    [Test]
    public async Task Cancellation_half_of_the_waiters_cancel_the_rest_get_the_value_the_body_runs_once_and_the_key_hits_after([Values] bool withOptions)
    {
        var options = withOptions ? s_failSafe with { HardTimeout = TimeSpan.FromMinutes(5), EagerRefresh = 0.8 } : null;
        var body = new Gated<string>(() => "v");
        using var cts = new CancellationTokenSource();
        var leader = _cache.GetOrSetAsync("k", body.RunAsync, options, cancellationToken: cts.Token).AsTask();
        await body.Started.Task.WaitAsync(Limit);
        var cancelling = Enumerable.Range(0, 5).Select(_ => _cache.GetOrSetAsync("k", body.RunAsync, options, cancellationToken: cts.Token).AsTask()).ToArray();
        using var other = new CancellationTokenSource();
        var staying = Enumerable.Range(0, 5).Select(_ => _cache.GetOrSetAsync("k", body.RunAsync, options, cancellationToken: other.Token).AsTask()).ToArray();
        var syncStaying = Task.Run(() => _cache.GetOrSet("k", body.Run, options));
        await Task.Delay(20);

        cts.Cancel();
        foreach (var call in cancelling.Append(leader))
        {
            Assert.CatchAsync<OperationCanceledException>(async () => await call.WaitAsync(Limit));
        }

        Assert.That(body.Token.IsCancellationRequested, Is.False);
        body.Gate.SetResult();
        Assert.That(await Task.WhenAll(staying.Append(syncStaying)).WaitAsync(Limit), Is.All.EqualTo("v"));
        Assert.That(body.Calls, Is.EqualTo(1));

        var again = 0;
        Assert.That(await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v" + ++again), options), Is.EqualTo("v"), "a hit: nothing left behind");
        Assert.That(again, Is.Zero);
        AssertNothingUnobserved();
    }

    [Test]
    public async Task Cancellation_every_caller_cancels_a_body_that_then_fails_leaves_no_unobserved_exception_and_the_key_computes_anew([Values] bool withOptions)
    {
        var options = withOptions ? s_failSafe with { SoftTimeout = TimeSpan.FromSeconds(1) } : null;
        var body = new Gated<string>(() => throw Down()); // ignores its token, then fails
        using var a = new CancellationTokenSource();
        using var b = new CancellationTokenSource();
        var first = _cache.GetOrSetAsync("k", body.RunAsync, options, cancellationToken: a.Token).AsTask();
        await body.Started.Task.WaitAsync(Limit);
        var second = _cache.GetOrSetAsync("k", body.RunAsync, options, cancellationToken: b.Token).AsTask();
        a.Cancel();
        b.Cancel();
        Assert.CatchAsync<OperationCanceledException>(async () => await first.WaitAsync(Limit));
        Assert.CatchAsync<OperationCanceledException>(async () => await second.WaitAsync(Limit));
        Assert.That(body.Token.IsCancellationRequested, Is.True, "no caller waits any more: the body's token is cancelled");

        var later = _cache.GetOrSetAsync("k", _ => new ValueTask<string>("anew"), options).AsTask();
        Assert.That(await later.WaitAsync(Limit), Is.EqualTo("anew"));
        body.Gate.SetResult();
        await body.Ended.Task.WaitAsync(Limit);
        await Task.Delay(30);
        Assert.That(_cache.Get<string>("k"), Is.EqualTo("anew"));
        AssertNothingUnobserved();
    }

    [Test]
    public async Task Cancellation_of_the_leader_while_the_body_runs_with_a_generated_async_method_the_joiner_gets_the_value()
    {
        var method = Method(ttl: 60);
        var body = new Gated<string>(() => "v", honoursToken: true);
        using var cts = new CancellationTokenSource();
        var leader = method.CallTaskAsync("m:1", body, static (s, ct) => s.RunAsync(ct).AsTask(), null, cts.Token);
        await body.Started.Task.WaitAsync(Limit);
        var joiner = method.CallTaskAsync("m:1", body, static (s, ct) => s.RunAsync(ct).AsTask(), null, CancellationToken.None);
        await Task.Delay(20);
        cts.Cancel();

        Assert.CatchAsync<OperationCanceledException>(async () => await leader.WaitAsync(Limit));
        Assert.That(body.Token.IsCancellationRequested, Is.False);
        body.Gate.SetResult();
        Assert.That(await joiner.WaitAsync(Limit), Is.EqualTo("v"));
        Assert.That(body.Calls, Is.EqualTo(1));
        Assert.That(await method.CallTaskAsync("m:1", 0, (_, _) => Task.FromResult("other"), null, CancellationToken.None), Is.EqualTo("v"));
    }

    [Test]
    public async Task Cancellation_a_caller_waiting_on_a_stale_key_s_flight_cancels_the_others_get_the_new_value_and_the_last_value_is_not_made_fresh()
    {
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_failSafe);
        _time.Advance(TimeSpan.FromMinutes(2));
        var body = new Gated<string>(() => "v2");
        var leader = _cache.GetOrSetAsync("k", body.RunAsync, s_failSafe).AsTask();
        await body.Started.Task.WaitAsync(Limit);
        using var cts = new CancellationTokenSource();
        var leaving = _cache.GetOrSetAsync("k", body.RunAsync, s_failSafe, cancellationToken: cts.Token).AsTask();
        await Task.Delay(20);
        cts.Cancel();

        Assert.CatchAsync<OperationCanceledException>(async () => await leaving.WaitAsync(Limit));
        Assert.That(_cache.TryGet<string>("k", out _), Is.False, "a caller that cancelled is no failure: the last value stays stale");
        body.Gate.SetResult();
        Assert.That(await leader.WaitAsync(Limit), Is.EqualTo("v2"));
        Assert.That(_cache.Get<string>("k"), Is.EqualTo("v2"));
    }

    [Test]
    public async Task Cancellation_with_a_pre_cancelled_token_on_a_miss_runs_no_body_and_leaves_no_flight([Values] bool withOptions)
    {
        var options = withOptions ? s_eager with { HardTimeout = TimeSpan.FromSeconds(5) } : null;
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var calls = 0;
        Assert.CatchAsync<OperationCanceledException>(async () => await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(++calls), options, cancellationToken: cts.Token));
        Assert.That(calls, Is.Zero, "a caller cancelled before the call runs no body");
        Assert.That(await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(42), options).AsTask().WaitAsync(Limit), Is.EqualTo(42));
    }
}
