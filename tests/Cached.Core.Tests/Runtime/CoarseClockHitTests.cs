using System.Diagnostics;
using Cached.Capabilities;
using Cached.Memory;
using Cached.Resilience;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Runtime;

/// <summary>
/// Hits of entries with a TTL on the system clock: the coarse clock proves an entry live without the precise clock
/// while it has more than <see cref="CoarseClock.Slack"/> left, and expiry stays exact.
/// </summary>
[NonParallelizable]
public sealed class CoarseClockHitTests
{
    private static readonly TimeSpan s_slack = TimeSpan.FromMilliseconds(CoarseClock.Slack);

    [SetUp]
    public void SetUp() => Caches.Reset();

    [TearDown]
    public void TearDown() => Caches.Reset();

    [Test]
    public void The_live_bound_is_the_write_s_tick_plus_the_TTL_less_the_slack_and_none_within_the_slack()
    {
        Assert.Multiple(() =>
        {
            Assert.That(CoarseClock.LiveBefore(1_000, TimeSpan.FromSeconds(1)), Is.EqualTo(1_000 + 1_000 - CoarseClock.Slack));
            Assert.That(CoarseClock.LiveBefore(1_000, TimeSpan.FromMilliseconds(1_000.9)), Is.EqualTo(1_950), "milliseconds round down");
            Assert.That(CoarseClock.LiveBefore(1_000, s_slack), Is.Zero);
            Assert.That(CoarseClock.LiveBefore(1_000, TimeSpan.FromMilliseconds(-5)), Is.Zero);
            Assert.That(CoarseClock.LiveBefore(long.MaxValue - 10, TimeSpan.FromSeconds(1)), Is.EqualTo(long.MaxValue), "saturates");
        });
    }

    [Test]
    public void A_span_read_hands_over_the_coarse_tick_that_proved_the_entry_live_so_a_stamp_need_not_read_it_again()
    {
        using var cache = new SimpleMemoryCache();
        cache.Set("ttl", "v", TimeSpan.FromMinutes(1));
        cache.Set("forever", "v", ttl: null);
        cache.Set("brief", "v", TimeSpan.FromMilliseconds(30));
        var reader = (ITimedSpanReader)cache;

        var before = Environment.TickCount64;
        Assert.That(reader.TryReadBySpanTimed("ttl", null, out _, out var now, out var tick), Is.EqualTo(SpanRead.Hit));
        var after = Environment.TickCount64;
        Assert.Multiple(() =>
        {
            Assert.That(tick, Is.InRange(before, after), "the tick the proof read");
            Assert.That(now, Is.Zero, "no precise reading");
        });

        Assert.That(reader.TryReadBySpanTimed("forever", null, out _, out now, out tick), Is.EqualTo(SpanRead.Hit));
        Assert.That((now, tick), Is.EqualTo((0L, 0L)), "no expiry, no clock at all");

        Assert.That(reader.TryReadBySpanTimed("brief", null, out _, out now, out tick), Is.EqualTo(SpanRead.Hit));
        Assert.Multiple(() =>
        {
            Assert.That(tick, Is.Zero, "within the slack the coarse clock proves nothing");
            Assert.That(now, Is.Not.Zero, "the precise clock decides");
        });
    }

    [Test]
    public void An_entry_written_on_the_system_clock_carries_its_coarse_bound()
    {
        using var cache = new SimpleMemoryCache();
        var store = new MemoryStore(cache);

        var before = Environment.TickCount64;
        var entry = store.CreateEntry("v", null, TimeSpan.FromSeconds(10));
        var after = Environment.TickCount64;
        var reexpired = store.WithExpiry(entry, TimeSpan.FromSeconds(20));

        Assert.Multiple(() =>
        {
            Assert.That(entry.LiveBeforeTick, Is.InRange(before + 10_000 - CoarseClock.Slack, after + 10_000 - CoarseClock.Slack));
            Assert.That(entry.IsCertainlyLiveAt(Environment.TickCount64), Is.True);
            Assert.That(entry.IsCertainlyLiveAt(entry.LiveBeforeTick), Is.False);
            Assert.That(reexpired.LiveBeforeTick, Is.GreaterThanOrEqualTo(before + 20_000 - CoarseClock.Slack));
            Assert.That(store.CreateEntry("v", null, ttl: null).LiveBeforeTick, Is.Zero, "no TTL, nothing to prove");
            Assert.That(store.CreateEntry("v", null, TimeSpan.FromMilliseconds(30)).LiveBeforeTick, Is.Zero, "within the slack");
        });

        var bounded = new MemoryStore(cache) { Eviction = new LruEviction(10) };
        var tracked = bounded.CreateEntry("v", null, TimeSpan.FromSeconds(10));
        Assert.Multiple(() =>
        {
            Assert.That(tracked.LiveBeforeTick, Is.Zero, "a bounded store records each hit's precise time of use");
            Assert.That(bounded.NeedsClock(tracked), Is.True);
            Assert.That(store.NeedsClock(entry), Is.False);
            Assert.That(store.NeedsClock(store.CreateEntry("v", null, ttl: null)), Is.False);
        });
    }

