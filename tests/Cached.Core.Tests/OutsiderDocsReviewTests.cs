using Cached.Plugins;
using Cached.Serializers;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests;

/// <summary>
/// An outside review of README.md and docs/*.md: each test checks one sentence of the docs, quoted in its comment,
/// on the memory backend, where no neighbouring test checks it directly.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderDocsReviewTests
{
    private readonly FakeTimeProvider _time = new();

    [SetUp]
    public void SetUp() => Caches.Reset();

    [TearDown]
    public void TearDown()
    {
        Caches.Reset();
        Cache.Disabled = false;
    }

    private SimpleMemoryCache NewCache(TimeSpan? ttl = null, string? @namespace = null)
        => new() { TimeProvider = _time, Ttl = ttl, Namespace = @namespace };

    // ---- Expire ----

    // docs/caches.md, Arguments: "`ttl`: `null` means the cache's `Ttl`; `TimeSpan.Zero` or `Timeout.InfiniteTimeSpan`
    // means no expiry". Expire takes a ttl like every other command.
    [Test]
    public void Expire_with_InfiniteTimeSpan_removes_the_expiry()
    {
        using var cache = NewCache();
        cache.Set("k", "v", TimeSpan.FromSeconds(10));

        Assert.That(cache.Expire("k", Timeout.InfiniteTimeSpan), Is.True);
        _time.Advance(TimeSpan.FromHours(1));
        Assert.That(cache.Exists("k"), Is.True, "Timeout.InfiniteTimeSpan means no expiry");
    }

    // docs/caches.md, Arguments: "any other negative span throws `ArgumentOutOfRangeException`";
    // docs/reliability.md: "negative TTL | `ArgumentOutOfRangeException` (`"ttl"`), nothing written".
    [Test]
    public void Expire_with_a_negative_ttl_throws_naming_ttl_and_keeps_the_expiry()
    {
        using var cache = NewCache();
        cache.Set("k", "v", TimeSpan.FromSeconds(10));

        var thrown = Assert.Throws<ArgumentOutOfRangeException>(() => cache.Expire("k", TimeSpan.FromSeconds(-1)));
        Assert.That(thrown!.ParamName, Is.EqualTo("ttl"));
        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.That(cache.Exists("k"), Is.True);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(cache.Exists("k"), Is.False, "the old expiry is kept");
    }

    // docs/caches.md: "Every backend rounds a TTL up to a whole millisecond (Redis's resolution), so `0.5 ms` means
    // 1 ms everywhere." Checked here for Expire, and for a span just over a millisecond.
    [Test]
    public void Expire_rounds_a_sub_millisecond_ttl_up_to_one_millisecond()
    {
        using var cache = NewCache();
        cache.Set("k", "v");

        Assert.That(cache.Expire("k", TimeSpan.FromTicks(TimeSpan.TicksPerMillisecond / 2)), Is.True);
        _time.Advance(TimeSpan.FromTicks(TimeSpan.TicksPerMillisecond - 1));
        Assert.That(cache.Exists("k"), Is.True);
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.That(cache.Exists("k"), Is.False);
    }

    [Test]
    public void A_ttl_of_one_point_two_milliseconds_lives_two_milliseconds()
    {
        using var cache = NewCache();
        cache.Set("k", "v", TimeSpan.FromTicks(12_000));

        _time.Advance(TimeSpan.FromTicks(19_999));
        Assert.That(cache.Exists("k"), Is.True, "1.2 ms rounds up to 2 ms");
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.That(cache.Exists("k"), Is.False);
    }

    // docs/caches.md: "`Expire(key, ttl)` | `true` if the key exists"; "`Exists(key)` | `bool` | True for a stored `null`."
    [Test]
    public void Expire_on_a_stored_null_answers_true()
    {
        using var cache = NewCache();
        cache.Set<string?>("k", null);

        Assert.That(cache.Expire("k", TimeSpan.FromSeconds(1)), Is.True);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(cache.Exists("k"), Is.False);
    }

    // docs/caches.md: "`Expire(key, ttl)` | `true` if the key exists"; "Expired entries are invisible at once".
    [Test]
    public void Expire_on_an_expired_key_answers_false_and_does_not_revive_it()
    {
        using var cache = NewCache();
        cache.Set("k", "v", TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.That(cache.Expire("k", TimeSpan.Zero), Is.False);
        Assert.That(cache.Exists("k"), Is.False);
    }

    // ---- TTL over a cache Ttl, on every write ----

    // docs/caches.md: "`TimeSpan.Zero` or `Timeout.InfiniteTimeSpan` means no expiry (even over a cache `Ttl`, like
    // aiocache's explicit `ttl=None`)". The neighbouring tests check Set; here Add and MultiSet.
    [Test]
    public void Add_and_MultiSet_with_zero_or_infinite_ttl_keep_entries_past_the_cache_ttl()
    {
        using var cache = NewCache(ttl: TimeSpan.FromSeconds(1));
        cache.Add("added-zero", 1, TimeSpan.Zero);
        cache.Add("added-infinite", 1, Timeout.InfiniteTimeSpan);
        cache.MultiSet(new Dictionary<string, int> { ["multi-zero"] = 1 }, TimeSpan.Zero);
        cache.MultiSet(new Dictionary<string, int> { ["multi-infinite"] = 1 }, Timeout.InfiniteTimeSpan);
        cache.Add("added-default", 1);

        _time.Advance(TimeSpan.FromMinutes(5));

        Assert.Multiple(() =>
        {
            Assert.That(cache.Exists("added-zero"), Is.True);
            Assert.That(cache.Exists("added-infinite"), Is.True);
            Assert.That(cache.Exists("multi-zero"), Is.True);
            Assert.That(cache.Exists("multi-infinite"), Is.True);
            Assert.That(cache.Exists("added-default"), Is.False, "no ttl means the cache's Ttl");
        });
    }

    // docs/reliability.md: "huge TTL (`TimeSpan.MaxValue`, a century) | kept; never overflows into an expiry in the past".
    // Checked on Expire and MultiSet, the writes the neighbouring tests do not take it through.
    [Test]
    public void Expire_and_MultiSet_with_TimeSpan_MaxValue_never_expire_in_the_past()
    {
        using var cache = NewCache();
        cache.Set("k", "v");
        Assert.That(cache.Expire("k", TimeSpan.MaxValue), Is.True);
        cache.MultiSet(new Dictionary<string, string> { ["m"] = "v" }, TimeSpan.MaxValue);
        _time.Advance(TimeSpan.FromDays(365 * 100));

        Assert.That(cache.Exists("k"), Is.True);
        Assert.That(cache.Exists("m"), Is.True);
    }

    // ---- Increment ----

    // docs/caches.md: "`CacheValueNotIntegerException` for a value that is not an integer"; docs/reliability.md:
    // "`Increment` on a non-integer ... `CacheValueNotIntegerException`, the stored value unchanged". A stored null is
    // a value (README: "a stored `null` is not a miss"), so it does not start at 0.
    [Test]
    public void Increment_on_a_stored_null_throws_CacheValueNotIntegerException_and_keeps_the_null()
    {
        using var cache = NewCache();
        cache.Set<string?>("k", null);

        Assert.Throws<CacheValueNotIntegerException>(() => cache.Increment("k"));
        Assert.That(cache.TryGet<string>("k", out var value), Is.True);
        Assert.That(value, Is.Null);
    }

    // docs/caches.md: "`Increment(key, delta = 1)` | the new value | A missing key starts at 0."
    [Test]
    public void Increment_by_a_negative_delta_on_a_missing_key_starts_at_zero()
    {
        using var cache = NewCache();
        Assert.That(cache.Increment("k", -5), Is.EqualTo(-5));
        Assert.That(cache.Increment("k", 0), Is.EqualTo(-5));
    }


    // ---- Namespaces and Clear ----

    // docs/caches.md: "`namespace` on a command replaces the cache's `Namespace`; `""` means no namespace." and
    // "`Clear()` ... on a cache with no namespace it removes everything in the store." (docs/redis.md: "`Clear("")`
    // still empties the database").
    [Test]
    public void Clear_with_an_empty_namespace_on_a_namespaced_cache_removes_everything()
    {
        using var cache = NewCache(@namespace: "users");
        cache.Set("a", 1);
        cache.Set("b", 2, @namespace: "drafts");
        cache.Set("c", 3, @namespace: "");

        Assert.That(cache.Clear(""), Is.True);

        Assert.Multiple(() =>
        {
            Assert.That(cache.Exists("a"), Is.False);
            Assert.That(cache.Exists("b", @namespace: "drafts"), Is.False);
            Assert.That(cache.Exists("c", @namespace: ""), Is.False);
        });
    }

    // docs/redis.md: "`Clear(ns)` with a custom `KeyBuilder` | refused with `NotSupportedException` ... (the memory
    // backend, which remembers each entry's namespace, clears them)".
    [Test]
    public void Clear_of_a_namespace_under_a_custom_KeyBuilder_works_on_the_memory_backend()
    {
        using var cache = new SimpleMemoryCache { TimeProvider = _time, KeyBuilder = (key, ns) => $"{key}@{ns}" };
        cache.Set("a", 1, @namespace: "users");
        cache.Set("b", 2, @namespace: "drafts");

        Assert.That(cache.Clear("users"), Is.True);
        Assert.That(cache.Exists("a", @namespace: "users"), Is.False);
        Assert.That(cache.Exists("b", @namespace: "drafts"), Is.True);
    }

    // docs/redis.md: "a key written without a namespace whose text starts with `user:` is, on Redis, the same key as
    // one of namespace `user`: `Clear("user")` removes it, as the memory backend's does". (It kept it once, while
    // Get("1", namespace: "user") still read it: an outside review of the memory backend.)
    [Test]
    public void Clear_of_a_namespace_removes_an_unnamespaced_key_that_is_one_of_its_keys()
    {
        using var cache = NewCache();
        cache.Set("user:1", "plain");
        cache.Set("user", "not in it");

        cache.Clear("user");

        Assert.That(cache.Get<string>("user:1"), Is.Null);
        Assert.That(cache.Get<string>("user"), Is.EqualTo("not in it"));
    }

    // docs/caches.md: "so no two namespaced (namespace, key) pairs share a backend key. A key without a namespace is the
    // backend key itself, as in aiocache, so `Set("user:1")` and `Set("1", namespace: "user")` are one entry on every
    // backend." The reviewer found the earlier sentence ("no two (namespace, key) pairs") overclaimed; the docs now say
    // what both backends do, and this checks it on the memory backend.
    [Test]
    public void An_unnamespaced_key_and_the_namespaced_key_it_reads_as_are_one_entry_as_in_aiocache()
    {
        using var cache = NewCache();
        cache.Set("user:1", "plain");
        cache.Set("1", "namespaced", @namespace: "user");

        Assert.That(cache.Get<string>("user:1"), Is.EqualTo("namespaced"));
        Assert.That(cache.Get<string>("1", @namespace: "user"), Is.EqualTo("namespaced"));
        cache.Set("b", "a:", @namespace: "a:");
        cache.Set(":b", "a", @namespace: "a");
        Assert.That(cache.Get<string>("b", @namespace: "a:"), Is.EqualTo("a:"), "two namespaced pairs never meet");
        Assert.That(cache.Get<string>(":b", @namespace: "a"), Is.EqualTo("a"));
    }

    // ---- MultiTryGet ----

    // docs/caches.md: "`MultiTryGet<T>(keys)` | a `CacheResult<T>` per key | `Found` tells a miss from a stored `null`,
    // key by key." and for MultiGet "Duplicates kept".
    [Test]
    public async Task MultiTryGet_tells_a_stored_null_from_a_miss_key_by_key_in_order_with_duplicates()
    {
        using var cache = NewCache();
        cache.Set<string?>("null", null);
        cache.Set("value", "v");

        string[] keys = ["value", "missing", "null", "value"];
        foreach (var results in new[] { cache.MultiTryGet<string>(keys), await cache.MultiTryGetAsync<string>(keys) })
        {
            Assert.That(results.Select(r => r.Found), Is.EqualTo(new[] { true, false, true, true }));
            Assert.That(results.Select(r => r.Value), Is.EqualTo(new[] { "v", null, null, "v" }));
        }
    }

    // ---- Plugins ----

    // docs/plugins.md: "`HitMissRatioPlugin`: ... over `Get`/`TryGet` (one key each) and `MultiGet` (per key)."
    // A duplicate in MultiGet is a key of the request ("one result per requested key, in order, duplicates included").
    [Test]
    public void HitMissRatio_counts_each_requested_key_of_a_MultiGet_duplicates_included()
    {
        var ratio = new HitMissRatioPlugin();
        using var cache = new SimpleMemoryCache { TimeProvider = _time, Plugins = [ratio] };
        cache.Set("a", 1);

        cache.MultiGet<int>(["a", "a", "b", "b", "b"]);

        Assert.That(ratio.Hits, Is.EqualTo(2));
        Assert.That(ratio.Misses, Is.EqualTo(3));
        Assert.That(ratio.Total, Is.EqualTo(5));
    }

    // docs/plugins.md: "A hook that throws stops the hooks after it, and its exception reaches the caller as it is: ...
    // from a post hook, after it succeeded (a write is made, and counted as made)." Async twin.
    [Test]
    public void A_post_hook_that_throws_on_SetAsync_reaches_the_caller_and_the_write_is_made()
    {
        var after = new CountingPlugin();
        using var cache = new SimpleMemoryCache { TimeProvider = _time, Plugins = [new ThrowingPostPlugin(), after] };

        var thrown = Assert.ThrowsAsync<InvalidOperationException>(async () => await cache.SetAsync("k", "v"));
        Assert.That(thrown!.Message, Is.EqualTo("post"));
        Assert.That(cache.Get<string>("k"), Is.EqualTo("v"), "the write is made");
        Assert.That(after.Posts, Is.EqualTo(1), "only the Get above reached the second plugin's post hook");
    }

    private sealed class ThrowingPostPlugin : ICachePlugin
    {
        public void Pre(CacheCommandContext context)
        {
        }

        public void Post(CacheCommandContext context)
        {
            if (context.Command == CacheCommand.Set)
            {
                throw new InvalidOperationException("post");
            }
        }
    }

    private sealed class CountingPlugin : ICachePlugin
    {
        public int Posts { get; private set; }

        public void Pre(CacheCommandContext context)
        {
        }

        public void Post(CacheCommandContext context) => Posts++;
    }

    // ---- Counters, Add and Delete over expired or null entries ----

    // docs/caches.md: "A missing key starts at 0." and "Expired entries are invisible at once". A counter whose entry
    // has expired starts again at 0, and the new counter is not born expired.
    [Test]
    public void Increment_over_an_expired_entry_starts_at_zero_and_the_counter_stays()
    {
        using var cache = NewCache();
        cache.Set("c", 5L, TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.That(cache.Increment("c"), Is.EqualTo(1));
        Assert.That(cache.Exists("c"), Is.True);
        _time.Advance(TimeSpan.FromDays(1));
        Assert.That(cache.Get<long>("c"), Is.EqualTo(1), "the expired entry's expiry is not the new counter's");
    }

    // docs/caches.md: "`Add(key, value, ttl?)` | `true` | `KeyExistsException` when the key holds a value; the stored
    // value is left alone." A stored null is a value ("A stored `null` is returned as `null`, not replaced").
    [Test]
    public void Add_over_a_stored_null_throws_KeyExistsException_and_keeps_the_null()
    {
        using var cache = NewCache();
        cache.Set<string?>("k", null);

        Assert.Throws<KeyExistsException>(() => cache.Add("k", "new"));
        Assert.That(cache.TryGet<string>("k", out var value), Is.True);
        Assert.That(value, Is.Null);
    }

    // docs/caches.md: "`Delete(key)` | entries removed (0 or 1)" and "Expired entries are invisible at once".
    [Test]
    public void Delete_of_an_expired_entry_counts_nothing()
    {
        using var cache = NewCache();
        cache.Set("k", "v", TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.That(cache.Delete("k"), Is.EqualTo(0));
    }

    // docs/caches.md: "`MultiGet<T>(keys)` | a list in input order | Duplicates kept; `default` for each miss." and
    // "`Get<T>(key, default?)` ... A stored `null` is returned as `null`". An expired entry is a miss.
    [Test]
    public void MultiGet_answers_null_for_a_stored_null_and_default_for_an_expired_entry()
    {
        using var cache = NewCache();
        cache.Set<int?>("null", null);
        cache.Set<int?>("short", 3, TimeSpan.FromSeconds(1));
        cache.Set<int?>("long", 4);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.That(cache.MultiGet<int?>(["long", "short", "null", "long"]), Is.EqualTo(new int?[] { 4, null, null, 4 }));
        Assert.That(cache.MultiTryGet<int?>(["short", "null"]).Select(r => r.Found), Is.EqualTo(new[] { false, true }));
    }

    // docs/caches.md: "`Set(key, value, ttl?)` ... Replaces the value and restarts its expiry" and "`TimeSpan.Zero` or
    // `Timeout.InfiniteTimeSpan` means no expiry". MultiSet does the same for every pair.
    [Test]
    public void MultiSet_without_a_ttl_removes_the_expiry_of_an_existing_entry()
    {
        using var cache = NewCache();
        cache.Set("a", 1, TimeSpan.FromSeconds(1));
        cache.MultiSet(new Dictionary<string, int> { ["a"] = 2 });
        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.That(cache.Get<int>("a"), Is.EqualTo(2));
    }

    // docs/caches.md: "`Timeout` (5 s unless set, `null` or zero for none)" and docs/usage.md: "async commands fail
    // with TimeoutException past 1 s". Timeout.InfiniteTimeSpan is the framework's usual "none"; a negative other span
    // should not silently mean something else.
    [Test]
    public void Timeout_accepts_null_zero_and_refuses_a_negative_span()
    {
        Assert.That(new SimpleMemoryCache { Timeout = null }.Timeout, Is.Null);
        Assert.DoesNotThrow(() => _ = new SimpleMemoryCache { Timeout = TimeSpan.Zero });
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SimpleMemoryCache { Timeout = TimeSpan.FromSeconds(-2) });
    }

    // ---- Cancellation ----

    // docs/caches.md: "A token that is already cancelled comes back in the task ...: the call returns a cancelled task
    // and does nothing (a bad argument still throws from the call)."
    // Literal reading: the cancellation "comes back in the task", the bad argument "throws from the call".
    // docs/caches.md: "A bad argument (a null or empty key, a negative TTL) fails the returned task with its
    // `ArgumentException` whatever the token, as an `async` method's would, never with a cancellation." The reviewer
    // read the earlier "a bad argument still throws from the call", which the code never did but for TryGetAsync; the
    // docs now say what the code does, and TryGetAsync does it too.
    [Test]
    public void A_bad_argument_with_a_cancelled_token_fails_the_returned_task()
    {
        var outcomes = BadArgumentOutcomes();
        Assert.That(outcomes.Where(o => o.Value != "faulted task"), Is.Empty, "where each ArgumentException surfaced");
    }

    // Lenient reading: whatever the place, the caller sees the ArgumentException, never a cancellation.
    [Test]
    public void A_bad_argument_with_a_cancelled_token_is_an_ArgumentException_not_a_cancellation()
    {
        var outcomes = BadArgumentOutcomes();
        Assert.That(outcomes.Where(o => o.Value is not ("thrown from the call" or "faulted task")), Is.Empty);
    }

    private Dictionary<string, string> BadArgumentOutcomes()
    {
        using var cache = NewCache();
        var cancelled = new CancellationToken(canceled: true);
        var negative = TimeSpan.FromSeconds(-1);
        var calls = new (string Name, Func<ValueTask> Call)[]
        {
            ("GetAsync(null key)", () => AsTask(cache.GetAsync<int>(null!, cancellationToken: cancelled))),
            ("TryGetAsync(null key)", () => AsTask(cache.TryGetAsync<int>(null!, cancellationToken: cancelled))),
            ("ExistsAsync(empty key)", () => AsTask(cache.ExistsAsync("", cancellationToken: cancelled))),
            ("SetAsync(empty key)", () => AsTask(cache.SetAsync("", 1, cancellationToken: cancelled))),
            ("SetAsync(negative ttl)", () => AsTask(cache.SetAsync("k", 1, negative, cancellationToken: cancelled))),
            ("AddAsync(negative ttl)", () => AsTask(cache.AddAsync("k", 1, negative, cancellationToken: cancelled))),
            ("ExpireAsync(negative ttl)", () => AsTask(cache.ExpireAsync("k", negative, cancellationToken: cancelled))),
            ("MultiSetAsync(negative ttl)", () => AsTask(cache.MultiSetAsync(new Dictionary<string, int> { ["k"] = 1 }, negative, cancellationToken: cancelled))),
            ("MultiGetAsync(empty key)", () => AsTask(cache.MultiGetAsync<int>([""], cancellationToken: cancelled))),
            ("MultiGetAsync(null keys)", () => AsTask(cache.MultiGetAsync<int>(null!, cancellationToken: cancelled))),
            ("MultiTryGetAsync(null key)", () => AsTask(cache.MultiTryGetAsync<int>([null!], cancellationToken: cancelled))),
            ("MultiSetAsync(null pairs)", () => AsTask(cache.MultiSetAsync<int>(null!, cancellationToken: cancelled))),
            ("MultiSetAsync(null key in a pair)", () => AsTask(cache.MultiSetAsync([KeyValuePair.Create<string, int>(null!, 1)], cancellationToken: cancelled))),
            ("MultiSetAsync(empty key in a pair)", () => AsTask(cache.MultiSetAsync([KeyValuePair.Create("", 1)], cancellationToken: cancelled))),
            ("RawAsync(blank command)", () => AsTask(cache.RawAsync(" ", cancellationToken: cancelled))),
        };

        var outcomes = new Dictionary<string, string>();
        foreach (var (name, call) in calls)
        {
            ValueTask task;
            try
            {
                task = call();
            }
            catch (ArgumentException)
            {
                outcomes[name] = "thrown from the call";
                continue;
            }

            var inner = task.AsTask();
            try
            {
                inner.Wait();
            }
            catch (AggregateException)
            {
            }

            outcomes[name] = inner.IsCanceled ? "cancelled task"
                : inner.Exception?.InnerException is ArgumentException ? "faulted task"
                : "other: " + inner.Status;
        }

        TestContext.Out.WriteLine(string.Join(Environment.NewLine, outcomes.Select(o => $"{o.Key}: {o.Value}")));
        return outcomes;
    }

    private static ValueTask AsTask<T>(ValueTask<T> task) => new(task.AsTask());

    // ---- Disposal ----

    // docs/caches.md: "After `Dispose` the sweep stops; the store stays usable, as aiocache's caches do after `close()`."
    // Async commands after DisposeAsync.
    [Test]
    public async Task After_DisposeAsync_async_commands_keep_working()
    {
        var cache = NewCache();
        await cache.SetAsync("k", 1);
        await cache.DisposeAsync();

        Assert.That(await cache.GetAsync<int>("k"), Is.EqualTo(1));
        Assert.That(await cache.IncrementAsync("k"), Is.EqualTo(2));
        Assert.That(await cache.ClearAsync(), Is.True);
        Assert.That(await cache.ExistsAsync("k"), Is.False);
    }
}
