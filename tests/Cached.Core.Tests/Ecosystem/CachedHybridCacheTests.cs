using Cached.Distributed;
using Cached.Hybrid;
using Cached.MultiLevel;
using Cached.Tests.Runtime;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Ecosystem;

/// <summary>What HybridCache's options become on Cached's caches: expiries, the two levels and their flags, defaults, faults.</summary>
public sealed class CachedHybridCacheTests
{
    private FakeTimeProvider _time = null!;
    private MultiLevelCache _twoLevels = null!;

    [SetUp]
    public void Create()
    {
        _time = new FakeTimeProvider();
        _twoLevels = new MultiLevelCache(new SimpleMemoryCache { TimeProvider = _time }, new SimpleMemoryCache { TimeProvider = _time }, new MemoryBackplane());
    }

    [TearDown]
    public void Dispose()
    {
        _twoLevels.Dispose();
        Caches.Reset();
        CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
    }

    /// <remarks>
    /// Not in <see cref="HybridCacheContractTests"/>: Microsoft's implementation throws from <c>GetOrCreateAsync</c>
    /// itself and lets <c>SetAsync</c>, <c>RemoveAsync</c> and <c>RemoveByTagAsync</c> complete (measured with
    /// Microsoft.Extensions.Caching.Hybrid 10.0.0). Code that awaits the call sees the same exception on both.
    /// </remarks>
    [TestCase(false)]
    [TestCase(true)]
    public async Task Every_async_method_with_a_cancelled_token_returns_a_cancelled_task_and_writes_nothing(bool twoLevels)
    {
        using var memory = new SimpleMemoryCache { TimeProvider = _time };
        ICache backing = twoLevels ? _twoLevels : memory;

        var swept = await Cached.Tests.Commands.CancelledCalls.AssertEveryAsyncMethodReturnsACancelledTask(backing.AsHybridCache(), typeof(HybridCache));

        Assert.That(swept, Has.Some.StartsWith("GetOrCreateAsync").And.Some.StartsWith("SetAsync").And.Some.StartsWith("RemoveByTagAsync"));
        Assert.That(backing.Exists("cancelled-call"), Is.False);

        // A key that is not cached (blank) takes another path to the factory: the same answer.
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var uncached = default(ValueTask<int>);
        Assert.DoesNotThrow(() => uncached = backing.AsHybridCache().GetOrCreateAsync(" ", static _ => ValueTask.FromResult(1), cancellationToken: cancelled.Token));
        Assert.That(uncached.IsCanceled, Is.True);
        Assert.That(backing.AsHybridCache().SetAsync(" ", 1, cancellationToken: cancelled.Token).IsCanceled, Is.True);
        Assert.That(backing.AsHybridCache().RemoveAsync(" ", cancelled.Token).IsCanceled, Is.True);
        Assert.That(backing.AsHybridCache().RemoveByTagAsync(" ", cancelled.Token).IsCanceled, Is.True);
    }

    [Test]
    public async Task Expiration_is_the_entry_time_to_live()
    {
        using var memory = new SimpleMemoryCache { TimeProvider = _time };
        var hybrid = memory.AsHybridCache();
        await hybrid.SetAsync("k", 1, new HybridCacheEntryOptions { Expiration = TimeSpan.FromSeconds(10) });

        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.That(memory.Get<int>("k"), Is.EqualTo(1));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(memory.Exists("k"), Is.False);
    }

