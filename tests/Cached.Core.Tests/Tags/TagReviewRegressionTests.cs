using Cached.Runtime;
using Cached.Serializers;
using Cached.Tags;
using Cached.Tests.MultiLevel;
using Cached.Tests.Resilience;
using TestBackend = Cached.Tests.Runtime.TestBackend;

namespace Cached.Tests.Tags;

/// <summary>Regression tests from the review of tags: each forces an input or an interleaving that once served an invalidated entry.</summary>
public sealed class TagReviewRegressionTests : ResilienceFixture
{
    private static readonly CacheEntryOptions s_failSafe = new()
    {
        Ttl = TimeSpan.FromMinutes(1),
        FailSafe = TimeSpan.FromHours(1),
        Tags = ["user:1"],
    };

    [Test]
    public void A_fail_safe_answer_with_an_invalidated_last_value_is_for_the_failing_caller_only()
    {
        Cache.GetOrSet("u1", _ => "before the save", s_failSafe);
        Cache.InvalidateTags("user:1");

        var served = Cache.GetOrSet<string>("u1", _ => throw new InvalidOperationException("source down"), s_failSafe);

        Assert.That(served, Is.EqualTo("before the save"), "the failing caller gets the last value");
        Assert.That(Cache.Get<string>("u1"), Is.Null, "but it is not made fresh for anyone else");
        Assert.That(Cache.GetOrSet("u1", _ => "after the save", s_failSafe), Is.EqualTo("after the save"));
    }

    [Test]
    public void A_last_value_invalidated_after_it_was_read_and_checked_is_not_made_fresh_again_for_the_throttle()
    {
        // Held as bytes, the stamp remembers the check made at the read; the invalidation comes right after it.
        var invalidate = new InvalidateAfterRead("u1", "user:1");
        using var cache = new SimpleMemoryCache { TimeProvider = Time, Serializer = new JsonSerializer(), Plugins = [invalidate] };
        invalidate.Target = cache;
        cache.GetOrSet("u1", _ => "before the save", s_failSafe);
        Time.Advance(TimeSpan.FromMinutes(2));
        invalidate.Armed = true;

        var served = cache.GetOrSet<string>("u1", _ => throw new InvalidOperationException("source down"), s_failSafe);

        Assert.That(served, Is.EqualTo("before the save"), "the failing caller gets the last value");
        Assert.That(cache.Get<string>("u1"), Is.Null, "not stored fresh with the versions observed after the invalidation");
    }

    [Test]
    public void A_multi_cached_last_value_invalidated_after_it_was_read_is_not_made_fresh_again_for_the_throttle()
    {
        using var cache = new SimpleMemoryCache { TimeProvider = Time, Serializer = new JsonSerializer() };
        var method = new MultiCachedMethod<int, string>(new CachedMethodOptions { Method = "Users", CacheFactory = () => cache, Tagged = true, Ttl = 60, FailSafe = 3600 });
        method.Invoke([1], 0, static (_, id) => "u" + id, static (_, _) => new Dictionary<int, string> { [1] = "before" }, null, static (_, id) => ["user:" + id]);
        Time.Advance(TimeSpan.FromMinutes(2));

        // The tag builder runs after the read's check and before the observation: the invalidation falls between them.
        var armed = true;
        var result = method.Invoke([1], 0, static (_, id) => "u" + id, static (_, _) => throw new InvalidOperationException("source down"), null, (_, id) =>
        {
            if (armed)
            {
                armed = false;
                cache.InvalidateTags("user:" + id);
            }

            return ["user:" + id];
        });

        Assert.That(result[1], Is.EqualTo("before"), "the failing call gets the last value");
        Assert.That(cache.Get<string>("u1"), Is.Null, "not stored fresh with the versions observed after the invalidation");
    }

    [Test]
    public async Task A_caller_that_cancels_does_not_make_the_last_value_fresh_again()
    {
        Cache.GetOrSet("u1", _ => "last", s_failSafe);
        Time.Advance(TimeSpan.FromMinutes(2));
        using var cts = new CancellationTokenSource();
        var call = Cache.GetOrSetAsync<string>("u1", async ct => { await Task.Delay(Timeout.Infinite, ct); return "never"; }, s_failSafe, cancellationToken: cts.Token).AsTask();

        await cts.CancelAsync();
        Assert.That(async () => await call, Throws.InstanceOf<OperationCanceledException>());

        Assert.That(Cache.Get<string>("u1"), Is.Null, "expired and not throttled: a cancellation is no failure");
    }

