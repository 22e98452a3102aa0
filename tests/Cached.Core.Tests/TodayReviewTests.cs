using Cached.Runtime;
using Cached.Tests.Runtime;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Review;

/// <summary>
/// A review of 8805429 and the code around it. (1) Every flight a newer one replaces on the board has its key's fence
/// moved: on a two-level cache whose L2 is shared across processes, a miss's read opens the key's fill in L2's round
/// trip before the caller boards (<c>MultiLevelCache.TryGetOrOpenFill</c>), so replacing an overtaken flight refuses
/// the caller's own fill. (2) The fail-safe throttle a caller that waited on a failed eager refresh writes: skipped for
/// a source that times out, and written inside <c>CacheScope.SkipWrite()</c>. Generated methods are driven through
/// <see cref="CachedMethod{TResult}"/> and <c>GetOrSet</c>, as the neighbouring runtime tests do.
/// </summary>
[NonParallelizable]
public sealed class TodayReviewTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(5);

    private static CachedMethod<string> Method(ICache cache)
        => new(new CachedMethodOptions
        {
            Method = "Today.Review." + TestContext.CurrentContext.Test.MethodName,
            Ttl = 60,
            CacheFactory = () => cache,
        });

    /// <summary>A body that notes its start and answers once its gate opens.</summary>
    private sealed class Held(string answer)
    {
        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Run()
        {
            Started.TrySetResult();
            if (!Gate.Task.Wait(Limit))
            {
                throw new TimeoutException("test gate never opened");
            }

            return answer;
        }
    }

    private static Task<string> Call(CachedMethod<string> method, bool async, Func<string> body)
        => async
            ? method.CallTaskAsync("item:1", 0, (_, _) => Task.Run(body), null, CancellationToken.None)
            : Task.Run(() => method.Call("item:1", 0, _ => body(), null));

    [Test]
    public async Task Two_levels_a_miss_after_an_invalidation_stores_its_value_though_it_replaced_the_overtaken_flight([Values] bool async)
    {
        // reliability.md: "Callers that arrive after an invalidation ... never board the older flight, and the flight they
        // replace stores nothing afterwards". The newer flight's own fill must still store: it opened after the delete.
        var l2 = new TestBackend();
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), l2);
        var method = Method(cache);

        var older = new Held("v1");
        var olderCall = Call(method, async, older.Run); // a miss: its read opened the key's fill, its body waits
        await older.Started.Task.WaitAsync(Limit);

        cache.Delete("item:1"); // the delete overtakes that flight: its fill will not store

        var calls = 0;
        var fresh = await Call(method, async, () =>
        {
            Interlocked.Increment(ref calls);
            return "v2";
        }).WaitAsync(Limit);

        Assert.That(fresh, Is.EqualTo("v2"));
        Assert.That(cache.Get<string>("item:1"), Is.EqualTo("v2"), "the miss that came after the delete stored nothing: replacing the overtaken flight moved the fence of its own fill, which its read had opened");

        older.Gate.SetResult();
        // reliability.md: a flight whose fill was refused reads the key once more, and the value the cache holds stands.
        Assert.That(await olderCall.WaitAsync(Limit), Is.EqualTo("v2"));
        Assert.That(await Call(method, async, () => "v3").WaitAsync(Limit), Is.EqualTo("v2"), "the next call is a hit");
        Assert.That(calls, Is.EqualTo(1));
    }

    [Test]
    public async Task Two_levels_callers_after_an_invalidation_share_one_flight_again([Values] bool async)
    {
        // The same refusal marks the newer flight overtaken the moment it boards, so the next caller does not join it
        // either, replaces it, and runs a body of its own (and moves the fence again, refusing its own fill in turn):
        // single flight is lost for the key for as long as callers keep arriving during a body.
        var l2 = new TestBackend();
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), l2);
        var method = Method(cache);

        var older = new Held("v1");
        var olderCall = Call(method, async, older.Run);
        await older.Started.Task.WaitAsync(Limit);
        cache.Delete("item:1");

        var newer = new Held("v2");
        var newerCall = Call(method, async, newer.Run); // the first miss after the delete: it leads a new flight
        await newer.Started.Task.WaitAsync(Limit);

        var joinerRan = 0;
        var joiner = Call(method, async, () =>
        {
            Interlocked.Increment(ref joinerRan);
            return "v3";
        });
        await Task.WhenAny(joiner, Task.Delay(300));

        Assert.That(Volatile.Read(ref joinerRan), Is.Zero, "a caller that came while the newer flight ran did not join it: it ran the body again beside it");

        newer.Gate.SetResult();
        older.Gate.SetResult();
        await Task.WhenAll(olderCall, newerCall, joiner).WaitAsync(Limit);
        Assert.That(await joiner, Is.EqualTo("v2"), "the joiner shares the newer flight's value");
        Assert.That(cache.Get<string>("item:1"), Is.EqualTo("v2"));
    }
    [Test]
    public async Task FailSafe_a_caller_that_waited_on_a_refresh_whose_source_timed_out_writes_the_last_value_back_for_the_throttle([Values] bool async)
    {
        // resilience.md: a caller that waited on a failed refresh "gets its last value from fail-safe and writes it back
        // fresh for the throttle, as a failed factory's leader does". A source that times out throws an
        // OperationCanceledException of its own (HttpClient's TaskCanceledException): the leader of a miss throttles
        // then (only a factory cancelled through its token did not fail), and a caller that waited on a refresh must too.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var cache = new SimpleMemoryCache { TimeProvider = time };
        var options = new CacheEntryOptions
        {
            Ttl = TimeSpan.FromSeconds(10), EagerRefresh = 0.5, FailSafe = TimeSpan.FromHours(1), FailSafeThrottle = TimeSpan.FromSeconds(30),
        };
        static Exception TimedOut() => new TaskCanceledException("the source timed out (today-review)");

        // The leader of a miss whose source timed out: the last value is served, and the throttle holds off the source.
        await cache.GetOrSetAsync("control", _ => new ValueTask<int>(1), options);
        time.Advance(TimeSpan.FromSeconds(11));
        Assert.That(await cache.GetOrSetAsync<int>("control", _ => throw TimedOut(), options), Is.EqualTo(1));
        var controlCalls = 0;
        Assert.That(await cache.GetOrSetAsync<int>("control", _ =>
        {
            Interlocked.Increment(ref controlCalls);
            throw TimedOut();
        }, options), Is.EqualTo(1));
        Assert.That(controlCalls, Is.Zero, "a miss's leader throttles after its source timed out");

        // The same failure in an eager refresh that a caller with a last value waited on.
        await cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), options);
        time.Advance(TimeSpan.FromSeconds(6));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var refreshCalls = 0;
        async ValueTask<int> Refresh(CancellationToken ct)
        {
            Interlocked.Increment(ref refreshCalls);
            started.TrySetResult();
            await gate.Task.WaitAsync(Limit);
            throw TimedOut();
        }

        Assert.That(await cache.GetOrSetAsync("k", Refresh, options), Is.EqualTo(1), "a late hit starts the refresh");
        await started.Task.WaitAsync(Limit);
        time.Advance(TimeSpan.FromSeconds(5)); // expired, still kept: a caller with a last value joins the refresh

        Task<int> waiter;
        if (async)
        {
            waiter = cache.GetOrSetAsync("k", Refresh, options).AsTask();
        }
        else
        {
            // On a thread of its own, which has joined the refresh once it blocks: the gate opens only then (a fixed 50 ms
            // wait was outlasted on a loaded machine, and a caller that came after the failure led a refresh of its own).
            var joined = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            var thread = new Thread(() =>
            {
                try
                {
                    joined.TrySetResult(cache.GetOrSet("k", ct => Refresh(ct).AsTask().GetAwaiter().GetResult(), options));
                }
                catch (Exception ex)
                {
                    joined.TrySetException(ex);
                }
            }) { IsBackground = true };
            thread.Start();
            Cached.Tests.Runtime.Waits.UntilAllBlocked([thread], Limit);
            waiter = joined.Task;
        }

        gate.SetResult();
        Assert.That(await waiter.WaitAsync(Limit), Is.EqualTo(1), "the caller that waited on the failed refresh gets its last value");
        Assert.That(refreshCalls, Is.EqualTo(1), "the caller joined the refresh");

        var calls = 0;
        Assert.That(await cache.GetOrSetAsync<int>("k", _ =>
        {
            Interlocked.Increment(ref calls);
            throw TimedOut();
        }, options), Is.EqualTo(1));
        Assert.That(calls, Is.Zero, "after a refresh whose source timed out, the next call ran the failing source again: the caller that served the last value did not write it back for the throttle");
    }
    [Test]
    public async Task SkipWrite_a_caller_that_waited_on_a_failed_refresh_does_not_write_its_last_value_back([Values] bool async)
    {
        // decorators.md: "using (CacheScope.SkipWrite()) { ... }   // reads, never stores"; a [MultiCached] method skips its
        // fail-safe throttle inside SkipWrite (MultiCachedMethod.FailSafe). The throttle a caller that waited on a failed
        // refresh now writes (8805429) is a store all the same.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var cache = new SimpleMemoryCache { TimeProvider = time };
        var options = new CacheEntryOptions
        {
            Ttl = TimeSpan.FromSeconds(10), EagerRefresh = 0.5, FailSafe = TimeSpan.FromHours(1), FailSafeThrottle = TimeSpan.FromSeconds(30),
        };
        static Exception Down() => new InvalidOperationException("source down (today-review)");

        await cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), options);
        time.Advance(TimeSpan.FromSeconds(6));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async ValueTask<int> Refresh(CancellationToken ct)
        {
            started.TrySetResult();
            await gate.Task.WaitAsync(Limit);
            throw Down();
        }

        Assert.That(await cache.GetOrSetAsync("k", Refresh, options), Is.EqualTo(1), "a late hit starts the refresh");
        await started.Task.WaitAsync(Limit);
        time.Advance(TimeSpan.FromSeconds(5)); // expired, still kept

        var waiter = Task.Run(async () =>
        {
            using (CacheScope.SkipWrite())
            {
                return async
                    ? await cache.GetOrSetAsync("k", Refresh, options)
                    : cache.GetOrSet("k", ct => Refresh(ct).AsTask().GetAwaiter().GetResult(), options);
            }
        });
        await Task.Delay(50);
        gate.SetResult();
        Assert.That(await waiter.WaitAsync(Limit), Is.EqualTo(1));

        var calls = 0;
        Assert.That(await cache.GetOrSetAsync<int>("k", _ =>
        {
            Interlocked.Increment(ref calls);
            throw Down();
        }, options), Is.EqualTo(1));
        Assert.That(calls, Is.EqualTo(1), "the entry was written back fresh by a caller inside SkipWrite, so the next call was a hit");
    }

    [Test]
    public async Task SkipWrite_the_leader_of_a_failed_miss_does_not_write_its_last_value_back([Values] bool async)
    {
        // The same rule for the leader of a miss (the throttle in Run/RunAsync, older than 8805429), which the waiter's
        // throttle copies.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var cache = new SimpleMemoryCache { TimeProvider = time };
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), FailSafe = TimeSpan.FromHours(1), FailSafeThrottle = TimeSpan.FromSeconds(30) };
        static Exception Down() => new InvalidOperationException("source down (today-review)");

        await cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), options);
        time.Advance(TimeSpan.FromSeconds(11)); // expired, still kept

        int served;
        using (CacheScope.SkipWrite())
        {
            served = async
                ? await cache.GetOrSetAsync<int>("k", _ => throw Down(), options)
                : cache.GetOrSet<int>("k", _ => throw Down(), options);
        }

        Assert.That(served, Is.EqualTo(1));
        var calls = 0;
        Assert.That(await cache.GetOrSetAsync<int>("k", _ =>
        {
            Interlocked.Increment(ref calls);
            throw Down();
        }, options), Is.EqualTo(1));
        Assert.That(calls, Is.EqualTo(1), "the entry was written back fresh by a call inside SkipWrite, so the next call was a hit");
    }
}
