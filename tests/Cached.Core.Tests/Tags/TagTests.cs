using Cached.Plugins;
using Cached.Serializers;
using Cached.Tags;
using Cached.Tests.Resilience;

namespace Cached.Tests.Tags;

/// <summary>Tags on the in-process cache: invalidation by tag, what it leaves alone, and the races it must win.</summary>
public sealed class TagTests : ResilienceFixture
{
    private static readonly CacheEntryOptions UserOne = new() { Tags = ["user:1", "users"] };
    private static readonly CacheEntryOptions UserTwo = new() { Tags = ["user:2", "users"] };

    [Test]
    public async Task An_invalidated_tag_makes_its_entries_miss_and_leaves_the_others([Values] bool async)
    {
        var calls = 0;
        int Load(int id) => id * 100 + ++calls;

        Cache.GetOrSet("u1", _ => Load(1), UserOne);
        Cache.GetOrSet("u2", _ => Load(2), UserTwo);
        Cache.Set("plain", 7);
        if (async)
        {
            await Cache.InvalidateTagsAsync(["user:1"]);
        }
        else
        {
            Cache.InvalidateTags("user:1");
        }

        Assert.That(Cache.GetOrSet("u1", _ => Load(1), UserOne), Is.EqualTo(103), "recomputed");
        Assert.That(Cache.GetOrSet("u2", _ => Load(2), UserTwo), Is.EqualTo(202), "another tag: still a hit");
        Assert.That(Cache.Get<int>("plain"), Is.EqualTo(7));
        Assert.That(calls, Is.EqualTo(3));
    }

    [Test]
    public void A_shared_tag_invalidates_every_entry_that_carries_it()
    {
        Cache.Set("u1", "one", UserOne);
        Cache.Set("u2", "two", UserTwo);

        Cache.InvalidateTags("users");

        Assert.That(Cache.TryGet<string>("u1", out _), Is.False);
        Assert.That(Cache.TryGet<string>("u2", out _), Is.False);
    }

    [Test]
    public void Plain_reads_of_a_tagged_entry_answer_the_value_until_the_tag_is_invalidated([Values] bool bytes)
    {
        using var cache = new SimpleMemoryCache { TimeProvider = Time, Serializer = bytes ? new JsonSerializer() : new NullSerializer() };
        cache.Set("u1", "one", UserOne);

        Assert.That(cache.Get<string>("u1"), Is.EqualTo("one"));
        cache.InvalidateTags("users");
        Assert.That(cache.Get<string>("u1"), Is.Null);
        Assert.That(cache.GetOrSet("u1", _ => "again", UserOne), Is.EqualTo("again"));
        Assert.That(cache.Get<string>("u1"), Is.EqualTo("again"), "written after the invalidation: current");
    }

    [Test]
    public async Task A_value_computed_while_its_tag_is_invalidated_is_returned_but_never_served_again([Values] bool async)
    {
        using var entered = new SemaphoreSlim(0);
        using var release = new SemaphoreSlim(0);
        var calls = 0;
        int Slow()
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                entered.Release();
                release.Wait(Limit);
                return 1;
            }