    [Test]
    public async Task Without_an_expiration_the_default_entry_options_and_then_the_cache_decide()
    {
        using var memory = new SimpleMemoryCache { TimeProvider = _time, Ttl = TimeSpan.FromSeconds(30) };
        var byCache = memory.AsHybridCache();
        var byDefaults = memory.AsHybridCache(new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(5) });
        await byCache.GetOrCreateAsync("cache", ct => ValueTask.FromResult(1));
        await byDefaults.GetOrCreateAsync("defaults", ct => ValueTask.FromResult(2));

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.That(memory.Exists("defaults"), Is.False);
        Assert.That(memory.Exists("cache"), Is.True);
        _time.Advance(TimeSpan.FromSeconds(25));
        Assert.That(memory.Exists("cache"), Is.False);
    }

    [Test]
    public async Task LocalCacheExpiration_bounds_the_L1_copy_and_leaves_L2_alone()
    {
        var hybrid = _twoLevels.AsHybridCache();
        var options = new HybridCacheEntryOptions { Expiration = TimeSpan.FromMinutes(10), LocalCacheExpiration = TimeSpan.FromSeconds(2) };
        await hybrid.GetOrCreateAsync("k", ct => ValueTask.FromResult("v"), options);

        Assert.That(_twoLevels.L1.Exists("k"), Is.True);
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.That(_twoLevels.L1.Exists("k"), Is.False, "the L1 copy lived its LocalCacheExpiration");
        Assert.That(_twoLevels.L2.Get<string>("k"), Is.EqualTo("v"));
        Assert.That(await hybrid.GetOrCreateAsync("k", ct => ValueTask.FromResult("recomputed"), options), Is.EqualTo("v"), "L2 answered");
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.That(_twoLevels.L1.Exists("k"), Is.False, "the copy made from L2 had the same bound");
    }

    [Test]
    public async Task A_bound_of_one_call_does_not_reach_the_next()
    {
        await _twoLevels.GetOrSetAsync("bounded", _ => ValueTask.FromResult(1), new CacheEntryOptions { LocalTtl = TimeSpan.FromSeconds(1) });
        await _twoLevels.SetAsync("free", 2, TimeSpan.FromMinutes(10));

        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.That(_twoLevels.L1.Exists("bounded"), Is.False);
        Assert.That(_twoLevels.L1.Exists("free"), Is.True);
    }

    [Test]
    public async Task Two_calls_in_flight_at_once_keep_their_own_L1_bounds()
    {
        var shortGate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var longGate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var shortCall = _twoLevels.GetOrSetAsync("short", async _ => await shortGate.Task, new CacheEntryOptions { LocalTtl = TimeSpan.FromSeconds(1) }).AsTask();
        var longCall = _twoLevels.GetOrSetAsync("long", async _ => await longGate.Task, new CacheEntryOptions { LocalTtl = TimeSpan.FromSeconds(60) }).AsTask();
        var unbounded = _twoLevels.GetOrSetAsync("free", _ => ValueTask.FromResult(3)).AsTask();

        // Both factories wait; the one started last finishes first, each on a thread-pool continuation.
        longGate.SetResult(2);
        await longCall;
        shortGate.SetResult(1);
        await Task.WhenAll(shortCall, unbounded);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.That(_twoLevels.L1.Exists("short"), Is.False);
        Assert.That(_twoLevels.L1.Exists("long"), Is.True);
        Assert.That(_twoLevels.L1.Exists("free"), Is.True);
    }

    [Test]
    public void A_caller_cancelled_while_its_factory_runs_on_the_step_by_step_path_stores_nothing()
    {
        using var memory = new SimpleMemoryCache();
        var hybrid = memory.AsHybridCache();
        using var cancel = new CancellationTokenSource();
        var noReads = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheRead };
        var call = hybrid.GetOrCreateAsync("k", async ct => { await Task.Delay(Timeout.Infinite, ct); return 1; }, noReads, cancellationToken: cancel.Token).AsTask();

        cancel.Cancel();

        Assert.That(async () => await call, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(memory.Exists("k"), Is.False);
    }

    [Test]
    public async Task DisableLocalCacheWrite_keeps_the_entry_out_of_L1_and_still_shares_it()
    {
        var hybrid = _twoLevels.AsHybridCache();
        var options = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheWrite };

        await hybrid.GetOrCreateAsync("k", ct => ValueTask.FromResult(7), options);

        Assert.That(_twoLevels.L1.Exists("k"), Is.False);
        Assert.That(_twoLevels.L2.Get<int>("k"), Is.EqualTo(7));
    }

    [Test]
    public async Task DisableDistributedCacheWrite_keeps_the_entry_in_this_node_only()
    {
        var hybrid = _twoLevels.AsHybridCache();
        var options = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableDistributedCacheWrite };

        await hybrid.GetOrCreateAsync("k", ct => ValueTask.FromResult(7), options);

        Assert.That(_twoLevels.L2.Exists("k"), Is.False);
        Assert.That(_twoLevels.L1.Get<int>("k"), Is.EqualTo(7));
        Assert.That(await hybrid.GetOrCreateAsync("k", ct => ValueTask.FromResult(8)), Is.EqualTo(7), "read from L1");
    }

    // expiration, local expiration, the L2 cache's Ttl, the two-level cache's L1Ttl (seconds, 0 for unset): the L1-only
    // copy lives the shortest of those that are set.
    [TestCase(60, 10, 0, 0, 10)]
    [TestCase(10, 60, 0, 0, 10)]
    [TestCase(0, 0, 20, 0, 20)]
    [TestCase(0, 30, 20, 0, 20)]
    [TestCase(60, 0, 0, 15, 15)]
    public async Task DisableDistributedCacheWrite_keeps_the_copy_in_L1_for_the_shortest_life_it_was_given(int expiration, int local, int l2Ttl, int l1Ttl, int lives)
    {
        static TimeSpan? Seconds(int s) => s == 0 ? null : TimeSpan.FromSeconds(s);
        using var twoLevels = new MultiLevelCache(new SimpleMemoryCache { TimeProvider = _time }, new SimpleMemoryCache { TimeProvider = _time, Ttl = Seconds(l2Ttl) }, new MemoryBackplane())
        {
            L1Ttl = Seconds(l1Ttl),
        };
        var options = new HybridCacheEntryOptions
        {
            Flags = HybridCacheEntryFlags.DisableDistributedCacheWrite,
            Expiration = Seconds(expiration),
            LocalCacheExpiration = Seconds(local),
        };

        await twoLevels.AsHybridCache().GetOrCreateAsync("k", ct => ValueTask.FromResult(7), options);

        Assert.That(twoLevels.L2.Exists("k"), Is.False);
        _time.Advance(TimeSpan.FromSeconds(lives - 1));
        Assert.That(twoLevels.L1.Get<int>("k"), Is.EqualTo(7), "alive a second before its end");
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(twoLevels.L1.Exists("k"), Is.False, "gone at its end");
    }

    [Test]
    public async Task DisableLocalCacheRead_reads_L2_past_an_L1_copy()
    {
        var hybrid = _twoLevels.AsHybridCache();
        await _twoLevels.SetAsync("k", 1);
        _twoLevels.L2.Set("k", 2);

        var options = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheRead };

        Assert.That(await hybrid.GetOrCreateAsync("k", ct => ValueTask.FromResult(3)), Is.EqualTo(1), "L1 first");
        Assert.That(await hybrid.GetOrCreateAsync("k", ct => ValueTask.FromResult(3), options), Is.EqualTo(2), "L2 only");
    }

    [Test]
    public async Task DisableDistributedCacheRead_answers_from_L1_or_calls_the_factory()
    {
        var hybrid = _twoLevels.AsHybridCache();
        _twoLevels.L2.Set("in-l2", 1);
        var options = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableDistributedCacheRead };

        Assert.That(await hybrid.GetOrCreateAsync("in-l2", ct => ValueTask.FromResult(5), options), Is.EqualTo(5));
        Assert.That(_twoLevels.L2.Get<int>("in-l2"), Is.EqualTo(5), "the factory's value was written to both levels");
    }

    [Test]
    public async Task Flags_for_a_level_a_one_level_cache_lacks_change_nothing()
    {
        using var memory = new SimpleMemoryCache();
        var hybrid = memory.AsHybridCache();
        var options = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableDistributedCache | HybridCacheEntryFlags.DisableCompression };

        await hybrid.GetOrCreateAsync("k", ct => ValueTask.FromResult(1), options);

        Assert.That(memory.Get<int>("k"), Is.EqualTo(1), "a memory cache is the local level");
    }

    [Test]
    public async Task A_tagged_GetOrCreateAsync_does_not_answer_an_untagged_SetAsync_value_that_no_tag_could_remove([Values] bool twoLevels)
    {
        using var memory = new SimpleMemoryCache();
        var hybrid = twoLevels ? _twoLevels.AsHybridCache() : memory.AsHybridCache();
        await hybrid.SetAsync("k", 1);
        var calls = 0;

        var tagged = await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult(++calls + 1), tags: ["t"]);
        Assert.That((tagged, calls), Is.EqualTo((2, 1)), "the factory runs and its value replaces the untagged one");
        Assert.That(await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult(-1), tags: ["t"]), Is.EqualTo(2), "then a hit");

        await hybrid.RemoveByTagAsync("t");
        Assert.That(await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult(++calls + 1), tags: ["t"]), Is.EqualTo(3), "reached by its tag");
        Assert.That(await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult(-1)), Is.EqualTo(3), "a call without tags answers the tagged value");
    }

    [Test]
    public async Task The_tag_star_clears_only_the_cache_namespace()
    {
        using var memory = new SimpleMemoryCache { Namespace = "app" };
        var hybrid = memory.AsHybridCache();
        await hybrid.SetAsync("mine", 1);
        memory.Set("other", 2, @namespace: "elsewhere");

        await hybrid.RemoveByTagAsync("*");

        Assert.That(memory.Exists("mine"), Is.False);
        Assert.That(memory.Exists("other", "elsewhere"), Is.True);
    }

    [Test]
    public void The_tag_star_is_refused_on_a_shared_cache_without_a_namespace()
    {
        using var shared = new DistributedCacheBackend(new SwitchableStore());
        Assert.That(async () => await shared.AsHybridCache().RemoveByTagAsync("*"), Throws.InstanceOf<NotSupportedException>().With.Message.Contains("Namespace"));
    }

    [Test]
    public async Task The_tag_star_is_refused_on_a_shared_cache_whose_namespace_is_empty_which_is_none()
    {
        // Regression: only a null namespace was refused, and "" clears the whole store as null does.
        var shared = new TestBackend { Namespace = "" };
        shared.Set("other-app:precious", 1, @namespace: "");

        Assert.That(async () => await shared.AsHybridCache().RemoveByTagAsync("*"), Throws.InstanceOf<NotSupportedException>().With.Message.Contains("Namespace"));
        Assert.That(shared.Exists("other-app:precious", ""), Is.True);
    }

    [TestCase(0)]
    [TestCase(-1)]
    public void An_expiration_that_is_not_positive_is_refused_rather_than_kept_for_ever(int milliseconds)
    {
        // Regression: it became a time to live of zero (or infinite), which Cached reads as "never expires".
        using var memory = new SimpleMemoryCache { TimeProvider = _time };
        var hybrid = memory.AsHybridCache();
        var options = new HybridCacheEntryOptions { Expiration = TimeSpan.FromMilliseconds(milliseconds) };

        Assert.That(async () => await hybrid.GetOrCreateAsync("k", ct => ValueTask.FromResult(1), options), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("options"));
        Assert.That(async () => await hybrid.SetAsync("k", 1, options), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(memory.Exists("k"), Is.False);
    }

    [TestCase(" ")]
    [TestCase("*")]
    public void A_blank_tag_or_the_tag_star_on_an_entry_is_refused(string tag)
    {
        // Regression: both were taken; RemoveByTagAsync ignores a blank tag, so such an entry could never be removed by it.
        using var memory = new SimpleMemoryCache { TimeProvider = _time };
        var hybrid = memory.AsHybridCache();

        Assert.That(async () => await hybrid.GetOrCreateAsync("k", ct => ValueTask.FromResult(1), tags: [tag]), Throws.ArgumentException.With.Property("ParamName").EqualTo("tags"));
        Assert.That(async () => await hybrid.SetAsync("k", 1, tags: [tag]), Throws.ArgumentException.With.Property("ParamName").EqualTo("tags"));
        Assert.That(memory.Exists("k"), Is.False);
    }

    [Test]
    public async Task No_local_write_and_no_distributed_write_store_nothing_anywhere()
    {
        // Regression: LocalTtl zero became an L1 write with a time to live of zero, which means no expiry.
        var hybrid = _twoLevels.AsHybridCache(new CacheEntryOptions { LocalTtl = TimeSpan.Zero });
        var options = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableDistributedCacheWrite };

        Assert.That(await hybrid.GetOrCreateAsync("k", ct => ValueTask.FromResult(1), options), Is.EqualTo(1));

        Assert.That((_twoLevels.L1.Exists("k"), _twoLevels.L2.Exists("k")), Is.EqualTo((false, false)));
    }

    [Test]
    public async Task A_bound_on_one_two_level_cache_does_not_reach_another_called_from_its_factory()
    {
        using var other = new MultiLevelCache(new SimpleMemoryCache { TimeProvider = _time }, new SimpleMemoryCache { TimeProvider = _time }, new MemoryBackplane());
        await _twoLevels.GetOrSetAsync(
            "outer",
            async _ => await other.GetOrSetAsync("inner", _ => ValueTask.FromResult(2)),
            new CacheEntryOptions { LocalTtl = TimeSpan.Zero });

        Assert.That(_twoLevels.L1.Exists("outer"), Is.False, "the bound applies to its own cache");
        Assert.That(other.L1.Exists("inner"), Is.True, "and not to the other one");
    }

    [Test]
    public async Task A_cache_fault_on_the_step_by_step_path_is_logged_and_the_value_returned()
    {
        var logs = new RecordingLoggerFactory();
        CachedLogging.LoggerFactory = logs;
        using var failing = new DistributedCacheBackend(new UnreachableStore());
        var hybrid = failing.AsHybridCache();
        var options = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableDistributedCacheRead };

        Assert.That(await hybrid.GetOrCreateAsync("k", ct => ValueTask.FromResult(9), options), Is.EqualTo(9));
        Assert.That(logs.Entries.Select(static e => e.Message), Has.Some.Contains("Cache write failed for key 'k'"));
    }

    [Test]
    public async Task AddHybridCache_replaces_Microsofts_registration_in_either_order()
    {
        foreach (var microsoftFirst in new[] { true, false })
        {
            Caches.Reset();
            var services = new ServiceCollection();
            if (microsoftFirst)
            {
                services.AddHybridCache();
            }

            services.AddCached(cached => cached.AddCache("default", _twoLevels).AddHybridCache());
            if (!microsoftFirst)
            {
                services.AddHybridCache();
            }

            await using var provider = services.BuildServiceProvider();
            var hybrid = provider.GetRequiredService<HybridCache>();
            Assert.That(hybrid, Is.InstanceOf<CachedHybridCache>().With.Property(nameof(CachedHybridCache.Cache)).SameAs(_twoLevels));
        }
    }

    [Test]
    public async Task Resolving_it_refuses_HybridCacheOptions_it_would_ignore_in_either_order()
    {
        // Regression: MaximumKeyLength and the default entry options set this way were silently dropped.
        foreach (var microsoftFirst in new[] { true, false })
        {
            Caches.Reset();
            var services = new ServiceCollection();
            if (microsoftFirst)
            {
                services.AddHybridCache(options => options.MaximumKeyLength = 4096);
            }

            services.AddCached(cached => cached.AddCache("default", _twoLevels).AddHybridCache());
            if (!microsoftFirst)
            {
                services.AddHybridCache(options => options.DefaultEntryOptions = new() { Expiration = TimeSpan.FromSeconds(1) });
            }

            await using var provider = services.BuildServiceProvider();
            var refused = Assert.Throws<CacheConfigurationException>(() => provider.GetRequiredService<HybridCache>());
            Assert.That(refused!.Message, Does.Contain("HybridCacheOptions").And.Contain("AddHybridCache(alias, defaultEntryOptions)"));
        }
    }

    [Test]
    public async Task Resolving_it_refuses_a_HybridCache_serializer_it_would_ignore()
    {
        var services = new ServiceCollection();
        services.AddHybridCache().AddSerializer<int, IntAsText>();
        services.AddCached(cached => cached.AddCache("default", _twoLevels).AddHybridCache());

        await using var provider = services.BuildServiceProvider();
        Assert.That(() => provider.GetRequiredService<HybridCache>(), Throws.InstanceOf<CacheConfigurationException>().With.Message.Contains("IHybridCacheSerializer<Int32>"));
    }

    private sealed class IntAsText : IHybridCacheSerializer<int>
    {
        public int Deserialize(System.Buffers.ReadOnlySequence<byte> source) => int.Parse(System.Text.Encoding.UTF8.GetString(System.Buffers.BuffersExtensions.ToArray(source)), System.Globalization.CultureInfo.InvariantCulture);

        public void Serialize(int value, System.Buffers.IBufferWriter<byte> target) => System.Buffers.BuffersExtensions.Write(target, System.Text.Encoding.UTF8.GetBytes(value.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public void Bad_arguments_are_refused_naming_them()
    {
        using var memory = new SimpleMemoryCache();
        var hybrid = memory.AsHybridCache();

        Assert.That(() => new CachedHybridCache(null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("cache"));
        Assert.That(async () => await hybrid.GetOrCreateAsync<int, int>("k", 0, null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("factory"));
        Assert.That(async () => await hybrid.RemoveAsync((string)null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("key"));
        Assert.That(() => new CachedHybridCache(memory) { MaximumKeyLength = 0 }, Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("value"));
        Assert.That(() => new CacheEntryOptions { LocalTtl = TimeSpan.FromSeconds(-1) }, Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("LocalTtl"));
    }

}
