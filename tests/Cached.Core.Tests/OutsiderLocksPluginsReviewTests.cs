using System.Collections.Concurrent;
using Cached.Distributed;
using Cached.Hybrid;
using Cached.Plugins;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests;

/// <summary>
/// An outsider's review of the locks (RedLock, OptimisticLock), the plugins (hooks, HitMissRatioPlugin, TimingPlugin)
/// and the Microsoft adapters (IDistributedCache, HybridCache) on the memory backend. Each test asserts the behaviour
/// the docs (or, where they are silent, aiocache) describe.
/// </summary>
[TestFixture]
public sealed class OutsiderLocksPluginsReviewTests
{
    private static readonly DateTimeOffset s_start = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static FakeTimeProvider NewClock() => new(s_start);

    // ---------------------------------------------------------------- RedLock

    [Test]
    public async Task RedLock_memory_many_contenders_hold_the_lock_one_at_a_time_and_each_gets_it()
    {
        using var cache = new SimpleMemoryCache();
        const int contenders = 12;
        var inside = 0;
        var maxInside = 0;
        var acquired = 0;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var tasks = Enumerable.Range(0, contenders).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            await using var held = await RedLock.AcquireAsync(cache, "race", TimeSpan.FromSeconds(20));
            if (held.IsAcquired)
            {
                Interlocked.Increment(ref acquired);
            }

            var now = Interlocked.Increment(ref inside);
            InterlockedMax(ref maxInside, now);
            await Task.Delay(2);
            Interlocked.Decrement(ref inside);
        })).ToArray();
        start.SetResult();

        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Multiple(() =>
        {
            Assert.That(maxInside, Is.EqualTo(1), "two callers were inside the lock at once");
            Assert.That(acquired, Is.EqualTo(contenders), "a waiter whose holder released within the lease takes the lock (docs)");
            Assert.That(cache.Exists("race-lock"), Is.False, "the last holder released the lock");
        });
    }

    [Test]
    public void RedLock_memory_sync_many_threads_hold_the_lock_one_at_a_time()
    {
        using var cache = new SimpleMemoryCache();
        const int contenders = 8;
        var inside = 0;
        var maxInside = 0;
        var acquired = 0;
        using var barrier = new Barrier(contenders);
        var threads = Enumerable.Range(0, contenders).Select(_ => new Thread(() =>
        {
            barrier.SignalAndWait();
            using var held = new RedLock(cache, "race-sync", TimeSpan.FromSeconds(20));
            if (held.IsAcquired)
            {
                Interlocked.Increment(ref acquired);
            }

            InterlockedMax(ref maxInside, Interlocked.Increment(ref inside));
            Thread.Sleep(2);
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

        Assert.Multiple(() =>
        {
            Assert.That(maxInside, Is.EqualTo(1));
            Assert.That(acquired, Is.EqualTo(contenders));
        });
    }

    [Test]
    public void RedLock_memory_lock_key_holds_a_token_with_the_lease_as_ttl_under_the_namespace()
    {
        var clock = NewClock();
        using var cache = new SimpleMemoryCache { TimeProvider = clock, Namespace = "ns" };
        using var held = new RedLock(cache, "k", TimeSpan.FromSeconds(10));

        Assert.Multiple(() =>
        {
            Assert.That(held.IsAcquired, Is.True);
            Assert.That(cache.Exists("k-lock"), Is.True, "aiocache: the lock lives under build_key(key + \"-lock\")");
            Assert.That(cache.Exists("k"), Is.False);
        });

        clock.Advance(TimeSpan.FromSeconds(11));
        Assert.That(cache.Exists("k-lock"), Is.False, "the lock's time to live is the lease");
    }

    [Test]
    public void RedLock_memory_after_the_lease_expired_another_caller_takes_the_lock_at_once()
    {
        var clock = NewClock();
        using var cache = new SimpleMemoryCache { TimeProvider = clock };
        using var first = new RedLock(cache, "k", TimeSpan.FromSeconds(5));
        clock.Advance(TimeSpan.FromSeconds(6));

        using var second = new RedLock(cache, "k", TimeSpan.FromSeconds(5));

        Assert.Multiple(() =>
        {
            Assert.That(first.IsAcquired, Is.True);
            Assert.That(second.IsAcquired, Is.True);
        });
    }

    [Test]
    public void RedLock_memory_release_of_an_expired_lock_leaves_the_new_owners_lock()
    {
        var clock = NewClock();
        using var cache = new SimpleMemoryCache { TimeProvider = clock };
        var first = new RedLock(cache, "k", TimeSpan.FromSeconds(5));
        clock.Advance(TimeSpan.FromSeconds(6));
        var second = new RedLock(cache, "k", TimeSpan.FromSeconds(30));
        Assert.That(second.IsAcquired, Is.True);

        first.Dispose();

        Assert.That(cache.Exists("k-lock"), Is.True, "the first owner's release must not delete the second owner's lock");
        second.Dispose();
        Assert.That(cache.Exists("k-lock"), Is.False);
    }

    [Test]
    public async Task RedLock_memory_async_release_of_an_expired_lock_leaves_the_new_owners_lock()
    {
        var clock = NewClock();
        using var cache = new SimpleMemoryCache { TimeProvider = clock };
        var first = await RedLock.AcquireAsync(cache, "k", TimeSpan.FromSeconds(5));
        clock.Advance(TimeSpan.FromSeconds(6));
        var second = await RedLock.AcquireAsync(cache, "k", TimeSpan.FromSeconds(30));
        Assert.That(second.IsAcquired, Is.True);

        await first.DisposeAsync();

        Assert.That(cache.Exists("k-lock"), Is.True);
        await second.DisposeAsync();
        Assert.That(cache.Exists("k-lock"), Is.False);
    }

    [Test]
    public async Task RedLock_memory_a_waiter_takes_the_lock_as_soon_as_the_holder_releases()
    {
        using var cache = new SimpleMemoryCache();
        var holder = await RedLock.AcquireAsync(cache, "k", TimeSpan.FromSeconds(30));
        var waiting = RedLock.AcquireAsync(cache, "k", TimeSpan.FromSeconds(30)).AsTask();
        await Task.Delay(50);
        Assert.That(waiting.IsCompleted, Is.False, "the waiter must wait while the lock is held");

        await holder.DisposeAsync();
        var waiter = await waiting.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Multiple(() =>
        {
            Assert.That(waiter.IsAcquired, Is.True);
            Assert.That(cache.Exists("k-lock"), Is.True);
        });
        await waiter.DisposeAsync();
    }

    [Test]
    public async Task RedLock_memory_cancelling_a_waiter_throws_and_leaves_the_holders_lock()
    {
        using var cache = new SimpleMemoryCache();
        var holder = await RedLock.AcquireAsync(cache, "k", TimeSpan.FromSeconds(30));
        using var cts = new CancellationTokenSource();
        var waiting = RedLock.AcquireAsync(cache, "k", TimeSpan.FromSeconds(30), cancellationToken: cts.Token).AsTask();
        await Task.Delay(30);
        cts.Cancel();

        Assert.That(async () => await waiting.WaitAsync(TimeSpan.FromSeconds(10)), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(cache.Exists("k-lock"), Is.True);
        await holder.DisposeAsync();
        Assert.That(cache.Exists("k-lock"), Is.False);
    }

    [Test]
    public void RedLock_memory_an_already_cancelled_token_is_refused_and_takes_no_lock()
    {
        using var cache = new SimpleMemoryCache();
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.That(async () => await RedLock.AcquireAsync(cache, "k", TimeSpan.FromSeconds(30), cancellationToken: cts.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(cache.Exists("k-lock"), Is.False, "a cancelled acquire must not leave a lock nobody will release");
    }

    [Test]
    public void RedLock_refuses_a_non_positive_lease_and_an_empty_key()
    {
        using var cache = new SimpleMemoryCache();
        Assert.Multiple(() =>
        {
            Assert.That(() => new RedLock(cache, "k", TimeSpan.Zero), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => new RedLock(cache, "", TimeSpan.FromSeconds(1)), Throws.InstanceOf<ArgumentException>());
        });
    }

    // ---------------------------------------------------------------- OptimisticLock

    [Test]
    public async Task OptimisticLock_memory_concurrent_cas_on_one_version_exactly_one_wins()
    {
        using var cache = new SimpleMemoryCache();
        cache.Set("counter", 0);
        const int contenders = 16;
        var locks = new OptimisticLock[contenders];
        for (var i = 0; i < contenders; i++)
        {
            locks[i] = new OptimisticLock(cache, "counter");
        }

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

        await Task.CompletedTask;

        Assert.Multiple(() =>
        {
            Assert.That(wins, Has.Count.EqualTo(1));
            Assert.That(conflicts, Is.EqualTo(contenders - 1));
            Assert.That(cache.Get<int>("counter"), Is.EqualTo(100 + wins.Single()));
        });
    }

    [Test]
    public void OptimisticLock_memory_cas_after_a_concurrent_set_throws_and_writes_nothing()
    {
        using var cache = new SimpleMemoryCache();
        cache.Set("k", 1);
        using var lck = new OptimisticLock(cache, "k");
        cache.Set("k", 2);

        Assert.That(() => lck.Cas(3), Throws.InstanceOf<OptimisticLockException>());
        Assert.That(cache.Get<int>("k"), Is.EqualTo(2));
    }

    [Test]
    public void OptimisticLock_memory_cas_after_the_key_was_deleted_throws_and_does_not_recreate_it()
    {
        using var cache = new SimpleMemoryCache();
        cache.Set("k", 1);
        using var lck = new OptimisticLock(cache, "k");
        cache.Delete("k");

        // aiocache: the token is the value read at lock time; the CAS compares it with GET, which is now nil.
        Assert.That(() => lck.Cas(3), Throws.InstanceOf<OptimisticLockException>());
        Assert.That(cache.Exists("k"), Is.False);
    }

    [Test]
    public void OptimisticLock_memory_cas_after_the_key_expired_throws()
    {
        var clock = NewClock();
        using var cache = new SimpleMemoryCache { TimeProvider = clock };
        cache.Set("k", 1, TimeSpan.FromSeconds(5));
        using var lck = new OptimisticLock(cache, "k");
        clock.Advance(TimeSpan.FromSeconds(6));

        Assert.That(() => lck.Cas(3), Throws.InstanceOf<OptimisticLockException>());
        Assert.That(cache.Exists("k"), Is.False);
    }

    [Test]
    public void OptimisticLock_memory_on_a_missing_key_cas_writes_when_still_missing()
    {
        using var cache = new SimpleMemoryCache();
        using var lck = new OptimisticLock(cache, "k");

        Assert.That(lck.Cas(7), Is.True);
        Assert.That(cache.Get<int>("k"), Is.EqualTo(7));
    }

    [Test]
    public void OptimisticLock_memory_on_a_missing_key_cas_fails_when_someone_created_it()
    {
        using var cache = new SimpleMemoryCache();
        using var lck = new OptimisticLock(cache, "k");
        cache.Set("k", 1);

        Assert.That(() => lck.Cas(7), Throws.InstanceOf<OptimisticLockException>());
        Assert.That(cache.Get<int>("k"), Is.EqualTo(1));
    }

    [Test]
    public void OptimisticLock_memory_a_second_cas_of_the_same_lock_succeeds()
    {
        using var cache = new SimpleMemoryCache();
        cache.Set("k", 1);
        using var lck = new OptimisticLock(cache, "k");

        lck.Cas(2);
        Assert.That(lck.Cas(3), Is.True);
        Assert.That(cache.Get<int>("k"), Is.EqualTo(3));
    }

    [Test]
    public async Task OptimisticLock_memory_cas_with_a_ttl_expires()
    {
        var clock = NewClock();
        using var cache = new SimpleMemoryCache { TimeProvider = clock };
        cache.Set("k", 1);
        await using var lck = await OptimisticLock.AcquireAsync(cache, "k");

        await lck.CasAsync(2, TimeSpan.FromSeconds(5));
        Assert.That(cache.Get<int>("k"), Is.EqualTo(2));
        clock.Advance(TimeSpan.FromSeconds(6));
        Assert.That(cache.Exists("k"), Is.False);
    }

    [Test]
    public void OptimisticLock_memory_in_a_namespace_guards_the_namespaced_key()
    {
        using var cache = new SimpleMemoryCache();
        cache.Set("k", 1, @namespace: "a");
        cache.Set("k", 1, @namespace: "b");
        using var lck = new OptimisticLock(cache, "k", "a");
        cache.Set("k", 2, @namespace: "b");

        Assert.That(lck.Cas(5), Is.True, "a write in another namespace is another key");
        Assert.Multiple(() =>
        {
            Assert.That(cache.Get<int>("k", @namespace: "a"), Is.EqualTo(5));
            Assert.That(cache.Get<int>("k", @namespace: "b"), Is.EqualTo(2));
        });
    }

    // ---------------------------------------------------------------- Plugins

    private sealed class RecordingPlugin(string name, List<string> log, FakeTimeProvider? clock = null, TimeSpan advance = default) : ICachePlugin
    {
        public List<CacheCommandContext> Posts { get; } = [];

        public Exception? ThrowInPre { get; set; }

        public Exception? ThrowInPost { get; set; }

        public void Pre(CacheCommandContext context)
        {
            lock (log)
            {
                log.Add($"{name}.Pre {context.Command}");
            }

            if (advance > TimeSpan.Zero)
            {
                clock!.Advance(advance);
            }

            if (ThrowInPre is { } ex)
            {
                throw ex;
            }
        }

        public void Post(CacheCommandContext context)
        {
            lock (log)
            {
                log.Add($"{name}.Post {context.Command}");
                Posts.Add(context);
            }

            if (ThrowInPost is { } ex)
            {
                throw ex;
            }
        }
    }

    private static IEnumerable<TestCaseData> EveryCommand()
    {
        static TestCaseData Case(CacheCommand command, string name, Func<ICache, Task> run) => new TestCaseData(command, run).SetArgDisplayNames(name);
        yield return Case(CacheCommand.Add, "Add", c => { c.Add("new", 1); return Task.CompletedTask; });
        yield return Case(CacheCommand.Get, "Get", c => { c.Get<int>("existing"); return Task.CompletedTask; });
        yield return Case(CacheCommand.Get, "TryGet", c => { c.TryGet<int>("existing", out _); return Task.CompletedTask; });
        yield return Case(CacheCommand.MultiGet, "MultiGet", c => { c.MultiGet<int>(["existing", "absent"]); return Task.CompletedTask; });
        yield return Case(CacheCommand.Set, "Set", c => { c.Set("existing", 2); return Task.CompletedTask; });
        yield return Case(CacheCommand.MultiSet, "MultiSet", c => { c.MultiSet(new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 }); return Task.CompletedTask; });
        yield return Case(CacheCommand.Exists, "Exists", c => { c.Exists("existing"); return Task.CompletedTask; });
        yield return Case(CacheCommand.Increment, "Increment", c => { c.Increment("counter", 3); return Task.CompletedTask; });
        yield return Case(CacheCommand.Delete, "Delete", c => { c.Delete("existing"); return Task.CompletedTask; });
        yield return Case(CacheCommand.Clear, "Clear", c => { c.Clear(); return Task.CompletedTask; });
        yield return Case(CacheCommand.Expire, "Expire", c => { c.Expire("existing", TimeSpan.FromSeconds(9)); return Task.CompletedTask; });
        yield return Case(CacheCommand.Raw, "Raw", c => { c.Raw("count"); return Task.CompletedTask; });
        yield return Case(CacheCommand.Add, "AddAsync", async c => await c.AddAsync("new", 1));
        yield return Case(CacheCommand.Get, "GetAsync", async c => await c.GetAsync<int>("existing"));
        yield return Case(CacheCommand.Get, "TryGetAsync", async c => await c.TryGetAsync<int>("existing"));
        yield return Case(CacheCommand.MultiGet, "MultiGetAsync", async c => await c.MultiGetAsync<int>(["existing", "absent"]));
        yield return Case(CacheCommand.Set, "SetAsync", async c => await c.SetAsync("existing", 2));
        yield return Case(CacheCommand.MultiSet, "MultiSetAsync", async c => await c.MultiSetAsync(new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 }));
        yield return Case(CacheCommand.Exists, "ExistsAsync", async c => await c.ExistsAsync("existing"));
        yield return Case(CacheCommand.Increment, "IncrementAsync", async c => await c.IncrementAsync("counter", 3));
        yield return Case(CacheCommand.Delete, "DeleteAsync", async c => await c.DeleteAsync("existing"));
        yield return Case(CacheCommand.Clear, "ClearAsync", async c => await c.ClearAsync());
        yield return Case(CacheCommand.Expire, "ExpireAsync", async c => await c.ExpireAsync("existing", TimeSpan.FromSeconds(9)));
        yield return Case(CacheCommand.Raw, "RawAsync", async c => await c.RawAsync("count"));
    }

    [TestCaseSource(nameof(EveryCommand))]
    public async Task Plugins_every_command_runs_all_pre_hooks_in_order_then_all_post_hooks_in_order(CacheCommand command, Func<ICache, Task> run)
    {
        var log = new List<string>();
        using var cache = new SimpleMemoryCache { Plugins = [new RecordingPlugin("A", log), new RecordingPlugin("B", log), new RecordingPlugin("C", log)] };
        cache.Set("existing", 1);
        cache.Set("counter", 5L);
        log.Clear();

        await run(cache);

        Assert.That(log, Is.EqualTo(new[]
        {
            $"A.Pre {command}", $"B.Pre {command}", $"C.Pre {command}",
            $"A.Post {command}", $"B.Post {command}", $"C.Post {command}",
        }));
    }

    [Test]
    public void Plugins_post_hook_sees_each_commands_result()
    {
        var log = new List<string>();
        var plugin = new RecordingPlugin("A", log);
        using var cache = new SimpleMemoryCache { Plugins = [plugin] };

        cache.Set("k", 5);
        cache.Get<int>("k");
        cache.Get("absent", @default: 42);
        cache.Exists("k");
        cache.Increment("n", 4);
        cache.Expire("k", TimeSpan.FromSeconds(10));
        cache.Expire("absent", TimeSpan.FromSeconds(10));
        cache.Delete("k");
        cache.Add("a", 1);

        var posts = plugin.Posts;
        Assert.Multiple(() =>
        {
            Assert.That(posts[0].Result, Is.EqualTo(true), "Set");
            Assert.That(posts[1].Result, Is.EqualTo(5), "Get hit");
            Assert.That((posts[1].Hits, posts[1].Key), Is.EqualTo((1, "k")));
            Assert.That(posts[2].Result, Is.EqualTo(42), "Get miss: the value returned, after the default (aiocache's ret)");
            Assert.That(posts[2].Hits, Is.EqualTo(0));
            Assert.That(posts[3].Result, Is.EqualTo(true), "Exists");
            Assert.That(posts[4].Result, Is.EqualTo(4L), "Increment returns the new value");
            Assert.That(posts[4].Value, Is.EqualTo(4L), "Increment's value is the delta");
            Assert.That(posts[5].Result, Is.EqualTo(true), "Expire of a present key");
            Assert.That(posts[5].Ttl, Is.EqualTo(TimeSpan.FromSeconds(10)), "Expire's ttl");
            Assert.That(posts[6].Result, Is.EqualTo(false), "Expire of a missing key");
            Assert.That(posts[7].Result, Is.EqualTo(1), "Delete's count");
            Assert.That(posts[8].Result, Is.EqualTo(true), "Add");
        });
    }

    [Test]
    public void Plugins_post_hook_of_MultiGet_sees_the_list_the_keys_and_the_hits()
    {
        var log = new List<string>();
        var plugin = new RecordingPlugin("A", log);
        using var cache = new SimpleMemoryCache { Plugins = [plugin] };
        cache.Set("a", 1);
        cache.Set("c", 3);
        plugin.Posts.Clear();

        cache.MultiGet<int?>(["a", "b", "c"]);

        var post = plugin.Posts.Single();
        Assert.Multiple(() =>
        {
            Assert.That(post.Keys, Is.EqualTo(new[] { "a", "b", "c" }));
            Assert.That(post.Hits, Is.EqualTo(2));
            Assert.That(post.Result, Is.EqualTo(new int?[] { 1, null, 3 }));
        });
    }

    [Test]
    public void Plugins_Elapsed_runs_from_before_the_pre_hooks_and_not_over_earlier_post_hooks()
    {
        var clock = NewClock();
        var log = new List<string>();
        var slowPre = new RecordingPlugin("slow", log, clock, TimeSpan.FromSeconds(3));
        var recorder = new RecordingPlugin("rec", log);
        using var cache = new SimpleMemoryCache { TimeProvider = clock, Plugins = [slowPre, recorder] };

        cache.Set("k", 1);

        Assert.That(recorder.Posts.Single().Elapsed, Is.EqualTo(TimeSpan.FromSeconds(3)), "aiocache's took covers the pre hooks");
    }

    [Test]
    public void Plugins_a_pre_hook_that_throws_stops_the_command_and_the_later_hooks_and_reaches_the_caller_as_it_is()
    {
        var log = new List<string>();
        var thrower = new RecordingPlugin("A", log) { ThrowInPre = new InvalidOperationException("refused") };
        var later = new RecordingPlugin("B", log);
        using var cache = new SimpleMemoryCache { Plugins = [thrower, later] };

        var thrown = Assert.Throws<InvalidOperationException>(() => cache.Set("k", 1));
        var seen = log.ToArray();
        thrower.ThrowInPre = null;

        Assert.Multiple(() =>
        {
            Assert.That(thrown!.Message, Is.EqualTo("refused"));
            Assert.That(seen, Is.EqualTo(new[] { "A.Pre Set" }));
            Assert.That(cache.Exists("k"), Is.False, "the command is not sent");
        });
    }

    [Test]
    public async Task Plugins_a_pre_hook_that_throws_on_an_async_command_comes_back_in_the_task_and_nothing_is_written()
    {
        var log = new List<string>();
        var thrower = new RecordingPlugin("A", log) { ThrowInPre = new InvalidOperationException("refused") };
        using var cache = new SimpleMemoryCache { Plugins = [thrower] };

        ValueTask<bool> pending = default;
        Assert.DoesNotThrow(() => pending = cache.SetAsync("k", 1), "an async method reports its failure in the task");
        Assert.That(async () => await pending, Throws.InstanceOf<InvalidOperationException>().With.Message.EqualTo("refused"));
        thrower.ThrowInPre = null;
        Assert.That(await cache.ExistsAsync("k"), Is.False);
    }

    [Test]
    public void Plugins_a_post_hook_that_throws_leaves_the_write_made_and_stops_the_later_post_hooks()
    {
        var log = new List<string>();
        var thrower = new RecordingPlugin("A", log) { ThrowInPost = new InvalidOperationException("post") };
        var later = new RecordingPlugin("B", log);
        using var cache = new SimpleMemoryCache { Plugins = [thrower, later] };

        Assert.That(() => cache.Set("k", 1), Throws.InstanceOf<InvalidOperationException>().With.Message.EqualTo("post"));
        var seen = log.ToArray();
        thrower.ThrowInPost = null;
        Assert.Multiple(() =>
        {
            Assert.That(seen, Is.EqualTo(new[] { "A.Pre Set", "B.Pre Set", "A.Post Set" }));
            Assert.That(cache.Get<int>("k"), Is.EqualTo(1));
        });
    }

    [Test]
    public void Plugins_a_command_that_fails_runs_no_post_hook()
    {
        var log = new List<string>();
        using var cache = new SimpleMemoryCache { Plugins = [new RecordingPlugin("A", log)] };
        cache.Set("text", "not a number");
        log.Clear();

        Assert.That(() => cache.Increment("text"), Throws.InstanceOf<CacheValueNotIntegerException>());
        Assert.That(log, Is.EqualTo(new[] { "A.Pre Increment" }));
    }

    [Test]
    public void HitMissRatio_get_counts_as_the_aiocache_inventory_says_except_the_documented_default_and_null()
    {
        var ratio = new HitMissRatioPlugin();
        using var cache = new SimpleMemoryCache { Plugins = [ratio] };

        cache.Get<string>("absent");
        Assert.That((ratio.Hits, ratio.Total, ratio.HitRatio), Is.EqualTo((0L, 1L, 0.0)));

        cache.Set("k", "value");
        cache.Get<string>("k");
        Assert.That((ratio.Hits, ratio.Total, ratio.HitRatio), Is.EqualTo((1L, 2L, 0.5)));

        cache.Get("absent", @default: "x");        // documented: a miss (aiocache: a hit)
        cache.Set<string?>("null", null);
        cache.Get<string>("null");                  // documented: a hit
        cache.TryGet<string>("k", out _);           // TryGet counts as Get
        Assert.Multiple(() =>
        {
            Assert.That(ratio.Hits, Is.EqualTo(3L));
            Assert.That(ratio.Total, Is.EqualTo(5L));
            Assert.That(ratio.Misses, Is.EqualTo(2L));
        });
    }

    [Test]
    public async Task HitMissRatio_multi_get_counts_each_key_as_the_aiocache_inventory_says()
    {
        var ratio = new HitMissRatioPlugin();
        using var cache = new SimpleMemoryCache { Plugins = [ratio] };

        cache.MultiGet<string>(["a", "b"]);
        Assert.That((ratio.Hits, ratio.Total), Is.EqualTo((0L, 2L)));

        cache.MultiSet(new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" });
        await cache.MultiGetAsync<string>(["a", "b"]);
        Assert.That((ratio.Hits, ratio.Total, ratio.HitRatio), Is.EqualTo((2L, 4L, 0.5)));
    }

    [Test]
    public void HitMissRatio_multi_get_with_a_repeated_key_counts_every_position()
    {
        var ratio = new HitMissRatioPlugin();
        using var cache = new SimpleMemoryCache { Plugins = [ratio] };
        cache.Set("a", 1);

        var values = cache.MultiGet<int?>(["a", "a", "x", "a"]);

        Assert.Multiple(() =>
        {
            Assert.That(values, Is.EqualTo(new int?[] { 1, 1, null, 1 }));
            Assert.That((ratio.Hits, ratio.Total), Is.EqualTo((3L, 4L)), "aiocache: total += len(keys), hits += non-None items");
        });
    }

    [Test]
    public void HitMissRatio_counts_keys_of_a_namespaced_multi_get()
    {
        var ratio = new HitMissRatioPlugin();
        using var cache = new SimpleMemoryCache { Namespace = "n", Plugins = [ratio] };
        cache.Set("a", 1, @namespace: "other");
        cache.Set("b", 1);

        cache.MultiGet<int?>(["a", "b"], @namespace: "other");
        cache.Get<int?>("b");

        Assert.That((ratio.Hits, ratio.Total), Is.EqualTo((2L, 3L)));
    }

    [Test]
    public void TimingPlugin_keeps_count_total_min_max_and_average_per_command()
    {
        var clock = NewClock();
        var timing = new TimingPlugin();
        var stepping = new SteppingPlugin(clock);
        using var cache = new SimpleMemoryCache { TimeProvider = clock, Plugins = [stepping, timing] };

        stepping.Step = TimeSpan.FromSeconds(1);
        cache.Get<int>("k");
        stepping.Step = TimeSpan.FromSeconds(2);
        cache.Get<int>("k");
        stepping.Step = TimeSpan.FromSeconds(4);
        cache.Set("k", 1);

        var gets = timing[CacheCommand.Get];
        var sets = timing[CacheCommand.Set];
        Assert.Multiple(() =>
        {
            Assert.That(gets.Count, Is.EqualTo(2));
            Assert.That(gets.Total, Is.EqualTo(TimeSpan.FromSeconds(3)));
            Assert.That(gets.Min, Is.EqualTo(TimeSpan.FromSeconds(1)));
            Assert.That(gets.Max, Is.EqualTo(TimeSpan.FromSeconds(2)));
            Assert.That(gets.Average, Is.EqualTo(TimeSpan.FromSeconds(1.5)));
            Assert.That((sets.Count, sets.Min, sets.Max), Is.EqualTo((1L, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(4))));
            Assert.That(timing[CacheCommand.Delete], Is.EqualTo(default(CommandTiming)));
        });
    }

    [Test]
    public void TimingPlugin_measures_multi_get_multi_set_and_raw_too()
    {
        var timing = new TimingPlugin();
        using var cache = new SimpleMemoryCache { Plugins = [timing] };

        cache.MultiSet(new Dictionary<string, int> { ["a"] = 1 });
        cache.MultiGet<int>(["a"]);
        cache.Raw("count");
        cache.Clear();

        Assert.That(
            new[] { timing[CacheCommand.MultiSet].Count, timing[CacheCommand.MultiGet].Count, timing[CacheCommand.Raw].Count, timing[CacheCommand.Clear].Count },
            Is.EqualTo(new long[] { 1, 1, 1, 1 }));
    }

    private sealed class SteppingPlugin(FakeTimeProvider clock) : ICachePlugin
    {
        public TimeSpan Step { get; set; }

        public void Pre(CacheCommandContext context) => clock.Advance(Step);

        public void Post(CacheCommandContext context)
        {
        }
    }

    // ---------------------------------------------------------------- IDistributedCache

    [Test]
    public async Task Distributed_absolute_expiration_relative_to_now_ends_the_entry()
    {
        var clock = NewClock();
        using var cache = new SimpleMemoryCache { TimeProvider = clock };
        var distributed = cache.AsDistributedCache();

        await distributed.SetAsync("k", [1, 2], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(10) });
        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.That(await distributed.GetAsync("k"), Is.EqualTo(new byte[] { 1, 2 }));
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.That(await distributed.GetAsync("k"), Is.Null);
    }

    [Test]
    public void Distributed_absolute_expiration_as_a_date_ends_the_entry()
    {
        var clock = NewClock();
        using var cache = new SimpleMemoryCache { TimeProvider = clock };
        var distributed = cache.AsDistributedCache();

        distributed.Set("k", [3], new DistributedCacheEntryOptions { AbsoluteExpiration = s_start.AddSeconds(10) });
        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.That(distributed.Get("k"), Is.EqualTo(new byte[] { 3 }));
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.That(distributed.Get("k"), Is.Null);
    }

    [Test]
    public void Distributed_an_absolute_expiration_in_the_past_is_refused_as_by_Microsofts_providers()
    {
        var clock = NewClock();
        using var cache = new SimpleMemoryCache { TimeProvider = clock };
        var distributed = cache.AsDistributedCache();

        Assert.That(
            () => distributed.Set("k", [3], new DistributedCacheEntryOptions { AbsoluteExpiration = s_start.AddSeconds(-1) }),
            Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(distributed.Get("k"), Is.Null);
    }

    [Test]
    public async Task Distributed_sliding_expiration_is_renewed_by_Get_and_GetAsync()
    {
        var clock = NewClock();
        using var cache = new SimpleMemoryCache { TimeProvider = clock };
        var distributed = cache.AsDistributedCache();
        distributed.Set("k", [9], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromSeconds(10) });

        clock.Advance(TimeSpan.FromSeconds(8));
        Assert.That(distributed.Get("k"), Is.Not.Null);
        clock.Advance(TimeSpan.FromSeconds(8));
        Assert.That(await distributed.GetAsync("k"), Is.Not.Null, "16 s after the write, 8 s after the read");
        clock.Advance(TimeSpan.FromSeconds(8));
        Assert.That(distributed.Get("k"), Is.Not.Null);
        clock.Advance(TimeSpan.FromSeconds(11));
        Assert.That(distributed.Get("k"), Is.Null);
    }

    [Test]
    public async Task Distributed_sliding_expiration_is_renewed_by_Refresh_and_RefreshAsync()
    {
        var clock = NewClock();
        using var cache = new SimpleMemoryCache { TimeProvider = clock };
        var distributed = cache.AsDistributedCache();
        distributed.Set("k", [9], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromSeconds(10) });

        clock.Advance(TimeSpan.FromSeconds(8));
        distributed.Refresh("k");
        clock.Advance(TimeSpan.FromSeconds(8));
        await distributed.RefreshAsync("k");
        clock.Advance(TimeSpan.FromSeconds(8));
        Assert.That(distributed.Get("k"), Is.EqualTo(new byte[] { 9 }));
    }

    [Test]
    public void Distributed_sliding_never_extends_past_the_absolute_expiration()
    {
        var clock = NewClock();
        using var cache = new SimpleMemoryCache { TimeProvider = clock };
        var distributed = cache.AsDistributedCache();
        distributed.Set("k", [9], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromSeconds(10), AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(15) });

        clock.Advance(TimeSpan.FromSeconds(8));
        Assert.That(distributed.Get("k"), Is.Not.Null);
        clock.Advance(TimeSpan.FromSeconds(6));
        Assert.That(distributed.Get("k"), Is.Not.Null);
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.That(distributed.Get("k"), Is.Null, "past the absolute expiry (15 s) although read 2 s ago");
    }

    [Test]
    public void Distributed_without_expiry_an_entry_stays()
    {
        var clock = NewClock();
        using var cache = new SimpleMemoryCache { TimeProvider = clock };
        var distributed = cache.AsDistributedCache();
        distributed.Set("k", [1], new DistributedCacheEntryOptions());
        clock.Advance(TimeSpan.FromDays(400));
        Assert.That(distributed.Get("k"), Is.EqualTo(new byte[] { 1 }));
    }

    [Test]
    public void Distributed_rewriting_a_sliding_entry_without_a_window_stops_the_sliding()
    {
        var clock = NewClock();
        using var cache = new SimpleMemoryCache { TimeProvider = clock };
        var distributed = cache.AsDistributedCache();
        distributed.Set("k", [1], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromSeconds(10) });
        distributed.Set("k", [2], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(30) });

        clock.Advance(TimeSpan.FromSeconds(20));
        Assert.That(distributed.Get("k"), Is.EqualTo(new byte[] { 2 }));
        clock.Advance(TimeSpan.FromSeconds(11));
        Assert.That(distributed.Get("k"), Is.Null);
    }

    [Test]
    public async Task Distributed_Remove_and_RemoveAsync_delete_the_entry()
    {
        using var cache = new SimpleMemoryCache();
        var distributed = cache.AsDistributedCache("s");
        distributed.Set("a", [1], new DistributedCacheEntryOptions());
        distributed.Set("b", [2], new DistributedCacheEntryOptions());

        distributed.Remove("a");
        await distributed.RemoveAsync("b");
        distributed.Remove("never");

        Assert.Multiple(() =>
        {
            Assert.That(distributed.Get("a"), Is.Null);
            Assert.That(distributed.Get("b"), Is.Null);
        });
    }

    [Test]
    public async Task Distributed_byte_arrays_round_trip_including_the_empty_one()
    {
        using var cache = new SimpleMemoryCache();
        var distributed = cache.AsDistributedCache();
        var big = Enumerable.Range(0, 70_000).Select(static i => (byte)i).ToArray();

        distributed.Set("empty", [], new DistributedCacheEntryOptions());
        await distributed.SetAsync("big", big, new DistributedCacheEntryOptions());

        Assert.Multiple(async () =>
        {
            Assert.That(distributed.Get("empty"), Is.Not.Null.And.Empty);
            Assert.That(await distributed.GetAsync("empty"), Is.Not.Null.And.Empty);
            Assert.That(await distributed.GetAsync("big"), Is.EqualTo(big));
            Assert.That(distributed.Get("absent"), Is.Null);
        });
    }

    [Test]
    public void Distributed_the_stored_array_is_not_the_callers_array()
    {
        using var cache = new SimpleMemoryCache();
        var distributed = cache.AsDistributedCache();
        var value = new byte[] { 1, 2, 3 };
        distributed.Set("k", value, new DistributedCacheEntryOptions());
        value[0] = 99;
        var read = distributed.Get("k")!;
        read[1] = 99;

        Assert.That(distributed.Get("k"), Is.EqualTo(new byte[] { 1, 2, 3 }));
    }

    [Test]
    public void Distributed_null_arguments_throw_ArgumentNullException_naming_the_argument()
    {
        using var cache = new SimpleMemoryCache();
        var distributed = cache.AsDistributedCache();
        var options = new DistributedCacheEntryOptions();

        Assert.Multiple(() =>
        {
            Assert.That(() => distributed.Get(null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("key"));
            Assert.That(() => distributed.GetAsync(null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("key"));
            Assert.That(() => distributed.Set(null!, [1], options), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("key"));
            Assert.That(() => distributed.Set("k", null!, options), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("value"));
            Assert.That(() => distributed.Set("k", [1], null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("options"));
            Assert.That(() => distributed.SetAsync(null!, [1], options), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("key"));
            Assert.That(() => distributed.SetAsync("k", null!, options), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("value"));
            Assert.That(() => distributed.SetAsync("k", [1], null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("options"));
            Assert.That(() => distributed.Refresh(null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("key"));
            Assert.That(() => distributed.RefreshAsync(null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("key"));
            Assert.That(() => distributed.Remove(null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("key"));
            Assert.That(() => distributed.RemoveAsync(null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("key"));
        });
    }

    [Test]
    public void Distributed_async_methods_honour_an_already_cancelled_token()
    {
        using var cache = new SimpleMemoryCache();
        var distributed = cache.AsDistributedCache();
        distributed.Set("k", [1], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(1) });
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.Multiple(() =>
        {
            Assert.That(async () => await distributed.GetAsync("k", cts.Token), Throws.InstanceOf<OperationCanceledException>(), "GetAsync");
            Assert.That(async () => await distributed.SetAsync("n", [2], new DistributedCacheEntryOptions(), cts.Token), Throws.InstanceOf<OperationCanceledException>(), "SetAsync");
            Assert.That(async () => await distributed.RefreshAsync("k", cts.Token), Throws.InstanceOf<OperationCanceledException>(), "RefreshAsync");
            Assert.That(async () => await distributed.RemoveAsync("k", cts.Token), Throws.InstanceOf<OperationCanceledException>(), "RemoveAsync");
        });
        Assert.Multiple(() =>
        {
            Assert.That(distributed.Get("n"), Is.Null, "a cancelled SetAsync writes nothing");
            Assert.That(distributed.Get("k"), Is.Not.Null, "a cancelled RemoveAsync removes nothing");
        });
    }

    [Test]
    public void Distributed_a_non_positive_sliding_window_or_relative_expiry_is_refused()
    {
        using var cache = new SimpleMemoryCache();
        var distributed = cache.AsDistributedCache();

        Assert.Multiple(() =>
        {
            // Microsoft's DistributedCacheEntryOptions refuses these in its own setters.
            Assert.That(() => new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.Zero }, Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(-1) }, Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(distributed.Get("k"), Is.Null);
        });
    }

    // ---------------------------------------------------------------- HybridCache

    [Test]
    public async Task Hybrid_GetOrCreateAsync_runs_the_factory_once_for_concurrent_callers()
    {
        using var cache = new SimpleMemoryCache();
        var hybrid = cache.AsHybridCache();
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        const int callers = 20;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var tasks = Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            return await hybrid.GetOrCreateAsync("k", async ct =>
            {
                Interlocked.Increment(ref calls);
                return await gate.Task;
            });
        })).ToArray();
        start.SetResult();
        await Task.Delay(100);
        gate.SetResult(42);
        var results = await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Multiple(() =>
        {
            Assert.That(calls, Is.EqualTo(1));
            Assert.That(results, Is.All.EqualTo(42));
        });
    }

    [Test]
    public async Task Hybrid_RemoveByTagAsync_invalidates_the_tagged_entries_only()
    {
        using var cache = new SimpleMemoryCache();
        var hybrid = cache.AsHybridCache();
        var calls = 0;
        ValueTask<int> Factory(CancellationToken _) => ValueTask.FromResult(Interlocked.Increment(ref calls));

        await hybrid.GetOrCreateAsync("a", Factory, tags: ["t1"]);
        await hybrid.GetOrCreateAsync("b", Factory, tags: ["t2"]);
        await hybrid.GetOrCreateAsync("c", Factory, tags: ["t1", "t3"]);
        await hybrid.RemoveByTagAsync("t1");

        Assert.Multiple(async () =>
        {
            Assert.That(await hybrid.GetOrCreateAsync("a", Factory, tags: ["t1"]), Is.EqualTo(4), "a was tagged t1");
            Assert.That(await hybrid.GetOrCreateAsync("b", Factory, tags: ["t2"]), Is.EqualTo(2), "b was not");
            Assert.That(await hybrid.GetOrCreateAsync("c", Factory, tags: ["t1", "t3"]), Is.EqualTo(5), "c was tagged t1");
        });
    }

    [Test]
    public async Task Hybrid_RemoveByTagAsync_with_several_tags_invalidates_each()
    {
        using var cache = new SimpleMemoryCache();
        var hybrid = cache.AsHybridCache();
        await hybrid.SetAsync("a", 1, tags: ["x"]);
        await hybrid.SetAsync("b", 2, tags: ["y"]);
        await hybrid.SetAsync("c", 3, tags: ["z"]);

        await hybrid.RemoveByTagAsync(["x", "y"]);

        Assert.Multiple(async () =>
        {
            Assert.That(await hybrid.GetOrCreateAsync("a", _ => ValueTask.FromResult(-1)), Is.EqualTo(-1));
            Assert.That(await hybrid.GetOrCreateAsync("b", _ => ValueTask.FromResult(-1)), Is.EqualTo(-1));
            Assert.That(await hybrid.GetOrCreateAsync("c", _ => ValueTask.FromResult(-1)), Is.EqualTo(3));
        });
    }

    [Test]
    public async Task Hybrid_Expiration_ends_the_entry()
    {
        var clock = NewClock();
        using var cache = new SimpleMemoryCache { TimeProvider = clock };
        var hybrid = cache.AsHybridCache();
        var options = new HybridCacheEntryOptions { Expiration = TimeSpan.FromSeconds(10) };

        await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult(1), options);
        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.That(await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult(2), options), Is.EqualTo(1));
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.That(await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult(3), options), Is.EqualTo(3));
    }

    [Test]
    public async Task Hybrid_DisableLocalCacheRead_on_a_memory_alias_reads_nothing_and_calls_the_factory()
    {
        using var cache = new SimpleMemoryCache();
        var hybrid = cache.AsHybridCache();
        await hybrid.SetAsync("k", 1);

        var value = await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult(2), new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheRead });

        Assert.That(value, Is.EqualTo(2), "the memory alias is the local level alone, whose read is turned off");
    }

    [Test]
    public async Task Hybrid_DisableLocalCacheWrite_on_a_memory_alias_stores_nothing()
    {
        using var cache = new SimpleMemoryCache();
        var hybrid = cache.AsHybridCache();

        await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult(1), new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheWrite });

        Assert.That(await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult(2)), Is.EqualTo(2));
    }

    [Test]
    public async Task Hybrid_DisableUnderlyingData_returns_default_on_a_miss_without_calling_the_factory()
    {
        using var cache = new SimpleMemoryCache();
        var hybrid = cache.AsHybridCache();
        var called = false;

        var value = await hybrid.GetOrCreateAsync("k", _ => { called = true; return ValueTask.FromResult(5); }, new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableUnderlyingData });

        Assert.Multiple(() =>
        {
            Assert.That(value, Is.EqualTo(0));
            Assert.That(called, Is.False);
        });
    }

    [Test]
    public void Hybrid_an_already_cancelled_token_comes_back_as_a_cancelled_task_and_the_factory_does_not_run()
    {
        using var cache = new SimpleMemoryCache();
        var hybrid = cache.AsHybridCache();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var called = false;

        ValueTask<int> pending = default;
        Assert.DoesNotThrow(() => pending = hybrid.GetOrCreateAsync("k", _ => { called = true; return ValueTask.FromResult(1); }, cancellationToken: cts.Token));
        Assert.That(async () => await pending, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(called, Is.False);
    }

    [Test]
    public async Task Hybrid_one_caller_cancelling_does_not_cancel_the_shared_factory_for_another()
    {
        using var cache = new SimpleMemoryCache();
        var hybrid = cache.AsHybridCache();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var factoryToken = CancellationToken.None;
        async ValueTask<int> Factory(CancellationToken ct)
        {
            factoryToken = ct;
            started.TrySetResult();
            await gate.Task;
            return 7;
        }

        using var cts = new CancellationTokenSource();
        var first = hybrid.GetOrCreateAsync("k", Factory, cancellationToken: cts.Token).AsTask();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(3));
        var second = hybrid.GetOrCreateAsync("k", Factory).AsTask();
        cts.Cancel();

        Assert.That(async () => await first.WaitAsync(TimeSpan.FromSeconds(3)), Throws.InstanceOf<OperationCanceledException>(), "the cancelling caller leaves at once");
        Assert.That(factoryToken.IsCancellationRequested, Is.False, "another caller still waits for the factory");
        gate.SetResult();
        Assert.That(await second.WaitAsync(TimeSpan.FromSeconds(3)), Is.EqualTo(7));
    }

    [Test]
    public async Task Hybrid_the_only_caller_cancelling_cancels_the_factorys_token()
    {
        using var cache = new SimpleMemoryCache();
        var hybrid = cache.AsHybridCache();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var factoryCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async ValueTask<int> Factory(CancellationToken ct)
        {
            ct.Register(() => factoryCancelled.TrySetResult());
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return 1;
        }

        using var cts = new CancellationTokenSource();
        var call = hybrid.GetOrCreateAsync("k", Factory, cancellationToken: cts.Token).AsTask();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(3));
        cts.Cancel();

        Assert.That(async () => await call.WaitAsync(TimeSpan.FromSeconds(3)), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(async () => await factoryCancelled.Task.WaitAsync(TimeSpan.FromSeconds(3)), Throws.Nothing);
        Assert.That(await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult(2)), Is.EqualTo(2), "nothing was cached by the cancelled call");
    }

    [Test]
    public async Task Hybrid_RemoveAsync_removes_and_the_next_call_runs_the_factory()
    {
        using var cache = new SimpleMemoryCache();
        var hybrid = cache.AsHybridCache();
        await hybrid.SetAsync("a", 1);
        await hybrid.SetAsync("b", 1);

        await hybrid.RemoveAsync("a");
        await hybrid.RemoveAsync(["b"]);

        Assert.Multiple(async () =>
        {
            Assert.That(await hybrid.GetOrCreateAsync("a", _ => ValueTask.FromResult(2)), Is.EqualTo(2));
            Assert.That(await hybrid.GetOrCreateAsync("b", _ => ValueTask.FromResult(2)), Is.EqualTo(2));
        });
    }

    // ---------------------------------------------------------------- second round

    [Test]
    public void Plugins_context_carries_the_resolved_namespace_ttl_values_and_arguments()
    {
        var log = new List<string>();
        var plugin = new RecordingPlugin("A", log);
        using var cache = new SimpleMemoryCache { Namespace = "own", Ttl = TimeSpan.FromSeconds(10), Plugins = [plugin] };

        cache.Set("k", 1);
        cache.Set("k", 1, TimeSpan.FromSeconds(3), "other");
        cache.MultiSet(new[] { KeyValuePair.Create("b", 2), KeyValuePair.Create("a", 1) });
        cache.Raw("count");
        cache.Clear();

        var posts = plugin.Posts;
        Assert.Multiple(() =>
        {
            Assert.That((posts[0].Key, posts[0].Namespace, posts[0].Ttl, posts[0].Value), Is.EqualTo(("k", "own", (TimeSpan?)TimeSpan.FromSeconds(10), (object?)1)), "Set falls back on the cache's namespace and ttl");
            Assert.That((posts[1].Namespace, posts[1].Ttl), Is.EqualTo(("other", (TimeSpan?)TimeSpan.FromSeconds(3))));
            Assert.That(posts[2].Keys, Is.EqualTo(new[] { "b", "a" }), "MultiSet keys in the caller's order");
            Assert.That(posts[2].Value, Is.EqualTo(new[] { 2, 1 }), "MultiSet values: a list in key order");
            Assert.That(posts[2].Ttl, Is.EqualTo(TimeSpan.FromSeconds(10)));
            Assert.That((posts[3].Key, posts[3].Command), Is.EqualTo(((string?)null, CacheCommand.Raw)));
            Assert.That((posts[4].Command, posts[4].Namespace), Is.EqualTo((CacheCommand.Clear, (string?)"own")), "Clear() clears the cache's own namespace (caches.md)");
        });
    }

    [Test]
    public void Plugins_InvalidateTags_runs_the_hooks_with_the_tags_as_keys()
    {
        var log = new List<string>();
        var plugin = new RecordingPlugin("A", log);
        using var cache = new SimpleMemoryCache { Plugins = [plugin] };

        cache.InvalidateTags("t1", "t2");

        Assert.Multiple(() =>
        {
            Assert.That(log, Is.EqualTo(new[] { "A.Pre InvalidateTags", "A.Post InvalidateTags" }));
            Assert.That(plugin.Posts.Single().Keys, Is.EqualTo(new[] { "t1", "t2" }));
        });
    }

    [Test]
    public void Plugins_Add_of_an_existing_key_fails_and_runs_no_post_hook_and_TimingPlugin_does_not_count_it()
    {
        var log = new List<string>();
        var timing = new TimingPlugin();
        using var cache = new SimpleMemoryCache { Plugins = [new RecordingPlugin("A", log), timing] };
        cache.Set("k", 1);
        log.Clear();

        Assert.That(() => cache.Add("k", 2), Throws.InstanceOf<KeyExistsException>());
        Assert.Multiple(() =>
        {
            Assert.That(log, Is.EqualTo(new[] { "A.Pre Add" }));
            Assert.That(timing[CacheCommand.Add].Count, Is.EqualTo(0));
        });
    }

    [Test]
    public async Task Plugins_async_Elapsed_includes_pre_hooks_on_the_cache_clock()
    {
        var clock = NewClock();
        var log = new List<string>();
        var recorder = new RecordingPlugin("rec", log);
        using var cache = new SimpleMemoryCache { TimeProvider = clock, Plugins = [new RecordingPlugin("slow", log, clock, TimeSpan.FromSeconds(2)), recorder] };

        await cache.GetAsync<int>("k");
        await cache.MultiGetAsync<int>(["a", "b"]);

        Assert.That(recorder.Posts.Select(static p => p.Elapsed), Is.EqualTo(new[] { TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2) }));
    }

    [Test]
    public void HitMissRatio_MultiTryGet_counts_each_key_like_MultiGet()
    {
        var ratio = new HitMissRatioPlugin();
        using var cache = new SimpleMemoryCache { Plugins = [ratio] };
        cache.Set("a", 1);

        cache.MultiTryGet<int>(["a", "b"]);

        Assert.That((ratio.Hits, ratio.Total), Is.EqualTo((1L, 2L)));
    }

    [Test]
    public void OptimisticLock_memory_a_write_of_an_equal_value_fails_cas_as_documented()
    {
        using var cache = new SimpleMemoryCache();
        cache.Set("k", 1);
        using var lck = new OptimisticLock(cache, "k");
        cache.Set("k", 1);

        Assert.That(() => lck.Cas(2), Throws.InstanceOf<OptimisticLockException>());
    }

    [Test]
    public void OptimisticLock_multilevel_drops_the_stale_L1_copy_and_checks_L2()
    {
        var l1 = new SimpleMemoryCache();
        var l2 = new SimpleMemoryCache();
        using var cache = new MultiLevelCache(l1, l2);
        cache.Set("k", 1);
        l2.Set("k", 2);                 // another node wrote L2
        Assert.That(cache.Get<int>("k"), Is.EqualTo(1), "this node still holds its L1 copy");

        using var lck = new OptimisticLock(cache, "k");
        Assert.That(cache.Get<int>("k"), Is.EqualTo(2), "taking the lock drops the node's L1 copy (docs)");
        Assert.That(lck.Cas(3), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(l2.Get<int>("k"), Is.EqualTo(3));
            Assert.That(cache.Get<int>("k"), Is.EqualTo(3));
        });
    }

    [Test]
    public void OptimisticLock_multilevel_a_write_to_L2_after_the_lock_fails_cas()
    {
        var l1 = new SimpleMemoryCache();
        var l2 = new SimpleMemoryCache();
        using var cache = new MultiLevelCache(l1, l2);
        cache.Set("k", 1);
        using var lck = new OptimisticLock(cache, "k");
        l2.Set("k", 5);

        Assert.That(() => lck.Cas(3), Throws.InstanceOf<OptimisticLockException>());
        Assert.That(l2.Get<int>("k"), Is.EqualTo(5));
    }

    [Test]
    public async Task RedLock_multilevel_contenders_hold_the_lock_one_at_a_time()
    {
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache());
        var inside = 0;
        var maxInside = 0;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            await using var held = await RedLock.AcquireAsync(cache, "ml", TimeSpan.FromSeconds(20));
            InterlockedMax(ref maxInside, Interlocked.Increment(ref inside));
            await Task.Delay(2);
            Interlocked.Decrement(ref inside);
        })).ToArray();
        start.SetResult();
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.That(maxInside, Is.EqualTo(1));
    }

    [Test]
    public void RedLock_memory_a_waiter_whose_own_lease_passes_goes_on_without_the_lock_and_releases_nothing()
    {
        var clock = NewClock();
        using var cache = new SimpleMemoryCache { TimeProvider = clock };
        using var holder = new RedLock(cache, "k", TimeSpan.FromSeconds(60));
        RedLock? waiter = null;
        var thread = new Thread(() => waiter = new RedLock(cache, "k", TimeSpan.FromSeconds(1))) { IsBackground = true };
        thread.Start();
        // Blocked between its polls, the waiter has read its deadline from the clock: only then is the clock moved (a
        // fixed 30 ms wait was outlasted on a loaded machine, and a waiter that read the clock after it never gave up).
        Cached.Tests.Runtime.Waits.UntilAllBlocked([thread], TimeSpan.FromSeconds(10));
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.That(thread.Join(TimeSpan.FromSeconds(10)), Is.True, "the waiter gives up after one lease");

        Assert.That(waiter!.IsAcquired, Is.False);
        waiter.Dispose();
        Assert.That(cache.Exists("k-lock"), Is.True, "the holder's lock stays");
    }

    [Test]
    public async Task Distributed_adapter_clock_checks_the_absolute_expiry_even_while_the_store_keeps_the_entry()
    {
        var adapterClock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var cache = new SimpleMemoryCache();
        var distributed = new CacheDistributedCache(cache, timeProvider: adapterClock);

        await distributed.SetAsync("k", [1], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10), SlidingExpiration = TimeSpan.FromMinutes(5) });
        adapterClock.Advance(TimeSpan.FromMinutes(11));

        Assert.That(await distributed.GetAsync("k"), Is.Null);
    }

    [Test]
    public async Task Hybrid_multilevel_DisableLocalCacheRead_reads_L2_only()
    {
        var l1 = new SimpleMemoryCache();
        var l2 = new SimpleMemoryCache();
        using var cache = new MultiLevelCache(l1, l2);
        var hybrid = cache.AsHybridCache();
        l1.Set("k", 1);
        l2.Set("k", 2);

        var value = await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult(3), new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheRead });

        Assert.That(value, Is.EqualTo(2));
    }

    [Test]
    public async Task Hybrid_multilevel_DisableLocalCacheWrite_does_not_copy_an_L2_hit_into_L1()
    {
        var l1 = new SimpleMemoryCache();
        var l2 = new SimpleMemoryCache();
        using var cache = new MultiLevelCache(l1, l2);
        var hybrid = cache.AsHybridCache();
        l2.Set("k", 2);

        var value = await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult(3), new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheWrite });
        var fresh = await hybrid.GetOrCreateAsync("n", _ => ValueTask.FromResult(4), new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheWrite });

        Assert.Multiple(() =>
        {
            Assert.That((value, fresh), Is.EqualTo((2, 4)));
            Assert.That(l1.Exists("k"), Is.False, "an L2 hit is not copied into L1");
            Assert.That(l1.Exists("n"), Is.False, "the factory's value is not written to L1");
            Assert.That(l2.Get<int>("n"), Is.EqualTo(4), "but it is written to L2");
        });
    }

    [Test]
    public async Task Hybrid_multilevel_DisableDistributedCacheRead_reads_L1_only_and_DisableDistributedCacheWrite_writes_L1_only()
    {
        var l1 = new SimpleMemoryCache();
        var l2 = new SimpleMemoryCache();
        using var cache = new MultiLevelCache(l1, l2);
        var hybrid = cache.AsHybridCache();
        l2.Set("k", 2);

        var read = await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult(3), new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableDistributedCacheRead });
        await hybrid.GetOrCreateAsync("w", _ => ValueTask.FromResult(5), new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableDistributedCacheWrite });

        Assert.Multiple(() =>
        {
            Assert.That(read, Is.EqualTo(3), "L2's value is not read");
            Assert.That(l1.Get<int>("w"), Is.EqualTo(5));
            Assert.That(l2.Exists("w"), Is.False);
        });
    }

    [Test]
    public async Task Hybrid_keys_it_cannot_cache_call_the_factory_every_time()
    {
        using var cache = new SimpleMemoryCache();
        var hybrid = cache.AsHybridCache();
        var calls = 0;
        ValueTask<int> Factory(CancellationToken _) => ValueTask.FromResult(Interlocked.Increment(ref calls));
        var tooLong = new string('x', 1025);

        foreach (var key in new[] { tooLong, "a\nb", "   " })
        {
            await hybrid.GetOrCreateAsync(key, Factory);
            await hybrid.GetOrCreateAsync(key, Factory);
        }

        Assert.Multiple(() =>
        {
            Assert.That(calls, Is.EqualTo(6));
            Assert.That(cache.Exists(tooLong), Is.False);
        });
    }

    [Test]
    public void Hybrid_reserved_or_blank_tags_on_an_entry_are_refused()
    {
        using var cache = new SimpleMemoryCache();
        var hybrid = cache.AsHybridCache();

        Assert.Multiple(() =>
        {
            Assert.That(async () => await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult(1), tags: ["*"]), Throws.ArgumentException);
            Assert.That(async () => await hybrid.SetAsync("k", 1, tags: [" "]), Throws.ArgumentException);
        });
        Assert.That(cache.Exists("k"), Is.False);
    }

    [Test]
    public async Task Hybrid_RemoveByTag_star_empties_an_in_process_cache_and_blank_tags_are_ignored()
    {
        using var cache = new SimpleMemoryCache();
        var hybrid = cache.AsHybridCache();
        await hybrid.SetAsync("a", 1, tags: ["t"]);
        await hybrid.SetAsync("b", 2);

        await hybrid.RemoveByTagAsync(["", "  "]);
        Assert.That(await hybrid.GetOrCreateAsync("b", _ => ValueTask.FromResult(-1)), Is.EqualTo(2));

        await hybrid.RemoveByTagAsync("*");
        Assert.Multiple(async () =>
        {
            Assert.That(await hybrid.GetOrCreateAsync("a", _ => ValueTask.FromResult(-1)), Is.EqualTo(-1));
            Assert.That(await hybrid.GetOrCreateAsync("b", _ => ValueTask.FromResult(-1)), Is.EqualTo(-1));
        });
    }

    [Test]
    public void Hybrid_a_non_positive_Expiration_is_refused()
    {
        using var cache = new SimpleMemoryCache();
        var hybrid = cache.AsHybridCache();

        Assert.That(async () => await hybrid.SetAsync("k", 1, new HybridCacheEntryOptions { Expiration = TimeSpan.Zero }), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(cache.Exists("k"), Is.False);
    }

    [Test]
    public async Task Hybrid_flagged_call_with_a_cancelled_token_is_cancelled_and_the_factory_does_not_run()
    {
        using var cache = new SimpleMemoryCache();
        var hybrid = cache.AsHybridCache();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var called = false;

        Assert.That(
            async () => await hybrid.GetOrCreateAsync("k", _ => { called = true; return ValueTask.FromResult(1); }, new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheRead }, cancellationToken: cts.Token),
            Throws.InstanceOf<OperationCanceledException>());
        var after = await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult(2));
        Assert.Multiple(() =>
        {
            Assert.That(called, Is.False, "docs: an already cancelled token comes back as a cancelled task, as on the unflagged path, which never calls the factory");
            Assert.That(after, Is.EqualTo(2), "the cancelled call cached nothing");
        });
    }

    [TestCase(HybridCacheEntryFlags.DisableDistributedCacheRead)]
    [TestCase(HybridCacheEntryFlags.DisableLocalCacheWrite)]
    [TestCase(HybridCacheEntryFlags.DisableDistributedCacheWrite)]
    [TestCase(HybridCacheEntryFlags.DisableLocalCacheRead)]
    public async Task Hybrid_multilevel_a_flagged_read_does_not_serve_an_entry_whose_tag_was_removed(HybridCacheEntryFlags flags)
    {
        var l1 = new SimpleMemoryCache();
        var l2 = new SimpleMemoryCache();
        using var cache = new MultiLevelCache(l1, l2, new MemoryBackplane());  // with a backplane tagged entries are copied into L1 (tags.md)
        var hybrid = cache.AsHybridCache();
        await hybrid.SetAsync("a", 1, tags: ["t"]);
        Assert.That(await hybrid.GetOrCreateAsync("a", _ => ValueTask.FromResult(-2), tags: ["t"]), Is.EqualTo(1), "an unflagged read, which fills L1");

        await hybrid.RemoveByTagAsync("t");
        var value = await hybrid.GetOrCreateAsync("a", _ => ValueTask.FromResult(-1), new HybridCacheEntryOptions { Flags = flags }, tags: ["t"]);

        Assert.That(value, Is.EqualTo(-1), "RemoveByTagAsync invalidated the entry; a flagged call must not serve it");
    }

    [Test]
    public async Task Hybrid_multilevel_a_flagged_read_serves_a_tagged_entry_that_is_still_valid()
    {
        var l1 = new SimpleMemoryCache();
        var l2 = new SimpleMemoryCache();
        using var cache = new MultiLevelCache(l1, l2, new MemoryBackplane());  // with a backplane tagged entries are copied into L1 (tags.md)
        var hybrid = cache.AsHybridCache();
        await hybrid.SetAsync("a", 1, tags: ["t"]);
        Assert.That(await hybrid.GetOrCreateAsync("a", _ => ValueTask.FromResult(-2), tags: ["t"]), Is.EqualTo(1), "an unflagged read, which fills L1");
        var inL1 = cache.IsInL1("a");

        var value = await hybrid.GetOrCreateAsync("a", _ => ValueTask.FromResult(-1), new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableDistributedCacheRead }, tags: ["t"]);

        Assert.Multiple(() =>
        {
            Assert.That(inL1, Is.True, "the unflagged read left a copy in L1");
            Assert.That(value, Is.EqualTo(1), "docs: DisableDistributedCacheRead reads L1 only, and L1 holds the valid entry");
        });
    }

    [Test]
    public async Task Hybrid_multilevel_DisableDistributedCacheRead_serves_an_untagged_entry_from_L1()
    {
        var l1 = new SimpleMemoryCache();
        var l2 = new SimpleMemoryCache();
        using var cache = new MultiLevelCache(l1, l2);
        var hybrid = cache.AsHybridCache();
        await hybrid.GetOrCreateAsync("a", _ => ValueTask.FromResult(1));
        Assert.That(cache.IsInL1("a"), Is.True);

        var value = await hybrid.GetOrCreateAsync("a", _ => ValueTask.FromResult(-1), new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableDistributedCacheRead });

        Assert.That(value, Is.EqualTo(1), "docs: DisableDistributedCacheRead reads L1 only, and L1 holds the entry");
    }

    [Test]
    public void Locks_refuse_a_cache_over_IDistributedCache_which_has_no_atomic_compare_and_set()
    {
        var provider = new Microsoft.Extensions.Caching.Distributed.MemoryDistributedCache(
            Microsoft.Extensions.Options.Options.Create(new Microsoft.Extensions.Caching.Memory.MemoryDistributedCacheOptions()));
        using var backend = new DistributedCacheBackend(provider);
        using var twoLevels = new MultiLevelCache(new SimpleMemoryCache(), new DistributedCacheBackend(provider));

        // microsoft-caching.md: what needs an atomic operation the interface lacks is refused with a NotSupportedException.
        Assert.Multiple(() =>
        {
            Assert.That(() => new RedLock(backend, "k", TimeSpan.FromSeconds(1)), Throws.InstanceOf<NotSupportedException>());
            Assert.That(() => new OptimisticLock(backend, "k"), Throws.InstanceOf<NotSupportedException>());
            Assert.That(() => new OptimisticLock(twoLevels, "k"), Throws.InstanceOf<NotSupportedException>());
        });
    }

    [Test]
    public void Hybrid_flagged_DisableUnderlyingData_with_a_cancelled_token_is_cancelled()
    {
        using var cache = new SimpleMemoryCache();
        var hybrid = cache.AsHybridCache();
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.That(
            async () => await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult(1), new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheRead | HybridCacheEntryFlags.DisableUnderlyingData }, cancellationToken: cts.Token),
            Throws.InstanceOf<OperationCanceledException>(),
            "docs: a token that is already cancelled comes back as a cancelled task from every method");
    }

    [Test]
    public async Task OptimisticLock_memory_async_with_a_cancelled_token_is_cancelled_and_writes_nothing()
    {
        using var cache = new SimpleMemoryCache();
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
        Assert.That(await lck.CasAsync(3), Is.True, "the cancelled attempt changed nothing");
    }

    [Test]
    public async Task Hybrid_SetAsync_RemoveAsync_and_RemoveByTagAsync_with_a_cancelled_token_are_cancelled_and_change_nothing()
    {
        using var cache = new SimpleMemoryCache();
        var hybrid = cache.AsHybridCache();
        await hybrid.SetAsync("kept", 1, tags: ["t"]);
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.Multiple(() =>
        {
            Assert.That(async () => await hybrid.SetAsync("new", 1, cancellationToken: cts.Token), Throws.InstanceOf<OperationCanceledException>());
            Assert.That(async () => await hybrid.RemoveAsync("kept", cts.Token), Throws.InstanceOf<OperationCanceledException>());
            Assert.That(async () => await hybrid.RemoveByTagAsync("t", cts.Token), Throws.InstanceOf<OperationCanceledException>());
        });
        Assert.Multiple(async () =>
        {
            Assert.That(await hybrid.GetOrCreateAsync("new", _ => ValueTask.FromResult(-1)), Is.EqualTo(-1));
            Assert.That(await hybrid.GetOrCreateAsync("kept", _ => ValueTask.FromResult(-1), tags: ["t"]), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Hybrid_SetAsync_with_DisableLocalCacheWrite_on_a_memory_alias_stores_nothing()
    {
        using var cache = new SimpleMemoryCache();
        var hybrid = cache.AsHybridCache();

        await hybrid.SetAsync("k", 1, new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheWrite });

        Assert.That(cache.Exists("k"), Is.False);
    }

    [Test]
    public void TimingPlugin_refuses_a_value_that_is_no_command()
    {
        var timing = new TimingPlugin();
        Assert.That(() => timing[(CacheCommand)99], Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
