using System.Collections.Concurrent;
using Cached.Distributed;
using Cached.Hybrid;
using Cached.Plugins;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;

namespace Cached.Redis.Tests;

/// <summary>
/// An outsider's review of the locks, the plugins and the Microsoft adapters on a real redis-server (standalone,
/// loopback, the assembly's shared server). Each test asserts the behaviour the docs (or aiocache) describe.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderLocksRedisReviewTests
{
    private string _ns = "";

    [SetUp]
    public void NewNamespace() => _ns = "olr" + Guid.NewGuid().ToString("N")[..8];

    // A different client name is a different configuration, hence a multiplexer of its own: another "process".
    private RedisCache Process(string name, params ICachePlugin[] plugins) => new()
    {
        ConnectionString = SharedRedis.Server.ConnectionString + ",name=" + name,
        Namespace = _ns,
        Plugins = plugins,
    };

    // ---------------------------------------------------------------- RedLock

    [Test]
    public async Task RedLock_redis_contenders_in_two_processes_hold_the_lock_one_at_a_time()
    {
        using var first = Process("olr-first");
        using var second = Process("olr-second");
        const int contenders = 10;
        var inside = 0;
        var maxInside = 0;
        var acquired = 0;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var tasks = Enumerable.Range(0, contenders).Select(i => Task.Run(async () =>
        {
            await start.Task;
            await using var held = await RedLock.AcquireAsync(i % 2 == 0 ? first : second, "race", TimeSpan.FromSeconds(20));
            if (held.IsAcquired)
            {
                Interlocked.Increment(ref acquired);
            }

            var now = Interlocked.Increment(ref inside);
            int seen;
            while ((seen = Volatile.Read(ref maxInside)) < now && Interlocked.CompareExchange(ref maxInside, now, seen) != seen)
            {
            }

            await Task.Delay(3);
            Interlocked.Decrement(ref inside);
        })).ToArray();
        start.SetResult();
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Multiple(() =>
        {
            Assert.That(maxInside, Is.EqualTo(1));
            Assert.That(acquired, Is.EqualTo(contenders));
            Assert.That(first.Exists("race-lock"), Is.False);
        });
    }

    [Test]
    public async Task RedLock_redis_lock_key_is_namespaced_and_expires_with_the_lease()
    {
        using var cache = Process("olr-a");
        var held = await RedLock.AcquireAsync(cache, "k", TimeSpan.FromMilliseconds(300));

        Assert.Multiple(() =>
        {
            Assert.That(held.IsAcquired, Is.True);
            Assert.That(cache.Exists("k-lock"), Is.True);
        });
        await Task.Delay(600);
        Assert.That(cache.Exists("k-lock"), Is.False, "the lease is the lock's time to live");
    }

    [Test]
    public async Task RedLock_redis_release_after_the_lease_expired_leaves_the_new_owners_lock()
    {
        using var first = Process("olr-first");
        using var second = Process("olr-second");
        var old = await RedLock.AcquireAsync(first, "k", TimeSpan.FromMilliseconds(200));
        await Task.Delay(400);
        var current = await RedLock.AcquireAsync(second, "k", TimeSpan.FromSeconds(30));
        Assert.That(current.IsAcquired, Is.True);

        await old.DisposeAsync();
        Assert.That(second.Exists("k-lock"), Is.True, "the expired owner's release must not delete the new owner's lock");
        old.Dispose();
        Assert.That(second.Exists("k-lock"), Is.True);

        await current.DisposeAsync();
        Assert.That(second.Exists("k-lock"), Is.False);
    }

    [Test]
    public async Task RedLock_redis_a_waiter_in_another_process_takes_the_lock_when_the_holder_releases()
    {
        using var first = Process("olr-first");
        using var second = Process("olr-second");
        var holder = await RedLock.AcquireAsync(first, "k", TimeSpan.FromSeconds(30));
        var waiting = RedLock.AcquireAsync(second, "k", TimeSpan.FromSeconds(30)).AsTask();
        await Task.Delay(80);
        Assert.That(waiting.IsCompleted, Is.False);

        await holder.DisposeAsync();
        var waiter = await waiting.WaitAsync(TimeSpan.FromSeconds(3));
        Assert.That(waiter.IsAcquired, Is.True);
        await waiter.DisposeAsync();
    }

    [Test]
    public async Task RedLock_redis_a_waiter_goes_on_without_the_lock_after_its_lease_and_its_release_leaves_the_holders_lock()
    {
        using var first = Process("olr-first");
        using var second = Process("olr-second");
        var holder = await RedLock.AcquireAsync(first, "k", TimeSpan.FromSeconds(30));

        var waiter = await RedLock.AcquireAsync(second, "k", TimeSpan.FromMilliseconds(300)).AsTask().WaitAsync(TimeSpan.FromSeconds(3));
        Assert.That(waiter.IsAcquired, Is.False);
        await waiter.DisposeAsync();

        Assert.That(first.Exists("k-lock"), Is.True, "a caller that never held the lock must not release it");
        await holder.DisposeAsync();
    }

    [Test]
    public async Task RedLock_redis_cancelling_a_waiter_throws_and_leaves_the_holders_lock()
    {
        using var first = Process("olr-first");
        using var second = Process("olr-second");
        var holder = await RedLock.AcquireAsync(first, "k", TimeSpan.FromSeconds(30));
        using var cts = new CancellationTokenSource();
        var waiting = RedLock.AcquireAsync(second, "k", TimeSpan.FromSeconds(30), cancellationToken: cts.Token).AsTask();
        await Task.Delay(50);
        cts.Cancel();

        Assert.That(async () => await waiting.WaitAsync(TimeSpan.FromSeconds(3)), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(first.Exists("k-lock"), Is.True);
        await holder.DisposeAsync();
        Assert.That(first.Exists("k-lock"), Is.False);
    }

    [Test]
    public void RedLock_redis_an_already_cancelled_token_is_refused_and_takes_no_lock()
    {
        using var cache = Process("olr-a");
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.That(async () => await RedLock.AcquireAsync(cache, "k", TimeSpan.FromSeconds(30), cancellationToken: cts.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(cache.Exists("k-lock"), Is.False);
    }

    [Test]
    public void RedLock_redis_sync_threads_in_two_processes_hold_the_lock_one_at_a_time()
    {
        using var first = Process("olr-first");
        using var second = Process("olr-second");
        const int contenders = 6;
        var inside = 0;
        var maxInside = 0;
        using var barrier = new Barrier(contenders);
        var threads = Enumerable.Range(0, contenders).Select(i => new Thread(() =>
        {
            barrier.SignalAndWait();
            using var held = new RedLock(i % 2 == 0 ? first : second, "sync", TimeSpan.FromSeconds(20));
            var now = Interlocked.Increment(ref inside);
            if (now > Volatile.Read(ref maxInside))
            {
                Interlocked.Exchange(ref maxInside, now);
            }

            Thread.Sleep(3);
            Interlocked.Decrement(ref inside);
        })).ToArray();
        foreach (var t in threads)
        {
            t.Start();
        }

        foreach (var t in threads)
        {
            Assert.That(t.Join(TimeSpan.FromSeconds(20)), Is.True);
        }

        Assert.That(maxInside, Is.EqualTo(1));
    }

    // ---------------------------------------------------------------- OptimisticLock

    [Test]
    public void OptimisticLock_redis_concurrent_cas_from_two_processes_exactly_one_wins()
    {
        using var first = Process("olr-first");
        using var second = Process("olr-second");
        first.Set("counter", 0);
        const int contenders = 8;
        var locks = Enumerable.Range(0, contenders).Select(i => new OptimisticLock(i % 2 == 0 ? first : second, "counter")).ToArray();
        using var barrier = new Barrier(contenders);
        var wins = new ConcurrentBag<int>();
        var conflicts = 0;
        var threads = Enumerable.Range(0, contenders).Select(i => new Thread(() =>
        {
            barrier.SignalAndWait();
            try
            {
                locks[i].Cas(100 + i);
                wins.Add(i);
            }
            catch (OptimisticLockException)
            {
                Interlocked.Increment(ref conflicts);
            }
        })).ToArray();
        foreach (var t in threads)
        {
            t.Start();
        }

        foreach (var t in threads)
        {
            t.Join(TimeSpan.FromSeconds(10));
        }

        Assert.Multiple(() =>
        {
            Assert.That(wins, Has.Count.EqualTo(1));
            Assert.That(conflicts, Is.EqualTo(contenders - 1));
            Assert.That(first.Get<int>("counter"), Is.EqualTo(100 + wins.Single()));
        });
    }

    [Test]
    public async Task OptimisticLock_redis_cas_after_a_write_from_another_process_throws()
    {
        using var first = Process("olr-first");
        using var second = Process("olr-second");
        await first.SetAsync("k", 1);
        await using var lck = await OptimisticLock.AcquireAsync(first, "k");
        await second.SetAsync("k", 2);

        Assert.That(async () => await lck.CasAsync(3), Throws.InstanceOf<OptimisticLockException>());
        Assert.That(await first.GetAsync<int>("k"), Is.EqualTo(2));
    }

    [Test]
    public void OptimisticLock_redis_cas_after_the_key_was_deleted_throws_and_does_not_recreate_it()
    {
        using var cache = Process("olr-a");
        cache.Set("k", 1);
        using var lck = new OptimisticLock(cache, "k");
        cache.Delete("k");

        Assert.That(() => lck.Cas(3), Throws.InstanceOf<OptimisticLockException>());
        Assert.That(cache.Exists("k"), Is.False);
    }

    [Test]
    public void OptimisticLock_redis_on_a_missing_key_cas_writes_when_still_missing_and_fails_when_created()
    {
        using var cache = Process("olr-a");
        using (var lck = new OptimisticLock(cache, "fresh"))
        {
            Assert.That(lck.Cas(7), Is.True);
        }

        using var other = new OptimisticLock(cache, "created");
        cache.Set("created", 1);
        Assert.That(() => other.Cas(7), Throws.InstanceOf<OptimisticLockException>());
        Assert.Multiple(() =>
        {
            Assert.That(cache.Get<int>("fresh"), Is.EqualTo(7));
            Assert.That(cache.Get<int>("created"), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task OptimisticLock_redis_a_second_cas_succeeds_and_a_ttl_expires_the_value()
    {
        using var cache = Process("olr-a");
        cache.Set("k", 1);
        using var lck = new OptimisticLock(cache, "k");

        lck.Cas(2);
        Assert.That(lck.Cas(3, TimeSpan.FromMilliseconds(300)), Is.True);
        Assert.That(cache.Get<int>("k"), Is.EqualTo(3));
        await Task.Delay(600);
        Assert.That(cache.Exists("k"), Is.False);
    }

    // ---------------------------------------------------------------- Plugins

    private sealed class OrderPlugin(string name, ConcurrentQueue<string> log) : ICachePlugin
    {
        public Exception? ThrowInPre { get; set; }

        public ConcurrentQueue<CacheCommandContext> Posts { get; } = new();

        public void Pre(CacheCommandContext context)
        {
            log.Enqueue($"{name}.Pre {context.Command}");
            if (ThrowInPre is { } ex)
            {
                throw ex;
            }
        }

        public void Post(CacheCommandContext context)
        {
            log.Enqueue($"{name}.Post {context.Command}");
            Posts.Enqueue(context);
        }
    }

    [Test]
    public async Task Plugins_redis_order_of_several_plugins_on_async_commands()
    {
        var log = new ConcurrentQueue<string>();
        using var cache = Process("olr-p", new OrderPlugin("A", log), new OrderPlugin("B", log));

        await cache.SetAsync("k", 1);
        await cache.MultiGetAsync<int>(["k", "x"]);
        await cache.IncrementAsync("n");
        await cache.ExpireAsync("k", TimeSpan.FromSeconds(5));

        Assert.That(log, Is.EqualTo(new[]
        {
            "A.Pre Set", "B.Pre Set", "A.Post Set", "B.Post Set",
            "A.Pre MultiGet", "B.Pre MultiGet", "A.Post MultiGet", "B.Post MultiGet",
            "A.Pre Increment", "B.Pre Increment", "A.Post Increment", "B.Post Increment",
            "A.Pre Expire", "B.Pre Expire", "A.Post Expire", "B.Post Expire",
        }));
    }

    [Test]
    public async Task Plugins_redis_a_throwing_pre_hook_keeps_the_command_from_the_server()
    {
        var log = new ConcurrentQueue<string>();
        var thrower = new OrderPlugin("A", log) { ThrowInPre = new InvalidOperationException("refused") };
        using var cache = Process("olr-p", thrower);

        Assert.That(async () => await cache.SetAsync("k", 1), Throws.InstanceOf<InvalidOperationException>().With.Message.EqualTo("refused"));
        Assert.That(() => cache.MultiSet(new Dictionary<string, int> { ["m"] = 1 }), Throws.InstanceOf<InvalidOperationException>());
        thrower.ThrowInPre = null;

        Assert.Multiple(async () =>
        {
            Assert.That(await cache.ExistsAsync("k"), Is.False);
            Assert.That(await cache.ExistsAsync("m"), Is.False);
        });
    }

    [Test]
    public async Task Plugins_redis_post_hooks_see_results_and_hits()
    {
        var log = new ConcurrentQueue<string>();
        var plugin = new OrderPlugin("A", log);
        using var cache = Process("olr-p", plugin);

        await cache.SetAsync("a", 1);
        await cache.MultiGetAsync<int?>(["a", "b", "a"]);
        await cache.IncrementAsync("n", 5);
        await cache.GetAsync("absent", @default: 9);

        var posts = plugin.Posts.ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(posts[1].Hits, Is.EqualTo(2));
            Assert.That(posts[1].Result, Is.EqualTo(new int?[] { 1, null, 1 }));
            Assert.That(posts[2].Result, Is.EqualTo(5L));
            Assert.That(posts[3].Result, Is.EqualTo(9));
            Assert.That(posts[3].Hits, Is.EqualTo(0));
        });
    }

    [Test]
    public async Task HitMissRatio_redis_stored_null_is_a_hit_and_a_default_is_a_miss()
    {
        var ratio = new HitMissRatioPlugin();
        using var cache = Process("olr-p", ratio);
        await cache.SetAsync<string?>("null", null);
        await cache.SetAsync("v", "x");

        await cache.GetAsync<string>("null");
        cache.Get<string>("v");
        await cache.GetAsync("absent", @default: "d");
        await cache.MultiGetAsync<string>(["null", "v", "absent"]);

        Assert.Multiple(() =>
        {
            Assert.That(ratio.Hits, Is.EqualTo(4L));
            Assert.That(ratio.Total, Is.EqualTo(6L));
        });
    }

    [Test]
    public async Task TimingPlugin_redis_counts_each_command()
    {
        var timing = new TimingPlugin();
        using var cache = Process("olr-p", timing);

        await cache.SetAsync("a", 1);
        cache.Set("b", 2);
        await cache.GetAsync<int>("a");
        await cache.RawAsync("DBSIZE");

        Assert.Multiple(() =>
        {
            Assert.That(timing[CacheCommand.Set].Count, Is.EqualTo(2));
            Assert.That(timing[CacheCommand.Get].Count, Is.EqualTo(1));
            Assert.That(timing[CacheCommand.Raw].Count, Is.EqualTo(1));
            Assert.That(timing[CacheCommand.Set].Min, Is.GreaterThan(TimeSpan.Zero));
            Assert.That(timing[CacheCommand.Set].Max, Is.GreaterThanOrEqualTo(timing[CacheCommand.Set].Min));
        });
    }

    // ---------------------------------------------------------------- IDistributedCache

    [Test]
    public async Task Distributed_redis_absolute_expiration_ends_the_entry()
    {
        using var cache = Process("olr-d");
        var distributed = cache.AsDistributedCache();

        await distributed.SetAsync("rel", [1], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMilliseconds(400) });
        await distributed.SetAsync("abs", [2], new DistributedCacheEntryOptions { AbsoluteExpiration = DateTimeOffset.UtcNow.AddMilliseconds(400) });
        Assert.Multiple(async () =>
        {
            Assert.That(await distributed.GetAsync("rel"), Is.EqualTo(new byte[] { 1 }));
            Assert.That(await distributed.GetAsync("abs"), Is.EqualTo(new byte[] { 2 }));
        });
        await Task.Delay(700);
        Assert.Multiple(async () =>
        {
            Assert.That(await distributed.GetAsync("rel"), Is.Null);
            Assert.That(await distributed.GetAsync("abs"), Is.Null);
            Assert.That(await cache.ExistsAsync("rel"), Is.False, "the store lets the entry go too");
        });
    }

    [Test]
    public async Task Distributed_redis_sliding_expiration_is_renewed_by_Get_and_Refresh()
    {
        using var cache = Process("olr-d");
        var distributed = cache.AsDistributedCache();
        // Redis keeps real time: a 2 s window renewed every 0.7 s leaves 1.3 s for a slow machine at each step (a 0.6 s
        // window renewed every 0.4 s failed once in CI).
        await distributed.SetAsync("k", [7], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromSeconds(2) });

        await Task.Delay(700);
        Assert.That(await distributed.GetAsync("k"), Is.Not.Null);
        await Task.Delay(700);
        await distributed.RefreshAsync("k");
        await Task.Delay(700);
        distributed.Refresh("k");
        await Task.Delay(700);
        Assert.That(distributed.Get("k"), Is.EqualTo(new byte[] { 7 }), "2.8 s after the write, 0.7 s after the last refresh");
        await Task.Delay(2600);
        Assert.That(await distributed.GetAsync("k"), Is.Null);
    }

    [Test]
    public async Task Distributed_redis_bytes_round_trip_including_the_empty_array_and_remove()
    {
        using var cache = Process("olr-d");
        var distributed = cache.AsDistributedCache("sess");
        var bytes = Enumerable.Range(0, 256).Select(static i => (byte)i).ToArray();

        distributed.Set("empty", [], new DistributedCacheEntryOptions());
        await distributed.SetAsync("all", bytes, new DistributedCacheEntryOptions());

        Assert.Multiple(async () =>
        {
            Assert.That(await distributed.GetAsync("empty"), Is.Not.Null.And.Empty);
            Assert.That(distributed.Get("all"), Is.EqualTo(bytes));
        });
        await distributed.RemoveAsync("all");
        distributed.Remove("empty");
        Assert.Multiple(async () =>
        {
            Assert.That(await distributed.GetAsync("all"), Is.Null);
            Assert.That(distributed.Get("empty"), Is.Null);
        });
    }

    [Test]
    public async Task Distributed_redis_async_methods_honour_a_cancelled_token()
    {
        using var cache = Process("olr-d");
        var distributed = cache.AsDistributedCache();
        await distributed.SetAsync("k", [1], new DistributedCacheEntryOptions());
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.Multiple(() =>
        {
            Assert.That(async () => await distributed.GetAsync("k", cts.Token), Throws.InstanceOf<OperationCanceledException>());
            Assert.That(async () => await distributed.SetAsync("n", [1], new DistributedCacheEntryOptions(), cts.Token), Throws.InstanceOf<OperationCanceledException>());
            Assert.That(async () => await distributed.RefreshAsync("k", cts.Token), Throws.InstanceOf<OperationCanceledException>());
            Assert.That(async () => await distributed.RemoveAsync("k", cts.Token), Throws.InstanceOf<OperationCanceledException>());
        });
        Assert.Multiple(async () =>
        {
            Assert.That(await distributed.GetAsync("n"), Is.Null);
            Assert.That(await distributed.GetAsync("k"), Is.Not.Null);
        });
    }

    // ---------------------------------------------------------------- HybridCache

    [Test]
    public async Task Hybrid_redis_GetOrCreateAsync_runs_the_factory_once_for_concurrent_callers()
    {
        using var cache = Process("olr-h");
        var hybrid = cache.AsHybridCache();
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;

        var tasks = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            return await hybrid.GetOrCreateAsync("k", async ct =>
            {
                Interlocked.Increment(ref calls);
                return await gate.Task;
            });
        })).ToArray();
        start.SetResult();
        await Task.Delay(150);
        gate.SetResult(11);
        var results = await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Multiple(() =>
        {
            Assert.That(calls, Is.EqualTo(1));
            Assert.That(results, Is.All.EqualTo(11));
        });
    }

    [Test]
    public async Task Hybrid_redis_RemoveByTagAsync_invalidates_for_another_process_too()
    {
        using var first = Process("olr-first");
        using var second = Process("olr-second");
        var one = first.AsHybridCache();
        var two = second.AsHybridCache();

        await one.SetAsync("a", 1, tags: ["t"]);
        await one.SetAsync("b", 2, tags: ["u"]);
        Assert.That(await two.GetOrCreateAsync("a", _ => ValueTask.FromResult(-1), tags: ["t"]), Is.EqualTo(1));

        await two.RemoveByTagAsync("t");

        Assert.Multiple(async () =>
        {
            Assert.That(await one.GetOrCreateAsync("a", _ => ValueTask.FromResult(-1), tags: ["t"]), Is.EqualTo(-1));
            Assert.That(await one.GetOrCreateAsync("b", _ => ValueTask.FromResult(-1), tags: ["u"]), Is.EqualTo(2));
        });
    }

    [Test]
    public async Task Hybrid_redis_DisableDistributedCacheWrite_stores_nothing_on_a_redis_alias()
    {
        using var cache = Process("olr-h");
        var hybrid = cache.AsHybridCache();

        await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult(1), new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableDistributedCacheWrite });

        Assert.That(await cache.ExistsAsync("k"), Is.False);
    }

    [Test]
    public async Task Hybrid_redis_DisableDistributedCacheRead_on_a_redis_alias_calls_the_factory()
    {
        using var cache = Process("olr-h");
        var hybrid = cache.AsHybridCache();
        await hybrid.SetAsync("k", 1);

        Assert.That(await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult(2), new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableDistributedCacheRead }), Is.EqualTo(2));
    }

    [Test]
    public async Task Hybrid_redis_flagged_call_with_a_cancelled_token_does_not_run_the_factory()
    {
        using var cache = Process("olr-h");
        var hybrid = cache.AsHybridCache();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var called = false;

        Assert.That(
            async () => await hybrid.GetOrCreateAsync("k", _ => { called = true; return ValueTask.FromResult(1); }, new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableDistributedCacheRead }, cancellationToken: cts.Token),
            Throws.InstanceOf<OperationCanceledException>());
        var stored = await cache.ExistsAsync("k");
        Assert.Multiple(() =>
        {
            Assert.That(called, Is.False, "docs: an already cancelled token comes back as a cancelled task; the unflagged path never calls the factory");
            Assert.That(stored, Is.False);
        });
    }

    [Test]
    public async Task OptimisticLock_redis_async_with_a_cancelled_token_is_cancelled_and_writes_nothing()
    {
        using var cache = Process("olr-a");
        cache.Set("k", 1);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await using var lck = await OptimisticLock.AcquireAsync(cache, "k");

        Assert.Multiple(() =>
        {
            Assert.That(async () => await OptimisticLock.AcquireAsync(cache, "k", cancellationToken: cts.Token), Throws.InstanceOf<OperationCanceledException>());
            Assert.That(async () => await lck.CasAsync(2, cancellationToken: cts.Token), Throws.InstanceOf<OperationCanceledException>());
        });
        Assert.That(cache.Get<int>("k"), Is.EqualTo(1));
        Assert.That(await lck.CasAsync(3), Is.True);
    }

    [Test]
    public async Task RedLock_two_level_nodes_over_one_redis_hold_the_lock_one_at_a_time()
    {
        using var nodeA = new MultiLevelCache(new SimpleMemoryCache(), Process("olr-node-a"));
        using var nodeB = new MultiLevelCache(new SimpleMemoryCache(), Process("olr-node-b"));
        var inside = 0;
        var maxInside = 0;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            await start.Task;
            await using var held = await RedLock.AcquireAsync(i % 2 == 0 ? nodeA : nodeB, "ml", TimeSpan.FromSeconds(20));
            var now = Interlocked.Increment(ref inside);
            int seen;
            while ((seen = Volatile.Read(ref maxInside)) < now && Interlocked.CompareExchange(ref maxInside, now, seen) != seen)
            {
            }

            await Task.Delay(3);
            Interlocked.Decrement(ref inside);
        })).ToArray();
        start.SetResult();
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.That(maxInside, Is.EqualTo(1));
    }

    [Test]
    public void OptimisticLock_two_level_nodes_over_one_redis_exactly_one_cas_wins()
    {
        using var nodeA = new MultiLevelCache(new SimpleMemoryCache(), Process("olr-node-a"));
        using var nodeB = new MultiLevelCache(new SimpleMemoryCache(), Process("olr-node-b"));
        nodeA.Set("k", 1);
        Assert.That(nodeB.Get<int>("k"), Is.EqualTo(1));
        using var a = new OptimisticLock(nodeA, "k");
        using var b = new OptimisticLock(nodeB, "k");

        Assert.That(a.Cas(2), Is.True);
        Assert.That(() => b.Cas(3), Throws.InstanceOf<OptimisticLockException>());
        Assert.Multiple(() =>
        {
            Assert.That(nodeB.L2.Get<int>("k"), Is.EqualTo(2));
            Assert.That(nodeA.Get<int>("k"), Is.EqualTo(2));
        });
    }
}