            return 2;
        }

        var first = async
            ? Cache.GetOrSetAsync("u1", async _ => { await Task.Yield(); return Slow(); }, UserOne).AsTask()
            : Task.Run(() => Cache.GetOrSet("u1", _ => Slow(), UserOne));
        Assert.That(await entered.WaitAsync(Limit), Is.True);
        Cache.InvalidateTags("user:1");
        release.Release();

        Assert.That(await first, Is.EqualTo(1), "the caller gets what it computed");
        Assert.That(Cache.GetOrSet("u1", _ => Slow(), UserOne), Is.EqualTo(2), "computed before the invalidation ended: not served");
    }

    [Test]
    public async Task A_call_that_begins_after_an_invalidation_does_not_take_a_computation_begun_before_it([Values] bool async)
    {
        using var entered = new SemaphoreSlim(0);
        using var release = new SemaphoreSlim(0);
        var calls = 0;
        string Load()
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                entered.Release();
                release.Wait(Limit);
                return "before the save";
            }

            return "after the save";
        }

        Task<string> Call() => async
            ? Task.Run(() => Cache.GetOrSetAsync("u1", async _ => { await Task.Yield(); return Load(); }, UserOne).AsTask())
            : Task.Run(() => Cache.GetOrSet("u1", _ => Load(), UserOne));

        var first = Call();
        Assert.That(await entered.WaitAsync(Limit), Is.True);
        Cache.InvalidateTags("user:1");
        var second = Call();
        await WaitUntil(() => calls == 1 && !second.IsCompleted);
        release.Release();

        Assert.That(await first, Is.EqualTo("before the save"), "the caller that began first gets its own computation");
        Assert.That(await second, Is.EqualTo("after the save"), "a caller that began after the invalidation computes anew");
    }

    [Test]
    public void Fail_safe_still_answers_with_an_invalidated_entry_when_the_factory_fails()
    {
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), FailSafe = TimeSpan.FromHours(1), Tags = ["user:1"] };
        Cache.GetOrSet("u1", _ => "last", options);
        Cache.InvalidateTags("user:1");

        var served = Cache.GetOrSet<string>("u1", _ => throw new InvalidOperationException("down"), options);
        var again = Cache.GetOrSet<string>("u1", _ => throw new InvalidOperationException("still down"), options);

        Assert.That((served, again), Is.EqualTo(("last", "last")));
        Assert.That(Logs.Entries.Count(e => e.EventId == 7), Is.EqualTo(2), "each failing call is answered with it; an invalidated value is never throttled into a hit");
    }

    [Test]
    public void Tag_versions_are_dropped_once_no_entry_can_carry_them()
    {
        var store = (MemoryTagStore)TagStore.Of(Cache);
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10) };
        for (var i = 0; i < 5_000; i++)
        {
            Cache.Set("k" + i, i, options with { Tags = ["t" + i] });
        }

        Assert.That(store.Count, Is.EqualTo(5_000));
        Time.Advance(TimeSpan.FromMinutes(11));
        store.Sweep();
        Assert.That(store.Count, Is.Zero, "entries and the in-flight window are over");
    }

    [Test]
    public void A_version_retired_while_an_extended_entry_still_holds_it_makes_that_entry_miss()
    {
        var store = (MemoryTagStore)TagStore.Of(Cache);
        Cache.Set("k", 1, new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), Tags = ["t"] });
        Cache.Expire("k", TimeSpan.FromHours(1));
        Time.Advance(TimeSpan.FromMinutes(11));
        store.Sweep();

        Cache.InvalidateTags("t");

        Assert.That(Cache.TryGet<int>("k", out _), Is.False, "the retired version can no longer be invalidated: the entry must not be served");
    }

    [Test]
    public void Tags_are_checked_when_set()
    {
        var empty = Assert.Throws<ArgumentException>(() => _ = new CacheEntryOptions { Tags = ["a", ""] });
        Assert.That(empty!.ParamName, Is.EqualTo("Tags"));
        Assert.Throws<ArgumentException>(() => Cache.InvalidateTags("a", null!));
        Assert.Throws<ArgumentNullException>(() => Cache.InvalidateTags(null!));
        Assert.That(new CacheEntryOptions { Tags = ["a", "b", "a"] }, Is.EqualTo(new CacheEntryOptions { Tags = ["a", "b"] }), "duplicates count once; equal by value");
        Assert.That(new CacheEntryOptions { Tags = [] }.Tags, Is.Null, "an empty list is none");
    }

    [Test]
    public void Plugins_see_an_invalidation_as_its_own_command()
    {
        var seen = new List<(CacheCommand, IReadOnlyList<string>?)>();
        using var cache = new SimpleMemoryCache { Plugins = [new Recorder(seen)] };

        cache.InvalidateTags("a", "b");

        Assert.That(seen, Has.Count.EqualTo(1));
        Assert.That(seen[0].Item1, Is.EqualTo(CacheCommand.InvalidateTags));
        Assert.That(seen[0].Item2, Is.EqualTo(new[] { "a", "b" }));
    }

    [Test]
    public void A_read_of_an_invalidated_entry_counts_as_a_miss_for_plugins_and_metrics()
    {
        var ratio = new HitMissRatioPlugin();
        using var cache = new SimpleMemoryCache { Plugins = [ratio] };
        cache.GetOrSet("u1", _ => "one", UserOne);   // a miss, then the store
        cache.GetOrSet("u1", _ => "one", UserOne);   // a hit
        cache.InvalidateTags("user:1");

        cache.GetOrSet("u1", _ => "again", UserOne); // found, but invalidated: a miss

        Assert.That((ratio.Hits, ratio.Misses), Is.EqualTo((1L, 2L)));
    }

    private sealed class Recorder(List<(CacheCommand, IReadOnlyList<string>?)> seen) : CachePlugin
    {
        protected override void PostInvalidateTags(CacheCommandContext context) => seen.Add((context.Command, context.Keys));
    }
}