    [Test]
    public void An_entry_on_another_clock_is_always_checked_on_that_clock()
    {
        var time = new FakeTimeProvider();
        using var cache = new SimpleMemoryCache { TimeProvider = time };
        var store = new MemoryStore(cache);

        Assert.That(store.CreateEntry("v", null, TimeSpan.FromSeconds(10)).LiveBeforeTick, Is.Zero);

        cache.Set("k", "v", ttl: TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.That(cache.Get<string>("k"), Is.Null, "a fake clock's time moves without the coarse clock");
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Expiry_stays_exact_on_the_system_clock_no_hit_after_the_precise_expiry(bool bySpan)
    {
        using var cache = new SimpleMemoryCache();
        var ttl = TimeSpan.FromMilliseconds(150);
        var method = bySpan ? CachedMethodOn(cache) : null;

        var written = Stopwatch.GetTimestamp();
        cache.Set("Test.Get(1)", "stored", ttl: ttl);
        var writeEnded = Stopwatch.GetTimestamp();
        var expiresBy = writeEnded + (long)(ttl.TotalSeconds * Stopwatch.Frequency);

        // One buffer for every read: a stackalloc inside the loop would grow the stack at each turn.
        Span<char> buffer = stackalloc char[64];
        var hits = 0;
        long firstMiss = 0;
        while (firstMiss == 0)
        {
            var readStarted = Stopwatch.GetTimestamp();
            var hit = method is null
                ? cache.Get<string>("Test.Get(1)") is not null
                : method.Invoke(Key(buffer, 1), 0, static _ => "body", null) == "stored";
            if (hit)
            {
                hits++;
                Assert.That(readStarted, Is.LessThan(expiresBy), "a hit began after the entry's precise expiry");
            }
            else
            {
                firstMiss = readStarted;
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(hits, Is.GreaterThan(0));
            Assert.That(Stopwatch.GetElapsedTime(written, firstMiss), Is.GreaterThanOrEqualTo(ttl - TimeSpan.FromMilliseconds(1)),
                "the entry was live for its whole TTL");
        });
    }

    [Test]
    public void A_stamped_entry_on_the_system_clock_is_certainly_fresh_until_its_refresh_point_less_the_slack()
    {
        var before = Environment.TickCount64;
        var now = StampClock.UnixNow(TimeProvider.System);
        var stamped = new Stamped<string>("v", freshUntil: now + 10_000, staleUntil: now + 60_000, refreshAt: now + 8_000, TimeProvider.System);
        var unstamped = Stamped<string>.Unstamped("v", TimeProvider.System);
        var faked = new Stamped<string>("v", now + 10_000, now + 60_000, long.MaxValue, new FakeTimeProvider());

        Assert.Multiple(() =>
        {
            Assert.That(stamped.FreshBeforeTick, Is.InRange(before + 8_000 - CoarseClock.Slack - 5, Environment.TickCount64 + 8_000));
            Assert.That(unstamped.FreshBeforeTick, Is.EqualTo(long.MaxValue));
            Assert.That(faked.FreshBeforeTick, Is.Zero);
        });
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task A_stamped_hit_proven_fresh_by_the_coarse_clock_still_sees_an_invalidated_tag(bool async)
    {
        using var cache = new SimpleMemoryCache();
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), FailSafe = TimeSpan.FromMinutes(5), Tags = ["users"] };
        var calls = 0;
        string Compute() => "v" + Interlocked.Increment(ref calls);
        async ValueTask<string> Load() => async
            ? await cache.GetOrSetAsync("u", _ => ValueTask.FromResult(Compute()), options)
            : cache.GetOrSet("u", _ => Compute(), options);

        Assert.That(await Load(), Is.EqualTo("v1"));
        Assert.That(await Load(), Is.EqualTo("v1"), "a fresh hit");
        cache.InvalidateTags("users");

        Assert.That(await Load(), Is.EqualTo("v2"), "the invalidated entry is not taken for fresh");
    }

    [Test]
    public void A_resilient_method_takes_its_stamped_entries_and_a_plain_entry_written_by_Set_from_the_span_read()
    {
        using var cache = new SimpleMemoryCache();
        Caches.AddInstance("coarse-resilient", cache);
        var method = new Cached.Runtime.CachedMethod<string>(new Cached.Runtime.CachedMethodOptions
        {
            Method = "Test.Get", Alias = "coarse-resilient", Ttl = 60, FailSafe = 300, EagerRefresh = 0.9,
        });
        var runs = 0;
        Func<int, string> body = _ => "computed" + Interlocked.Increment(ref runs);
        string Call(int id) => method.Invoke(Key(stackalloc char[64], id), id, body, null);

        Assert.That(Call(1), Is.EqualTo("computed1"), "a miss stores a stamped entry");
        Assert.That(Call(1), Is.EqualTo("computed1"), "the stamped entry is a hit");
        cache.Set(Key(stackalloc char[64], 2).ToString(), "plain");
        Assert.That(Call(2), Is.EqualTo("plain"), "a plain entry under the key is a hit too");

        // Both answered by the span read: the ordinary read would make the key's string first. The fewest bytes of a
        // few tries, so that a one-time allocation of the runtime's cannot fail the test.
        var fewest = long.MaxValue;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var (stamped, plain) = (Call(1), Call(2));
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.That((stamped, plain), Is.EqualTo(("computed1", "plain")));
        }

        Assert.Multiple(() =>
        {
            Assert.That(fewest, Is.Zero, "no key string: the span read answered both");
            Assert.That(runs, Is.EqualTo(1));
        });
    }

    private static Cached.Runtime.CachedMethod<string> CachedMethodOn(SimpleMemoryCache cache)
    {
        Caches.AddInstance("coarse", cache);
        return new Cached.Runtime.CachedMethod<string>(new Cached.Runtime.CachedMethodOptions { Method = "Test.Get", Alias = "coarse" });
    }

    private static ReadOnlySpan<char> Key(Span<char> buffer, int id)
    {
        var writer = new Cached.Runtime.CacheKeyWriter(buffer, "Test.Get");
        writer.Argument(id);
        return writer.Close();
    }
}
