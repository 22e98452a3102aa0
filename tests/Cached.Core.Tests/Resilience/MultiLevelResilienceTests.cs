using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Resilience;

/// <summary>GetOrSet through a two-level cache: L1 keeps the stamped entry, so its logical expiry holds in both levels.</summary>
public sealed class MultiLevelResilienceTests
{
    private static readonly CacheEntryOptions s_failSafe = new() { Ttl = TimeSpan.FromSeconds(10), FailSafe = TimeSpan.FromSeconds(60) };

    [Test]
    public async Task Fail_safe_serves_the_last_value_from_L1_and_L2_after_the_time_to_live([Values] bool async)
    {
        var time = new FakeTimeProvider();
        using var cache = new MultiLevelCache(new SimpleMemoryCache { TimeProvider = time }, new SimpleMemoryCache { TimeProvider = time });
        await cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_failSafe);
        Assert.That(cache.IsInL1("k"), Is.True);
        time.Advance(TimeSpan.FromSeconds(11));
        Assert.That(cache.Get<string>("k"), Is.Null, "a plain read of the two levels sees the entry as stale");

        var answer = async
            ? await cache.GetOrSetAsync<string>("k", _ => throw new InvalidOperationException("down"), s_failSafe)
            : cache.GetOrSet<string>("k", _ => throw new InvalidOperationException("down"), s_failSafe);

        Assert.That(answer, Is.EqualTo("v1"));
    }

    [Test]
    public async Task Fail_safe_serves_the_stale_copy_L1_holds_while_L2_fails_and_the_factory_fails([Values] bool async)
    {
        // A plain read of L1 answers a stale stamped copy as a miss, so the read went on to L2; L2's fault then left the
        // call with no last value, and the factory's exception reached the caller while L1 held the value.
        var time = new FakeTimeProvider();
        var l2 = new Cached.Tests.Runtime.TestBackend { TimeProvider = time };
        using var cache = new MultiLevelCache(new SimpleMemoryCache { TimeProvider = time }, l2);
        await cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_failSafe);
        Assert.That(cache.IsInL1("k"), Is.True);
        time.Advance(TimeSpan.FromSeconds(11));
        l2.FailAll = true;

        var answer = async
            ? await cache.GetOrSetAsync<string>("k", _ => throw new InvalidOperationException("source down"), s_failSafe)
            : cache.GetOrSet<string>("k", _ => throw new InvalidOperationException("source down"), s_failSafe);

        Assert.That(answer, Is.EqualTo("v1"));
        Assert.That(cache.Get<string>("k"), Is.EqualTo("v1"), "the copy served is fresh again in L1 for the throttle, as it would be with L2 up");
        time.Advance(CacheEntryOptions.DefaultFailSafeThrottle + TimeSpan.FromSeconds(1));
        Assert.That(() => cache.Get<string>("k"), Throws.InstanceOf<CacheException>(), "past the throttle, a plain read, which has no use for a stale copy, fails as L2 does");
        Assert.That(() => cache.GetOrSet<string>("gone", _ => throw new InvalidOperationException("source down"), s_failSafe), Throws.InstanceOf<InvalidOperationException>(), "with nothing in L1, the factory's failure goes on");
    }

    [Test]
    public async Task A_value_set_with_options_is_a_hit_for_GetOrSet_in_L1([Values] bool async)
    {
        // L1 keeps the stamped entry; a read of it as a stamp must adopt it. It was read with L1's own serializer, which
        // unwrapped the stamp and then refused the plain value: the read failed, and GetOrSet ran its factory.
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache());
        await cache.SetAsync("k", "v1", s_failSafe);
        Assert.That(cache.IsInL1("k"), Is.True);

        var answer = async
            ? await cache.GetOrSetAsync("k", _ => new ValueTask<string>("factory"), s_failSafe)
            : cache.GetOrSet("k", _ => "factory", s_failSafe);

        Assert.That(answer, Is.EqualTo("v1"));
    }

    [Test]
    public async Task A_LocalTtl_bounds_its_own_entry_not_the_entries_its_factory_reads_through([Values] bool async)
    {
        // The bound rides on the call's ambient context; the factory's own calls used to inherit it, and a factory that
        // read another key through the cache left that key's copy for the outer call's zero.
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache());
        var keepNoCopy = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), LocalTtl = TimeSpan.Zero };

        var answer = async
            ? await cache.GetOrSetAsync("order:1", async _ => await cache.GetOrSetAsync("customer:7", _ => new ValueTask<int>(70)) + 1, keepNoCopy)
            : cache.GetOrSet("order:1", _ => cache.GetOrSet("customer:7", _ => 70) + 1, keepNoCopy);

        Assert.That(answer, Is.EqualTo(71));
        Assert.That(cache.IsInL1("order:1"), Is.False, "the outer entry keeps its bound");
        Assert.That(cache.IsInL1("customer:7"), Is.True, "the inner entry, read through without options, is copied as any other");
    }

    [Test]
    public void L1Ttl_bounds_the_copy_without_shortening_the_entry_s_logical_life()
    {
        var time = new FakeTimeProvider();
        using var cache = new MultiLevelCache(new SimpleMemoryCache { TimeProvider = time }, new SimpleMemoryCache { TimeProvider = time })
        {
            L1Ttl = TimeSpan.FromSeconds(2),
        };
        cache.GetOrSet("k", _ => "v1", s_failSafe);
        time.Advance(TimeSpan.FromSeconds(3));
        var calls = 0;

        Assert.That(cache.GetOrSet("k", _ => { calls++; return "v2"; }, s_failSafe), Is.EqualTo("v1"), "L1's copy expired; L2's is fresh");
        Assert.That(calls, Is.Zero);
        Assert.That(cache.IsInL1("k"), Is.True, "copied again from L2");
    }
}
