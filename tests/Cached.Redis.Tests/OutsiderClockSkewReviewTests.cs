using System.Diagnostics;
using Cached.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// An outsider's review of stamped entries (fail-safe, eager refresh, tags) shared by processes whose wall clocks
/// disagree: each "process" is a cache on its own connections to the shared redis-server, with a clock offset from one
/// fake time that all of them advance together, so that the skew is exact and the test moves time rather than waiting.
/// Stamps are wall-clock instants, so a reader sees a writer's entry fresh for Ttl plus the writer's lead (docs/redis.md,
/// "Clocks that disagree"); what must hold whatever the skew: no exception and no logged warning, each process's
/// writes readable by the others, one factory call per process rather than one per call, an invalidation honoured
/// everywhere, and tags that do not depend on time at all.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderClockSkewReviewTests
{
    private static readonly TimeSpan s_ttl = TimeSpan.FromSeconds(10);

    private static readonly CacheEntryOptions s_failSafe = new()
    {
        Ttl = s_ttl,
        FailSafe = TimeSpan.FromSeconds(60),
        FailSafeThrottle = TimeSpan.FromSeconds(5),
    };

    private readonly List<IAsyncDisposable> _disposables = [];
    private ConnectionMultiplexer _admin = null!;
    private RecordingLogs _logs = null!;
    private FakeTimeProvider _time = null!;
    private string _space = null!;

    [OneTimeSetUp]
    public void ConnectAdmin()
        => _admin = ConnectionMultiplexer.Connect(SharedRedis.Server.ConnectionString + ",name=cached-tests-clock-skew");

    [OneTimeTearDown]
    public void DisconnectAdmin() => _admin.Dispose();

    [SetUp]
    public void SetUp()
    {
        Caches.Reset();
        _space = "clock" + Guid.NewGuid().ToString("N")[..8];
        _time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        CachedLogging.LoggerFactory = _logs = new RecordingLogs();
    }

    [TearDown]
    public async Task TearDown()
    {
        CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
        Caches.Reset();
        await _disposables.DisposeAllAsync();
    }

    /// <summary>A process whose wall clock is <paramref name="offset"/> seconds off the shared time.</summary>
    private RedisCache Process(string name, double offset)
    {
        var cache = new RedisCache
        {
            ConnectionString = SharedRedis.Server.ConnectionString + ",name=" + name,
            Namespace = _space,
            TimeProvider = new SkewedClock(_time, TimeSpan.FromSeconds(offset)),
        };
        _disposables.Add(cache);
        return cache;
    }

    /// <summary>A node of a two-level cache whose wall clock is <paramref name="offset"/> seconds off, L1 and L2 alike.</summary>
    private MultiLevelCache Node(string name, double offset)
    {
        var clock = new SkewedClock(_time, TimeSpan.FromSeconds(offset));
        var node = new MultiLevelCache(
            new SimpleMemoryCache { TimeProvider = clock },
            new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString + ",name=" + name + "-l2", Namespace = _space, TimeProvider = clock },
            new RedisBackplane(SharedRedis.Server.ConnectionString + ",name=" + name + "-backplane"));
        _disposables.Add(node);
        return node;
    }

    private static async Task<string> Call(bool async, ICache cache, Func<string> factory, CacheEntryOptions options, string key = "k")
        => async
            ? await cache.GetOrSetAsync(key, _ => new ValueTask<string>(factory()), options)
            : cache.GetOrSet(key, _ => factory(), options);

    private static string Fail() => throw new InvalidOperationException("source down");

    // Event 7 is fail-safe serving a last value, which a failing source is meant to log.
    private void AssertNothingLogged()
        => Assert.That(_logs.Messages.Where((_, i) => _logs.Ids[i] != 7), Is.Empty, "skew is no fault: nothing unreadable, nothing failed");

    /// <summary>A call of key "k" whose factory has begun and returns <paramref name="value"/> once released.</summary>
    private static async Task<(Task<string> Call, TaskCompletionSource Release)> Entered(ICache cache, CacheEntryOptions options, string value)
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = cache.GetOrSetAsync("k", async _ =>
        {
            entered.SetResult();
            await release.Task;
            return value;
        }, options).AsTask();
        await entered.Task;
        return (call, release);
    }

    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.That(waited.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), what);
            await Task.Delay(10);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Freshness: Ttl plus the writer's lead on the reader's clock, and one factory call per process at most
    // ---------------------------------------------------------------------------------------------------------------

    [Test]
    public async Task A_reader_sees_an_entry_fresh_for_Ttl_plus_the_writers_lead([Values] bool async, [Values(-5, 5)] int lead)
    {
        var writer = Process("writer", lead);
        var reader = Process("reader", 0);
        var calls = 0;
        Assert.That(await Call(async, writer, () => "v" + ++calls, s_failSafe), Is.EqualTo("v1"));

        _time.Advance(s_ttl + TimeSpan.FromSeconds(lead - 1));
        Assert.That(await Call(async, reader, () => "v" + ++calls, s_failSafe), Is.EqualTo("v1"), "fresh for Ttl + lead");

        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.That(await Call(async, reader, () => "v" + ++calls, s_failSafe), Is.EqualTo("v2"), "stale past Ttl + lead");
        AssertNothingLogged();
    }

    [Test]
    public async Task A_skew_beyond_Ttl_costs_one_factory_call_per_process_not_one_per_call([Values] bool async, [Values(-120, 120)] int lead)
    {
        var writer = Process("writer", lead);
        var reader = Process("reader", 0);
        var (writerCalls, readerCalls) = (0, 0);
        Assert.That(await Call(async, writer, () => "w" + ++writerCalls, s_failSafe), Is.EqualTo("w1"));

        var answers = new HashSet<string>();
        for (var i = 0; i < 20; i++)
        {
            answers.Add(await Call(async, reader, () => "r" + ++readerCalls, s_failSafe));
            answers.Add(await Call(async, writer, () => "w" + ++writerCalls, s_failSafe));
        }

        // A writer behind by more than Ttl writes entries the reader finds stale at once: the reader computes its own,
        // which the writer then reads as fresh for longer (Ttl + 120 s), so nobody writes again.
        Assert.That((writerCalls, readerCalls), Is.EqualTo(lead < 0 ? (1, 1) : (1, 0)));
        Assert.That(answers, Has.Count.EqualTo(1), "both processes answer the one stored value");
        AssertNothingLogged();
    }

    [Test]
    public async Task Eager_refresh_under_skew_starts_one_refresh_not_one_per_hit([Values(-7, 7)] int lead)
    {
        var options = new CacheEntryOptions { Ttl = s_ttl, EagerRefresh = 0.5 };
        var writer = Process("writer", lead);
        var reader = Process("reader", 0);
        var calls = 0;
        Assert.That(await writer.GetOrSetAsync("k", _ => new ValueTask<string>("v" + Interlocked.Increment(ref calls)), options), Is.EqualTo("v1"));

        // Behind by 7 s, the writer stamped the refresh point (5 s after its write) 2 s in the reader's past.
        Assert.That(await reader.GetOrSetAsync("k", _ => new ValueTask<string>("v" + Interlocked.Increment(ref calls)), options), Is.EqualTo("v1"));
        var refreshes = lead < 0 ? 1 : 0;
        await Eventually(async () => await reader.GetAsync<string>("k") == "v" + (1 + refreshes), "the refresh stores its value");

        for (var i = 0; i < 10; i++)
        {
            await reader.GetOrSetAsync("k", _ => new ValueTask<string>("v" + Interlocked.Increment(ref calls)), options);
            await writer.GetOrSetAsync("k", _ => new ValueTask<string>("v" + Interlocked.Increment(ref calls)), options);
        }

        await Task.Delay(50);
        Assert.That(Volatile.Read(ref calls), Is.EqualTo(1 + refreshes), "the refreshed entry is not due again on either clock");
        AssertNothingLogged();
    }

    [Test]
    public async Task A_lease_waiter_takes_the_leaders_value_or_computes_once_when_the_skew_makes_it_stale([Values(-120, -5, 5, 120)] int lead)
    {
        var options = s_failSafe with { Lease = TimeSpan.FromSeconds(5), Tags = ["t"] };
        var leader = Process("leader", lead);
        var waiter = Process("waiter", 0);
        var (leading, release) = await Entered(leader, options, "leader");

        var waiterCalls = 0;
        var waiting = waiter.GetOrSetAsync("k", _ => new ValueTask<string>("waiter" + ++waiterCalls), options).AsTask();
        release.SetResult();

        Assert.That(await leading.WaitAsync(TimeSpan.FromSeconds(10)), Is.EqualTo("leader"));
        // 2 minutes behind, the leader stored an entry the waiter finds stale: once the lease is free it computes its own.
        var expected = lead < -10 ? "waiter1" : "leader";
        Assert.That(await waiting.WaitAsync(TimeSpan.FromSeconds(10)), Is.EqualTo(expected));
        Assert.That(await waiter.GetOrSetAsync("k", _ => new ValueTask<string>("again"), options), Is.EqualTo(expected));
        AssertNothingLogged();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Fail-safe
    // ---------------------------------------------------------------------------------------------------------------

    [Test]
    public async Task Fail_safe_throttle_holds_off_a_failing_source_once_per_process([Values] bool async, [Values(-40, 40)] int lead)
    {
        var writer = Process("writer", lead);
        var reader = Process("reader", 0);
        Assert.That(await Call(async, writer, () => "v1", s_failSafe), Is.EqualTo("v1"));
        _time.Advance(s_ttl + TimeSpan.FromSeconds(1));

        var sourceCalls = 0;
        string Failing()
        {
            sourceCalls++;
            return Fail();
        }

        for (var i = 0; i < 10; i++)
        {
            Assert.That(await Call(async, writer, Failing, s_failSafe), Is.EqualTo("v1"));
            Assert.That(await Call(async, reader, Failing, s_failSafe), Is.EqualTo("v1"));
        }

        Assert.That(sourceCalls, Is.InRange(1, 2), "the throttle holds off the source; a process that finds the other's throttle stale tries once");
    }

    [Test]
    public async Task A_throttle_written_back_by_a_reader_behind_the_writer_keeps_the_value_at_most_the_skew_longer([Values] bool async)
    {
        // Documented bound (docs/redis.md): the stale-until instant is the writer's, so a reader 40 s behind it writes the
        // last value back, fresh for the throttle, with 40 s more life than Ttl + FailSafe left it. (Redis ages the entry
        // on its own clock, which the fake time does not move: the bound is read off the written-back time to live.)
        var writer = Process("writer", 40);
        var reader = Process("reader", 0);
        Assert.That(await Call(async, writer, () => "v1", s_failSafe), Is.EqualTo("v1"));
        var elapsed = s_ttl + TimeSpan.FromSeconds(41);
        _time.Advance(elapsed);

        Assert.That(await Call(async, reader, Fail, s_failSafe), Is.EqualTo("v1"), "kept on the reader's clock");

        var left = s_ttl + s_failSafe.FailSafe!.Value - elapsed;
        var written = (await _admin.GetDatabase().KeyTimeToLiveAsync(_space + ":k"))!.Value;
        Assert.That(written - left, Is.InRange(TimeSpan.FromSeconds(39), TimeSpan.FromSeconds(40)), "the skew, and no more");
        Assert.That(await Call(async, reader, () => "not called", s_failSafe), Is.EqualTo("v1"), "throttled");
    }

    [Test]
    public async Task A_reader_ahead_of_the_writer_by_more_than_Ttl_plus_FailSafe_has_no_last_value([Values] bool async)
    {
        // Documented bound (docs/redis.md): fail-safe's window is the writer's stale-until instant on the reader's clock,
        // so a reader 2 minutes ahead of the writer finds a 70 s window over, and the factory's exception propagates
        // although Redis still holds the value (physically, for Ttl + FailSafe on the server's clock).
        var writer = Process("writer", -120);
        var reader = Process("reader", 0);
        Assert.That(await Call(async, writer, () => "v1", s_failSafe), Is.EqualTo("v1"));

        Assert.That(async () => await Call(async, reader, Fail, s_failSafe), Throws.InvalidOperationException);
        Assert.That(await Call(async, writer, () => "not called", s_failSafe), Is.EqualTo("v1"), "the writer's own clock still finds it fresh");
        AssertNothingLogged();
    }

    [Test]
    public async Task A_wall_clock_jump_while_the_factory_runs_neither_takes_away_nor_prolongs_the_last_value_it_read([Values] bool async, [Values(-1, 1)] int direction)
    {
        var process = Process("jumping", 0);
        Assert.That(await Call(async, process, () => "v1", s_failSafe), Is.EqualTo("v1"));
        _time.Advance(s_ttl + TimeSpan.FromSeconds(1));

        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new ManualResetEventSlim();
        string Failing()
        {
            entered.SetResult();
            release.Wait(TimeSpan.FromSeconds(10));
            return Fail();
        }

        var failing = Task.Run(() => Call(async, process, Failing, s_failSafe));
        await entered.Task;
        ((SkewedClock)process.TimeProvider).Offset += direction * TimeSpan.FromHours(1);
        release.Set();

        // The last value was read with 59 s of its window left, on the monotonic clock: an hour's jump of the wall clock
        // while the factory ran takes none of it away (forward) and adds none to the throttle's write-back (back).
        Assert.That(await failing.WaitAsync(TimeSpan.FromSeconds(10)), Is.EqualTo("v1"));
        var written = (await _admin.GetDatabase().KeyTimeToLiveAsync(_space + ":k"))!.Value;
        Assert.That(written, Is.LessThanOrEqualTo(s_failSafe.FailSafe!.Value), "no more life than Ttl + FailSafe left it");
        Assert.That(await Call(async, process, () => "not called", s_failSafe), Is.EqualTo("v1"), "throttled");
    }

    [Test]
    public async Task A_process_whose_wall_clock_jumps_forward_past_Ttl_calls_the_factory_once_not_on_every_call([Values] bool async)
    {
        // Entries read from Redis are stamped on the writer's wall clock: a jump of the reader's reads as that much skew.
        var process = Process("jumping", 0);
        var calls = 0;
        Assert.That(await Call(async, process, () => "v" + ++calls, s_failSafe), Is.EqualTo("v1"));

        ((SkewedClock)process.TimeProvider).Offset += TimeSpan.FromMinutes(2);
        for (var i = 0; i < 10; i++)
        {
            Assert.That(await Call(async, process, () => "v" + ++calls, s_failSafe), Is.EqualTo("v2"));
        }

        Assert.That(calls, Is.EqualTo(2));
        AssertNothingLogged();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Tags: versions are random tokens, not times
    // ---------------------------------------------------------------------------------------------------------------

    [Test]
    public async Task An_invalidation_reaches_entries_a_skewed_process_wrote_in_both_directions([Values] bool async, [Values(-3600, 3600)] int lead)
    {
        var tagged = s_failSafe with { Tags = ["t"] };
        var skewed = Process("skewed", lead);
        var other = Process("other", 0);
        var calls = 0;
        Assert.That(await Call(async, skewed, () => "v" + ++calls, tagged), Is.EqualTo("v1"));
        Assert.That(await Call(async, skewed, () => "v" + ++calls, tagged), Is.EqualTo("v1"));

        await other.InvalidateTagsAsync(["t"]);
        Assert.That(await skewed.GetAsync<string>("k"), Is.Null, "a plain read after the invalidation misses");
        Assert.That(await Call(async, skewed, () => "v" + ++calls, tagged), Is.EqualTo("v2"));

        skewed.InvalidateTags("t");
        Assert.That(await other.GetAsync<string>("k"), Is.Null);
        var answer = await Call(async, other, () => "v" + ++calls, tagged);
        Assert.That(answer, Is.EqualTo("v3"));
        AssertNothingLogged();
    }

    [Test]
    public async Task A_value_a_skewed_process_computes_while_another_invalidates_is_not_served_afterwards([Values(-3600, 3600)] int lead)
    {
        var tagged = s_failSafe with { Tags = ["t"] };
        var skewed = Process("skewed", lead);
        var other = Process("other", 0);
        var (computing, release) = await Entered(skewed, tagged, "computed-before");
        await other.InvalidateTagsAsync(["t"]);
        release.SetResult();
        Assert.That(await computing, Is.EqualTo("computed-before"), "its own caller gets it");

        Assert.That(await skewed.GetAsync<string>("k"), Is.Null, "the value computed across the invalidation was not stored");
        Assert.That(await other.GetOrSetAsync("k", _ => new ValueTask<string>("after"), tagged), Is.EqualTo("after"));

        // An hour ahead, the skewed process finds the other's entry (fresh 10 s on its writer's clock) stale: it computes
        // its own, and what it answers is never the value computed across the invalidation.
        var expected = lead < 0 ? "after" : "recomputed";
        Assert.That(await skewed.GetOrSetAsync("k", _ => new ValueTask<string>("recomputed"), tagged), Is.EqualTo(expected));
    }

    [Test]
    public async Task Generated_methods_on_skewed_processes_share_entries_invalidations_and_fail_safe([Values(-120, 120)] int lead)
    {
        ClockSkewSource.Reset();
        Caches.AddInstance(ClockSkewedPrices.Alias, Process("skewed", lead));
        Caches.AddInstance(ClockTruePrices.Alias, Process("true", 0));
        var (skewed, other) = (new ClockSkewedPrices(), new ClockTruePrices());
        Assert.That(await skewed.PriceAsync("tea"), Is.EqualTo("skewed:tea:1"));

        // 2 minutes behind, the skewed process wrote an entry that is stale on the other's clock: one call there.
        var seen = lead < 0 ? "true:tea:1" : "skewed:tea:1";
        Assert.That(await other.PriceAsync("tea"), Is.EqualTo(seen));
        Assert.That(await other.PriceAsync("tea"), Is.EqualTo(seen));
        Assert.That(await skewed.PriceAsync("tea"), Is.EqualTo(seen), "the skewed process reads it as fresh (or its own)");

        await other.SaveAsync("tea");
        var recomputed = await skewed.PriceAsync("tea");
        Assert.That(recomputed, Does.StartWith("skewed:tea:"), "the invalidation reaches the skewed process");
        Assert.That(recomputed, Is.Not.EqualTo("skewed:tea:1"));

        _time.Advance(s_ttl + TimeSpan.FromSeconds(1));
        ClockSkewSource.Down = true;
        Assert.That(await skewed.PriceAsync("tea"), Is.EqualTo(recomputed), "fail-safe on the writer's clock");
        if (lead < 0)
        {
            // The writer 2 minutes behind, its 70 s window is over on the other's clock: no last value (docs/redis.md).
            Assert.That(async () => await other.PriceAsync("tea"), Throws.InvalidOperationException);
        }
        else
        {
            Assert.That(await other.PriceAsync("tea"), Is.EqualTo(recomputed), "fail-safe on a clock behind the writer's");
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Two levels
    // ---------------------------------------------------------------------------------------------------------------

    [Test]
    public async Task Two_levels_a_skewed_nodes_tagged_entry_is_read_invalidated_and_replaced_on_the_other([Values(-120, 120)] int lead)
    {
        var tagged = s_failSafe with { Tags = ["t"] };
        var skewed = Node("skewed", lead);
        var other = Node("other", 0);
        var calls = 0;
        Assert.That(await skewed.GetOrSetAsync("k", _ => new ValueTask<string>("v" + ++calls), tagged), Is.EqualTo("v1"));

        // Behind by 2 minutes, the skewed node's entry is stale on the other's clock: it computes its own, once, which the
        // skewed node reads (once the backplane dropped its L1 copy) as fresh for 2 minutes more than Ttl.
        var seen = lead < 0 ? "v2" : "v1";
        Assert.That(await other.GetOrSetAsync("k", _ => new ValueTask<string>("v" + ++calls), tagged), Is.EqualTo(seen));
        Assert.That(await other.GetOrSetAsync("k", _ => new ValueTask<string>("v" + ++calls), tagged), Is.EqualTo(seen));
        await Eventually(async () => await skewed.GetOrSetAsync("k", _ => new ValueTask<string>("v" + ++calls), tagged) == seen, "the skewed node reads the other's value");
        Assert.That(calls, Is.EqualTo(lead < 0 ? 2 : 1), "one factory call per node at most");

        await skewed.InvalidateTagsAsync(["t"]);
        await Eventually(async () => await other.GetAsync<string>("k") is null, "the invalidation reaches the other node's L1");
        Assert.That(await other.GetOrSetAsync("k", _ => new ValueTask<string>("new"), tagged), Is.EqualTo("new"));

        // Ahead by 2 minutes, the skewed node finds the other's new entry stale and computes its own: never the old one.
        Assert.That(await skewed.GetOrSetAsync("k", _ => new ValueTask<string>("skewed-new"), tagged), Is.EqualTo(lead < 0 ? "new" : "skewed-new"));
        AssertNothingLogged();
    }

    [Test]
    public async Task Two_levels_an_L1_copy_is_no_fresher_than_its_stamp_on_the_readers_clock([Values(-5, 5)] int lead)
    {
        var skewed = Node("skewed", lead);
        var other = Node("other", 0);
        Assert.That(await skewed.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_failSafe), Is.EqualTo("v1"));
        Assert.That(await other.GetOrSetAsync("k", _ => new ValueTask<string>("not called"), s_failSafe), Is.EqualTo("v1"), "read into the other's L1");

        _time.Advance(s_ttl + TimeSpan.FromSeconds(lead + 1));
        Assert.That(await other.GetOrSetAsync("k", _ => new ValueTask<string>("v2"), s_failSafe), Is.EqualTo("v2"), "stale past Ttl + lead, in L1 too");
        AssertNothingLogged();
    }

    /// <summary>
    /// A process's clock: the shared fake time's monotonic timestamps and timers, its wall clock off by
    /// <see cref="Offset"/>, which a test moves to make the wall clock jump.
    /// </summary>
    private sealed class SkewedClock(FakeTimeProvider time, TimeSpan offset) : TimeProvider
    {
        public TimeSpan Offset { get; set; } = offset;

        public override long TimestampFrequency => time.TimestampFrequency;

        public override DateTimeOffset GetUtcNow() => time.GetUtcNow() + Offset;

        public override long GetTimestamp() => time.GetTimestamp();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
            => time.CreateTimer(callback, state, dueTime, period);
    }
}

/// <summary>The source behind the generated methods of <see cref="OutsiderClockSkewReviewTests"/>: counts calls per process.</summary>
internal static class ClockSkewSource
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> s_calls = new();

    public static bool Down { get; set; }

    public static void Reset()
    {
        s_calls.Clear();
        Down = false;
    }

    public static Task<string> Price(string process, string sku)
        => Down ? throw new InvalidOperationException("source down") : Task.FromResult(process + ":" + sku + ":" + s_calls.AddOrUpdate(process, 1, static (_, n) => n + 1));
}

/// <summary>A generated method on the skewed process of <see cref="OutsiderClockSkewReviewTests"/>.</summary>
public partial class ClockSkewedPrices
{
    public const string Alias = "clock-skewed";

    [Cached(Alias = Alias, Key = "price:{sku}", Ttl = 10, FailSafe = 60, FailSafeThrottle = 5, EagerRefresh = 0.5, Tags = new[] { "price:{sku}" })]
    public partial Task<string> PriceAsync(string sku);

    private Task<string> PriceAsyncCore(string sku) => ClockSkewSource.Price("skewed", sku);
}

/// <summary>The same method on the process whose clock is true, with an invalidation.</summary>
public partial class ClockTruePrices
{
    public const string Alias = "clock-true";

    [Cached(Alias = Alias, Key = "price:{sku}", Ttl = 10, FailSafe = 60, FailSafeThrottle = 5, EagerRefresh = 0.5, Tags = new[] { "price:{sku}" })]
    public partial Task<string> PriceAsync(string sku);

    private Task<string> PriceAsyncCore(string sku) => ClockSkewSource.Price("true", sku);

    [InvalidateTags("price:{sku}", Alias = Alias)]
    public partial Task SaveAsync(string sku);

    private Task SaveAsyncCore(string sku) => Task.CompletedTask;
}