    [Test]
    public void A_multi_cached_body_that_returns_keys_it_was_not_asked_for_stores_only_those_it_was()
    {
        var method = new MultiCachedMethod<int, string>(new CachedMethodOptions { Method = "Users", CacheFactory = () => Cache, Tagged = true });

        var result = method.Invoke([1], 0, static (_, id) => "u" + id, static (_, ids) => new Dictionary<int, string> { [1] = "one", [2] = "two" }, null, static (_, id) => ["user:" + id]);

        Assert.That(result.Keys, Is.EquivalentTo(new[] { 1, 2 }), "returned as the body gave them");
        Assert.That(Cache.Exists("u2"), Is.False, "its tags were never observed: not stored, or InvalidateTags(\"user:2\") would miss it");
        Assert.That(Cache.Get<string>("u1"), Is.EqualTo("one"));
        Cache.InvalidateTags("user:1");
        Assert.That(Cache.Get<string>("u1"), Is.Null);
    }

    [Test]
    public async Task A_two_level_invalidation_that_L2_cannot_take_invalidates_L1_tells_the_other_nodes_and_lands_when_L2_returns([Values] bool async)
    {
        var outage = new Outage();
        using var nodes = new Nodes(new SimpleMemoryCache { Serializer = new JsonSerializer(), Plugins = [outage] });
        nodes.A.GetOrSet("u1", _ => "one", s_failSafe);
        nodes.B.GetOrSet("u1", _ => "one", s_failSafe);
        Assert.That((nodes.A.IsInL1("u1"), nodes.B.IsInL1("u1")), Is.EqualTo((true, true)));

        outage.Down = true;
        if (async)
        {
            await nodes.A.InvalidateTagsAsync(["user:1"]);
        }
        else
        {
            nodes.A.InvalidateTags("user:1");
        }

        Assert.That(nodes.A.PendingWriteCount, Is.EqualTo(1), "kept for L2, as a delete is");
        Assert.That(nodes.A.L1.Get<string>("u1", @namespace: nodes.A.Namespace), Is.Null, "A's L1");
        Assert.That(nodes.B.L1.Get<string>("u1", @namespace: nodes.B.Namespace), Is.Null, "B's L1, through the backplane");

        // Regression: the invalidation was lost, L2's records kept the old versions, and every node read "one" back.
        outage.Down = false;
        await Waits.Until(() => nodes.A.PendingWriteCount == 0);
        Assert.That(nodes.B.GetOrSet("u1", _ => "two", s_failSafe), Is.EqualTo("two"));
        Assert.That(nodes.A.GetOrSet("u1", _ => "three", s_failSafe), Is.EqualTo("two"));
    }

    [Test]
    public async Task A_kept_two_level_invalidation_drops_the_copies_read_from_L2_before_it_landed()
    {
        var outage = new Outage();
        var hold = new HoldInvalidation(outage);
        using var nodes = new Nodes(new SimpleMemoryCache { Serializer = new JsonSerializer(), Plugins = [hold, outage] });
        nodes.A.GetOrSet("u1", _ => "one", s_failSafe);
        outage.Down = true;
        await nodes.A.InvalidateTagsAsync(["user:1"]);

        // L2 is back and the replay is on its way, held before L2 takes it: B reads the old entry, whose tags L2 still calls current.
        hold.Armed = true;
        outage.Down = false;
        Assert.That(hold.Reached.Wait(TimeSpan.FromSeconds(10)), Is.True, "the replay reached L2");
        Assert.That(nodes.B.GetOrSet("u1", _ => "not yet", s_failSafe), Is.EqualTo("one"));
        Assert.That(nodes.B.L1.Get<string>("u1", @namespace: nodes.B.Namespace), Is.EqualTo("one"), "B's L1 copy");

        hold.Release.Set();
        await Waits.Until(() => nodes.A.PendingWriteCount == 0);
        Assert.That(nodes.B.L1.Get<string>("u1", @namespace: nodes.B.Namespace), Is.Null, "invalidated again when the replay landed");
        Assert.That(nodes.B.GetOrSet("u1", _ => "two", s_failSafe), Is.EqualTo("two"));
    }

