using Cached.Redis.Tests.Infrastructure;
using Cached.Runtime;

namespace Cached.Redis.Tests;

/// <summary>
/// The stampede lease through Redis: two "processes" (two caches on two separate multiplexers, two method
/// instances) and many concurrent callers make exactly one body call; a stopped server never fails a cached call.
/// </summary>
public sealed class RedisLeaseTests
{
    private static RedisCache Process(string name) => new()
    {
        // A different client name is a different configuration, hence a multiplexer of its own.
        ConnectionString = SharedRedis.Server.ConnectionString + ",name=" + name,
        Namespace = "lease",
    };

    [Test]
    public async Task Callers_in_two_processes_make_one_body_call()
    {
        using var first = Process("first");
        using var second = Process("second");
        var methods = new[]
        {
            new CachedMethod<string>(new CachedMethodOptions { Method = "Demo.Slow", Lease = 5, Ttl = 60, CacheFactory = () => first }),
            new CachedMethod<string>(new CachedMethodOptions { Method = "Demo.Slow", Lease = 5, Ttl = 60, CacheFactory = () => second }),
        };
        var calls = 0;
        var gate = new TaskCompletionSource();

        var callers = Enumerable.Range(0, 40).Select(i => Task.Run(() => methods[i % 2].InvokeAsync(
            "slow:1",
            (Gate: gate, Calls: new StrongBox<int>()),
            async (state, ct) =>
            {
                Interlocked.Increment(ref calls);
                await state.Gate.Task;
                return "computed";
            },
            null,
            CancellationToken.None).AsTask())).ToArray();

        await Task.Delay(300);
        gate.SetResult();
        var results = await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.That(results, Is.All.EqualTo("computed"));
        Assert.That(calls, Is.EqualTo(1), "one body call across both processes");
        Assert.That(first.Exists("slow:1-lock"), Is.False, "the lease was released by its owner");
        Assert.That(second.Get<string>("slow:1"), Is.EqualTo("computed"));
        first.Clear();
    }

    [Test]
    public async Task A_stopped_server_never_fails_a_cached_call_and_the_cache_recovers()
    {
        using var server = new RedisServer();
        using var cache = new RedisCache { ConnectionString = server.ConnectionString, Timeout = TimeSpan.FromMilliseconds(500) };
        var method = new CachedMethod<int>(new CachedMethodOptions { Method = "Demo.Answer", CacheFactory = () => cache });
        var calls = 0;
        int Body(int x)
        {
            Interlocked.Increment(ref calls);
            return x * 2;
        }

        Assert.That(method.Invoke("answer", 21, x => Body(x)), Is.EqualTo(42));
        server.Stop();

        Assert.That(method.Invoke("answer", 21, x => Body(x)), Is.EqualTo(42), "fail-open on a sync call");
        Assert.That(await method.InvokeAsync("answer", 21, (x, _) => new ValueTask<int>(Body(x)), null, CancellationToken.None), Is.EqualTo(42), "and on an async one");
        Assert.That(calls, Is.EqualTo(3), "while the server is down every call runs the body");

        server.Start();
        var recovered = System.Diagnostics.Stopwatch.StartNew();
        while (!TryExists(cache) && recovered.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
        }

        Assert.That(TryExists(cache), Is.True, $"the same cache instance works again ({recovered.ElapsedMilliseconds} ms after the restart)");
        method.Invoke("answer", 21, x => Body(x));
        Assert.That(method.Invoke("answer", 21, x => Body(x)), Is.EqualTo(42));
        Assert.That(calls, Is.EqualTo(4), "after recovery the value is cached again");
    }

    private static bool TryExists(RedisCache cache)
    {
        try
        {
            cache.Exists("probe");
            return true;
        }
        catch (Exception ex) when (ex is CacheException or TimeoutException)
        {
            // Down (fails fast) or reconnecting (times out): not recovered yet.
            return false;
        }
    }

