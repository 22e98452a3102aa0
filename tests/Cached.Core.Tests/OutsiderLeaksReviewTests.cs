using System.Globalization;
using System.Runtime.CompilerServices;
using Cached.MultiLevel;
using Cached.Resilience;
using Cached.Runtime;
using Cached.Tests.Leaks;
using Microsoft.Extensions.Time.Testing;
using static Cached.Tests.Leaks.Internals;

namespace Cached.Tests;

/// <summary>
/// An outsider's leak and soak review: the per-key state of a long-running process (flights, fences, fill tickets,
/// tag versions, namespaces, registrations on a caller's token, timers) returns to empty once the work ends, and a
/// disposed or replaced cache becomes collectible. Races are forced with gates; counts are read from the fields.
/// </summary>
public sealed class OutsiderLeaksReviewTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(5);

    [TearDown]
    public void TearDown() => Caches.Reset();

    private static CachedMethod<string> MethodOn(ICache cache, double failSafe = 0)
        => new(new CachedMethodOptions { Method = "Tests.Leaks.Get", CacheFactory = () => cache, Ttl = 60, FailSafe = failSafe });

    /// <summary>The method's board and the cache's fences are empty, once work ending on other threads has ended.</summary>
    private static void AssertNoFlightOrFill<T>(CachedMethod<T> method, BaseCache cache)
    {
        Settle(() => Flights(method) == 0 && FenceState(cache) == (0, 0));
        Assert.That(Flights(method), Is.Zero, cache.GetType().Name + ": flights on the board");
        Assert.That(FenceState(cache), Is.EqualTo((0, 0)), cache.GetType().Name + ": open fills, per-key fences");
    }

    private static string CacheKey(int id) => "m" + id.ToString(CultureInfo.InvariantCulture);

    private static string Key(int i) => "k" + i.ToString(CultureInfo.InvariantCulture);

    // ---- 1. per-key state after the work ends ----

    [Test]
    public async Task Hundred_thousand_distinct_misses_leave_no_flight_and_no_open_fill_on_either_kind_of_store()
    {
        using var memory = new SimpleMemoryCache();
        using var remote = new GatedBackend();
        foreach (var cache in new BaseCache[] { memory, remote })
        {
            var method = MethodOn(cache);
            for (var i = 0; i < 50_000; i++)
            {
                method.Invoke(Key(i), i, static i => "v" + i);
                await method.InvokeAsync("a" + Key(i), i, static (i, _) => ValueTask.FromResult("v" + i), null, CancellationToken.None);
            }

            AssertNoFlightOrFill(method, cache);
        }
    }

    [Test]
    public async Task Callers_cancelled_while_the_body_runs_leave_no_flight_or_fill_behind()
    {
        using var cache = new GatedBackend();
        var method = MethodOn(cache);
        for (var round = 0; round < 200; round++)
        {
            var body = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var sources = Enumerable.Range(0, 4).Select(_ => new CancellationTokenSource()).ToArray();
            var calls = sources.Select(s => method.InvokeAsync(Key(round), body, static async (gate, _) =>
            {
                await gate.Task.ConfigureAwait(false);
                return "v";
            }, null, s.Token).AsTask()).ToArray();
            foreach (var source in sources)
            {
                await source.CancelAsync();
            }

            body.SetResult();
            await Task.WhenAll(calls.Select(c => c.ContinueWith(static _ => { }, TaskScheduler.Default))).WaitAsync(s_limit);
        }

        AssertNoFlightOrFill(method, cache);
    }

    [Test]
    public async Task Callers_cancelled_at_the_backend_read_and_at_the_fill_write_leave_nothing_behind()
    {
        using var cache = new GatedBackend();
        var method = MethodOn(cache);
        for (var round = 0; round < 200; round++)
        {
            var atRead = round % 2 == 0;
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            cache.ReadGate = atRead ? gate : null;
            cache.WriteGate = atRead ? null : gate;
            using var source = new CancellationTokenSource();
            var call = method.InvokeAsync(Key(round), 0, static (_, _) => ValueTask.FromResult("v"), null, source.Token).AsTask();
            await source.CancelAsync();
            gate.SetResult();
            await call.ContinueWith(static _ => { }, TaskScheduler.Default).WaitAsync(s_limit);
        }

        AssertNoFlightOrFill(method, cache);
    }

    [Test]
    public async Task Bodies_that_throw_and_a_backend_that_faults_leave_no_flight_or_fill_behind()
    {
        using var cache = new GatedBackend();
        var method = MethodOn(cache);
        for (var i = 0; i < 2_000; i++)
        {
            cache.Down = i % 3 == 0;
            Assert.That(() => method.Invoke(Key(i), 0, static _ => throw new InvalidOperationException("body")), Throws.InvalidOperationException);
            Assert.That(async () => await method.InvokeAsync(Key(i), 0, static async (_, _) =>
            {
                await Task.Yield();
                throw new InvalidOperationException("body");
            }, null, CancellationToken.None), Throws.InvalidOperationException);
            Assert.That(await method.InvokeAsync("ok" + Key(i), 0, static (_, _) => ValueTask.FromResult("v"), null, CancellationToken.None), Is.EqualTo("v"));
        }

        AssertNoFlightOrFill(method, cache);
    }

    [Test]
    public async Task Reentrant_calls_to_other_keys_and_to_the_own_key_leave_no_flight_behind()
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn(cache);
        for (var i = 0; i < 1_000; i++)
        {
            var outer = await method.InvokeAsync(Key(i), (method, i), static async (s, ct) =>
            {
                var inner = await s.method.InvokeAsync("inner" + Key(s.i), 0, static (_, _) => ValueTask.FromResult("in"), null, ct);
                try
                {
                    await s.method.InvokeAsync(Key(s.i), 0, static (_, _) => ValueTask.FromResult("self"), null, ct);
                }
                catch (InvalidOperationException)
                {
                    // Refused: it would wait for its own body.
                }

                return inner;
            }, null, CancellationToken.None);
            Assert.That(outer, Is.EqualTo("in"));
        }

        Assert.That(Flights(method), Is.Zero);
        Assert.That(FenceState(cache).Open, Is.Zero);
    }

    [Test]
    public async Task MultiCached_batches_with_partial_hits_failures_and_cancellations_leave_no_key_in_flight()
    {
        using var cache = new GatedBackend();
        var method = new MultiCachedMethod<int, string>(new CachedMethodOptions { Method = "Tests.Leaks.GetMany", CacheFactory = () => cache, Ttl = 60 });
        for (var round = 0; round < 300; round++)
        {
            var ids = Enumerable.Range(round * 5, 10).ToArray(); // half of them were asked for last round: partial hits
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var source = new CancellationTokenSource();
            var throws = round % 3 == 1;
            var held = method.InvokeAsync(ids, (gate, throws), static (_, id) => CacheKey(id), static async (s, missing, _) =>
            {
                await s.gate.Task.ConfigureAwait(false);
                return s.throws ? throw new InvalidOperationException("batch") : missing.Select(id => KeyValuePair.Create(id, "v" + id));
            }, null, source.Token).AsTask();
            var joiner = method.InvokeAsync(ids.Reverse(), 0, static (_, id) => CacheKey(id), static (_, missing, _) => ValueTask.FromResult<IEnumerable<KeyValuePair<int, string>>?>(missing.Select(id => KeyValuePair.Create(id, "w"))), null, CancellationToken.None).AsTask();
            if (round % 2 == 0)
            {
                await source.CancelAsync();
            }

            gate.SetResult();
            await Task.WhenAll(held, joiner).ContinueWith(static _ => { }, TaskScheduler.Default).WaitAsync(s_limit);
        }

        Settle(() => BatchFlights(method) == 0);
        Assert.That(BatchFlights(method), Is.Zero);
        Assert.That(FenceState(cache), Is.EqualTo((0, 0)));
    }

    [Test]
    public async Task GetOrSet_with_fail_safe_and_timeouts_leaves_no_flight_fill_or_background_work()
    {
        using var cache = new GatedBackend();
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), FailSafe = TimeSpan.FromMinutes(10), SoftTimeout = TimeSpan.FromMilliseconds(1), HardTimeout = TimeSpan.FromMilliseconds(50) };
        var gates = new List<TaskCompletionSource>();
        for (var i = 0; i < 300; i++)
        {
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            gates.Add(gate);
            cache.Down = i % 4 == 3;
            await cache.GetOrSetAsync(Key(i % 50), async ct =>
            {
                await gate.Task.WaitAsync(ct).ConfigureAwait(false);
                return i % 5 == 0 ? throw new InvalidOperationException("factory") : "v";
            }, options).AsTask().ContinueWith(static _ => { }, TaskScheduler.Default).WaitAsync(s_limit);
        }

        cache.Down = false;
        gates.ForEach(g => g.TrySetResult());
        var core = ReadThroughs.Of(cache).For<string>(null);
        var background = ReadThroughs.Of(cache).Background;
        var stopping = (CancellationTokenSource)Field(background, "_stopping")!;
        await SettleAsync(() => Flights(core) == 0 && background.Running == 0 && FenceState(cache) == (0, 0) && Registrations(stopping) == 0);
        Assert.That(Flights(core), Is.Zero);
        Assert.That(background.Running, Is.Zero);
        Assert.That(Registrations(stopping), Is.Zero, "factory tokens linked to the cache's stopping token");
        Assert.That(FenceState(cache), Is.EqualTo((0, 0)));
    }

    // ---- 2. expiry, tags and namespaces ----

    [Test]
    public void Expired_entries_never_read_again_are_swept_on_the_cache_clock()
    {
        var time = new FakeTimeProvider();
        using var cache = new SimpleMemoryCache { TimeProvider = time };
        for (var i = 0; i < 20_000; i++)
        {
            cache.Set(Key(i), "v", TimeSpan.FromSeconds(1 + (i % 30)));
        }

        Assert.That(MemoryEntries(cache), Is.EqualTo(20_000));
        time.Advance(TimeSpan.FromMinutes(2));
        Settle(() => MemoryEntries(cache) == 0);
        Assert.That(MemoryEntries(cache), Is.Zero);
    }

    [Test]
    public void Tags_invalidated_many_times_keep_one_version_record_each_at_most()
    {
        var time = new FakeTimeProvider();
        using var cache = new SimpleMemoryCache { TimeProvider = time };
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(5), Tags = ["t:a", "t:b"] };
        for (var i = 0; i < 50_000; i++)
        {
            cache.GetOrSet(Key(i % 100), _ => "v", options);
            cache.InvalidateTags("t:a", "t:unused" + (i % 10).ToString(CultureInfo.InvariantCulture));
        }

        var store = (global::Cached.Tags.MemoryTagStore)global::Cached.Tags.TagStore.Of(cache);
        Assert.That(store.Count, Is.LessThanOrEqualTo(2));
    }

    [Test]
    public async Task GetOrSet_in_many_namespaces_keeps_no_core_per_namespace_once_their_calls_end()
    {
        using var cache = new SimpleMemoryCache();
        cache.GetOrSet("user", _ => "v", null, "warm");
        var before = GC.GetTotalMemory(forceFullCollection: true);
        for (var i = 0; i < 20_000; i++)
        {
            var space = "tenant" + i.ToString(CultureInfo.InvariantCulture);
            Assert.That(cache.GetOrSet("user", _ => "v", null, space), Is.EqualTo("v"));
            Assert.That(await cache.GetOrSetAsync("count", _ => ValueTask.FromResult(1), null, space), Is.EqualTo(1));
            cache.Clear(space);
        }

        // An idle core is held strongly until the next full collection's sweep and collected at the one after it
        // (ReadThroughs), so a few full collections come first.
        for (var i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        var kept = (GC.GetTotalMemory(forceFullCollection: true) - before) / 20_000;
        TestContext.Out.WriteLine($"bytes kept per namespace: {kept}");
        Assert.That(kept, Is.LessThan(200), "bytes kept per namespace once its calls ended and it was cleared");
    }

    /// <summary>
    /// The other side of the test above: a tenant whose calls go on keeps its core through full collections, so its
    /// hits do not make a new core (and its board of flights) after every collection.
    /// </summary>
    [Test]
    public void GetOrSet_in_a_namespace_in_use_keeps_its_core_through_full_collections()
    {
        using var cache = new SimpleMemoryCache();
        var first = CoreOf(cache, "tenantA");
        for (var round = 0; round < 4; round++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Assert.That(cache.GetOrSet("user", _ => "v", null, "tenantA"), Is.EqualTo("v"));
            Assert.That(cache.GetOrSet("user", _ => "v", null, "tenantB"), Is.EqualTo("v"), "the other tenant's call comes last");
        }

        Assert.That(first.Target, Is.Not.Null.And.SameAs(ReadThroughs.Of(cache).For<string>("tenantA")), "the same core");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference CoreOf(SimpleMemoryCache cache, string @namespace)
    {
        cache.GetOrSet("user", _ => "v", null, @namespace);
        return new WeakReference(ReadThroughs.Of(cache).For<string>(@namespace));
    }

    [Test]
    public void A_two_level_cache_used_in_many_namespaces_then_cleared_keeps_no_record_of_them()
    {
        var backplane = new MemoryBackplane();
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache(), backplane);
        for (var i = 0; i < 2_000; i++)
        {
            var space = "tenant" + i.ToString(CultureInfo.InvariantCulture);
            cache.Set("user", "v", @namespace: space);
            Assert.That(cache.Get<string>("user", @namespace: space), Is.EqualTo("v"));
            cache.Clear(space);
        }

        Assert.That(((System.Collections.ICollection)Field(cache, "_l1Namespaces")!).Count, Is.LessThanOrEqualTo(16));
    }

    [Test]
    public void A_namespace_written_after_a_clear_forgot_the_others_is_still_emptied_by_the_next_clear()
    {
        var backplane = new MemoryBackplane();
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache(), backplane);
        cache.Set("user", "v", @namespace: "a");
        cache.Clear("b");
        cache.Set("user", "v", @namespace: "a");
        cache.Set("user", "v", @namespace: "c");
        Assert.That(cache.IsInL1("user", "a") && cache.IsInL1("user", "c"), Is.True);
        cache.Clear("d");
        Assert.That(cache.IsInL1("user", "a") || cache.IsInL1("user", "c"), Is.False, "a clear empties L1 whole");
    }

    // ---- 3. disposal and registrations ----

    [Test]
    public void A_disposed_memory_cache_with_its_sweep_timer_running_becomes_collectible()
        => Assert.That(StaysReachable(static () =>
        {
            var cache = new SimpleMemoryCache { SweepInterval = TimeSpan.FromMilliseconds(50) };
            cache.Set("k", "v", TimeSpan.FromMinutes(1));
            cache.GetOrSet("g", _ => "v", new CacheEntryOptions { FailSafe = TimeSpan.FromMinutes(1), Tags = ["t"] });
            cache.Dispose();
            return cache;
        }), Is.False);

    [Test]
    public void A_disposed_node_of_a_backplane_that_lives_on_becomes_collectible()
    {
        var backplane = new MemoryBackplane();
        using var other = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache(), backplane);
        Assert.That(StaysReachable(() =>
        {
            var node = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache(), backplane);
            node.Set("k", "v");
            other.Set("k", "w");
            node.GetOrSet("g", _ => "v", new CacheEntryOptions { Tags = ["t"] });
            node.Dispose();
            return node;
        }), Is.False);
    }

    [Test]
    public void A_cache_replaced_through_SetConfig_is_collectible_after_its_grace()
    {
        var time = new FakeTimeProvider();
        Caches.TimeProvider = time;
        var config = new Dictionary<string, CacheConfig> { ["default"] = new() { Cache = "Cached.SimpleMemoryCache" } };
        Caches.SetConfig(config);
        Assert.That(StaysReachable(() =>
        {
            var replaced = Caches.Get();
            replaced.Set("k", "v");
            Caches.SetConfig(config);
            time.Advance(Caches.ReplacedInstanceGrace + TimeSpan.FromSeconds(1));
            return replaced;
        }), Is.False);
    }

    [Test]
    public void A_cache_replaced_through_AddInstance_and_disposed_is_collectible()
    {
        Assert.That(StaysReachable(static () =>
        {
            var replaced = new SimpleMemoryCache();
            Caches.AddInstance("leaks", replaced);
            Caches.Get("leaks").Set("k", "v");
            Caches.AddInstance("leaks", new SimpleMemoryCache());
            replaced.Dispose();
            return replaced;
        }), Is.False);
    }

    [TestCase(0, false)]
    [TestCase(0, true)]
    [TestCase(1, false)]
    [TestCase(1, true)]
    [TestCase(2, false)]
    [TestCase(2, true)]
    [TestCase(3, false)]
    [TestCase(3, true)]
    public async Task A_long_lived_callers_token_carries_no_registration_after_many_calls(int kind, bool remote)
    {
        using var store = remote ? new GatedBackend { Yield = true } : (BaseCache)new SimpleMemoryCache();
        using var source = new CancellationTokenSource();
        var method = MethodOn(store);
        var resilient = MethodOn(store, failSafe: 600);
        var options = new CacheEntryOptions { SoftTimeout = TimeSpan.FromSeconds(5) };
        for (var i = 0; i < 25_000; i++)
        {
            var key = Key(i % 5_000);
            switch (kind)
            {
                case 0:
                    await method.InvokeAsync(key, 0, static async (_, _) => { await Task.Yield(); return "v"; }, null, source.Token);
                    break;
                case 1:
                    await resilient.InvokeAsync(key, 0, static (_, _) => ValueTask.FromResult("v"), null, source.Token);
                    break;
                case 2:
                    await store.GetOrSetAsync(key, static _ => ValueTask.FromResult("v"), options, cancellationToken: source.Token);
                    break;
                default:
                    await store.SetAsync(key, "v", cancellationToken: source.Token);
                    await store.GetAsync<string>(key, cancellationToken: source.Token);
                    break;
            }
        }

        var stopping = (CancellationTokenSource)Field(ReadThroughs.Of(store).Background, "_stopping")!;
        await SettleAsync(() => Registrations(source) == 0 && Registrations(stopping) == 0);
        Assert.That(Registrations(source), Is.Zero, "the caller's token");
        Assert.That(Registrations(stopping), Is.Zero, "the cache's stopping token");
    }

    // ---- 4. timers ----

    [Test]
    public async Task A_cache_with_a_timeout_leaves_no_timer_behind_after_a_hundred_thousand_slow_commands()
    {
        using var cache = new GatedBackend { Yield = true, Timeout = TimeSpan.FromSeconds(5) };
        var method = MethodOn(cache);
        await cache.SetAsync("warm", "v");
        var before = Timer.ActiveCount;
        for (var i = 0; i < 25_000; i++)
        {
            await cache.SetAsync(Key(i), "v");
            await cache.GetAsync<string>(Key(i));
            await cache.TryGetAsync<string>(Key(i));
            await method.InvokeAsync("m" + Key(i), 0, static (_, _) => ValueTask.FromResult("v"), null, CancellationToken.None);
        }

        Assert.That(Timer.ActiveCount - before, Is.LessThanOrEqualTo(4));
    }
}