    [Test]
    public async Task A_kept_invalidation_landing_on_an_L1_that_fails_does_not_stop_the_retries()
    {
        var outage = new Outage();
        var l1 = new TestBackend();
        using var cache = new MultiLevelCache(l1, new SimpleMemoryCache { Serializer = new JsonSerializer(), Plugins = [outage] });
        cache.Set("k", "v");
        outage.Down = true;
        cache.InvalidateTags("user:1");
        Assert.That(cache.PendingWriteCount, Is.EqualTo(1));

        // Regression: L1's failure escaped the landing, and the retry loop ended with the write still counted.
        l1.FailAll = true;
        outage.Down = false;
        await Waits.Until(() => cache.PendingWriteCount == 0);
    }

    [Test]
    public void Past_the_limit_a_kept_invalidation_stays_and_the_oldest_write_of_a_key_goes()
    {
        var outage = new Outage { Down = true };
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Serializer = new JsonSerializer(), Plugins = [outage] }) { PendingWriteLimit = 2 };
        cache.WaitingWrites.FirstRetryDelay = TimeSpan.FromMinutes(1);
        cache.InvalidateTags("user:1");
        cache.Set("a", 1);
        cache.Set("b", 2);

        Assert.That(cache.PendingWriteCount, Is.EqualTo(2));
        Assert.That(cache.WaitingWrites.Queued.Select(static w => w.Action), Is.EqualTo(new[] { BackplaneAction.Tags, BackplaneAction.Set }), "'a' was dropped, the invalidation kept, first in line");
    }

    [Test]
    public void Tag_versions_taken_for_L1_copies_are_swept_as_the_table_grows()
    {
        var store = new MemoryTagStore(Time);
        for (var i = 0; i < 3_000; i++)
        {
            store.Take(["a" + i], TimeSpan.FromSeconds(10));
        }

        Time.Advance(TimeSpan.FromMinutes(11));
        for (var i = 0; i < 3_000; i++)
        {
            store.Take(["b" + i], TimeSpan.FromSeconds(10));
        }

        Assert.That(store.Count, Is.LessThan(4_000), "the first 3,000 are gone");
    }

    [Test]
    public void An_invalidate_tags_template_that_formats_to_nothing_still_invalidates_the_others()
    {
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = "M", CacheFactory = () => Cache, Tagged = true });
        Cache.Set("list", "all", new CacheEntryOptions { Tags = ["users"] });

        Assert.DoesNotThrow(() => TagInvalidation.Invalidate(["", "users"], method));

        Assert.That(Cache.Get<string>("list"), Is.Null);
    }

    [Test]
    public void A_tagged_hit_of_a_method_returning_object_is_the_value_not_its_stamp()
    {
        var options = new CacheEntryOptions { Tags = ["t"] };
        Cache.GetOrSet<object>("k", _ => "value", options);

        Assert.That(Cache.GetOrSet<object>("k", _ => "other", options), Is.EqualTo("value"));
        Cache.InvalidateTags("t");
        Assert.That(Cache.GetOrSet<object>("k", _ => "other", options), Is.EqualTo("other"));
    }

    /// <summary>Invalidates a tag once armed, right after a read of one key has returned its entry to the pipeline.</summary>
    private sealed class InvalidateAfterRead(string key, string tag) : Cached.Plugins.CachePlugin
    {
        public volatile bool Armed;

        public ICache? Target { get; set; }

        public override void Post(Cached.Plugins.CacheCommandContext context)
        {
            if (Armed && context.Command == Cached.Plugins.CacheCommand.Get && context.Key == key)
            {
                Armed = false;
                Target!.InvalidateTags(tag);
            }
        }
    }

    /// <summary>Once armed, holds the first tag invalidation that L2 takes while it is up, until released.</summary>
    private sealed class HoldInvalidation(Outage outage) : Cached.Plugins.CachePlugin
    {
        private int _held;

        public volatile bool Armed;

        public ManualResetEventSlim Reached { get; } = new(false);

        public ManualResetEventSlim Release { get; } = new(false);

        public override void Pre(Cached.Plugins.CacheCommandContext context)
        {
            if (Armed && !outage.Down && context.Command == Cached.Plugins.CacheCommand.InvalidateTags && Interlocked.Exchange(ref _held, 1) == 0)
            {
                Reached.Set();
                Release.Wait(TimeSpan.FromSeconds(10));
            }
        }
    }
}