    [Test]
    public async Task A_leader_whose_callers_all_left_before_its_fill_opened_releases_its_lease()
    {
        // The leader holds the lease and has read the key once more under it; its only caller leaves then, so the open
        // of its fill (a round trip) is cancelled: the lease must go too, or every caller of the key, in every process,
        // waits it out (here a minute) for a call that no longer runs.
        using var cancel = new CancellationTokenSource();
        var leave = new LeaveAfterRecheck("gone:1", cancel);
        using var cache = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString + ",name=leaver", Namespace = "lease", Plugins = [leave] };
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = "Demo.Gone", Lease = 60, Ttl = 60, CacheFactory = () => cache });

        var call = method.InvokeAsync("gone:1", 0, static (_, _) => new ValueTask<string>("computed"), null, cancel.Token).AsTask();

        Assert.CatchAsync<OperationCanceledException>(async () => await call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.That(leave.Left, Is.True, "the caller left after the lease was taken and the key read again");

        // The caller leaves at once; the leader releases the lease as it unwinds, a moment later.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (cache.Exists("gone:1-lock") && waited.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(10);
        }

        Assert.That(cache.Exists("gone:1-lock"), Is.False, "the leader released the lease it held (within 5 s of a 60 s lease)");
        Assert.That(cache.Exists("gone:1"), Is.False, "and stored nothing");
    }

    [Test]
    public async Task A_lease_attempt_that_timed_out_leaves_no_lock_that_nobody_holds([Values] bool sync)
    {
        // The take (SET NX PX) times out on its way, held by the proxy, and lands when the proxy lets it go. Without the
        // release that follows it on the same connection, the other process's miss waited out the whole lease (30 s here, far
        // above the 10 s bound below, so that a stall of a loaded CI machine is not taken for a lease waited out).
        var ns = "lease-timeout-" + Guid.NewGuid().ToString("N")[..8];
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        using var slow = new RedisCache { ConnectionString = proxy.ConnectionString + ",name=slow-" + ns, Namespace = ns, Timeout = TimeSpan.FromSeconds(1) };
        using var other = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString + ",name=other-" + ns, Namespace = ns };
        await slow.SetAsync("warm", "x");
        await other.SetAsync("warm", "x");
        var onSlow = new CachedMethod<string>(new CachedMethodOptions { Method = "Demo.Timeout", Ttl = 600, Lease = 30, CacheFactory = () => slow });
        var onOther = new CachedMethod<string>(new CachedMethodOptions { Method = "Demo.Timeout", Ttl = 600, Lease = 30, CacheFactory = () => other });

        proxy.Hold();
        var first = sync
            ? await Task.Run(() => onSlow.Invoke("k", 0, static _ => "first"))
            : await onSlow.InvokeAsync("k", 0, static (_, _) => new ValueTask<string>("first"), null, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(15));
        Assert.That(first, Is.EqualTo("first"), "the body ran, uncached, when the cache timed out");
        proxy.Release();

        // What the proxy held reaches the server now, in order on that connection: the take, then the release of its
        // token, then this read, whose answer means the two before it have run.
        Assert.That(await slow.ExistsAsync("warm"), Is.True);
        Assert.That(await other.ExistsAsync("k-lock"), Is.False, "the timed-out take was released after it landed");
        var waited = System.Diagnostics.Stopwatch.StartNew();
        Assert.That(await onOther.InvokeAsync("k", 0, static (_, _) => new ValueTask<string>("second"), null, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(15)), Is.EqualTo("second"));
        Assert.That(waited.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "another process does not wait out a lease nobody holds");
    }

    private sealed class StrongBox<T>
    {
        public T? Value { get; set; }
    }

    /// <summary>
    /// Cancels the caller's token when <paramref name="key"/> is read the second time: the leader's read under the lease
    /// it has just taken (the first is the caller's miss; the lease's own commands are not shown to plugins).
    /// </summary>
    private sealed class LeaveAfterRecheck(string key, CancellationTokenSource caller) : Plugins.CachePlugin
    {
        private int _reads;

        public bool Left { get; private set; }

        public override void Post(Plugins.CacheCommandContext context)
        {
            if (context.Command == Plugins.CacheCommand.Get && context.Key == key && Interlocked.Increment(ref _reads) == 2)
            {
                Left = true;
                caller.Cancel();
            }
        }
    }
}

/// <summary>URL forms that only the Redis backend reads.</summary>
public sealed class RedisUrlTests
{
    [Test]
    public void A_rediss_url_asks_for_TLS()
    {
        using var cache = (RedisCache)Cache.FromUrl("rediss://:secret@127.0.0.1:6380/3?namespace=main");

        Assert.That((cache.Ssl, cache.Endpoint, cache.Port, cache.Database, cache.Password, cache.Namespace), Is.EqualTo((true, "127.0.0.1", 6380, (int?)3, "secret", "main")));
        Assert.That(cache.Options().Ssl, Is.True);
    }

    [Test]
    public void The_user_of_a_url_is_the_ACL_user()
    {
        using var cache = (RedisCache)Cache.FromUrl("redis://app:s%40cret@127.0.0.1:6379/0");

        Assert.That((cache.User, cache.Password), Is.EqualTo(("app", "s@cret")));
    }

    [Test]
    public void A_redis_url_does_not()
    {
        using var cache = (RedisCache)Cache.FromUrl("redis://127.0.0.1:6379");

        Assert.That(cache.Ssl, Is.False);
    }
}
