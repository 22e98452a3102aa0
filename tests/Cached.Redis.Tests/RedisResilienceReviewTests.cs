using Cached.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// A review of GetOrSet with resilience options on a real redis-server: the server's TTL of a fail-safe entry after
/// a throttle and after a fresh value (read with PTTL on a connection of the test's own), a FailSafe too long for a
/// TimeSpan sum, and GetOrSet while the server is down and once it is back.
/// </summary>
[NonParallelizable]
public sealed class RedisResilienceReviewTests
{
    private static readonly CacheEntryOptions s_failSafe = new()
    {
        Ttl = TimeSpan.FromSeconds(10),
        FailSafe = TimeSpan.FromSeconds(60),
        FailSafeThrottle = TimeSpan.FromSeconds(5),
    };

    private RecordingLogs _logs = null!;

    [SetUp]
    public void SetUp() => CachedLogging.LoggerFactory = _logs = new RecordingLogs();

    [TearDown]
    public void TearDown() => CachedLogging.LoggerFactory = NullLoggerFactory.Instance;

    [Test]
    public async Task A_throttled_last_value_is_kept_by_Redis_until_its_FailSafe_ends_and_a_fresh_value_for_Ttl_plus_FailSafe([Values] bool async)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var admin = await ConnectionMultiplexer.ConnectAsync(SharedRedis.Server.ConnectionString);
        var db = admin.GetDatabase();
        await db.KeyDeleteAsync("review:k");
        await using var cache = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString, Namespace = "review", TimeProvider = time };
        await cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_failSafe);
        time.Advance(TimeSpan.FromSeconds(11));

        var served = async
            ? await cache.GetOrSetAsync<string>("k", _ => throw new InvalidOperationException("source down"), s_failSafe)
            : cache.GetOrSet<string>("k", _ => throw new InvalidOperationException("source down"), s_failSafe);

        Assert.That(served, Is.EqualTo("v1"));
        // Written 11 s (of the fake clock) after the entry, whose fail-safe window ends at 70 s: 59 s left.
        Assert.That((long)await db.ExecuteAsync("PTTL", "review:k"), Is.InRange(57_000, 59_000));
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.That(await cache.GetOrSetAsync("k", _ => new ValueTask<string>("not called"), s_failSafe), Is.EqualTo("v1"), "within the 5 s throttle");
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.That(await cache.GetOrSetAsync("k", _ => new ValueTask<string>("v2"), s_failSafe), Is.EqualTo("v2"), "the throttle over, the factory runs");
        Assert.That((long)await db.ExecuteAsync("PTTL", "review:k"), Is.InRange(68_000, 70_000));
    }

    [Test]
    public async Task A_FailSafe_of_TimeSpan_MaxValue_stores_the_entry_with_a_server_TTL([Values] bool async)
    {
        await using var admin = await ConnectionMultiplexer.ConnectAsync(SharedRedis.Server.ConnectionString);
        var db = admin.GetDatabase();
        await db.KeyDeleteAsync("review:forever");
        await using var cache = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString, Namespace = "review" };
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), FailSafe = TimeSpan.MaxValue };

        var value = async ? await cache.GetOrSetAsync("forever", _ => new ValueTask<int>(5), options) : cache.GetOrSet("forever", _ => 5, options);

        Assert.That(value, Is.EqualTo(5));
        Assert.That((long)await db.ExecuteAsync("PTTL", "review:forever"), Is.GreaterThan(TimeSpan.FromDays(3650).TotalMilliseconds).Or.EqualTo(-1));
    }

    [Test]
    public async Task While_the_server_is_down_GetOrSet_answers_from_the_factory_logs_once_and_caches_again_once_it_is_back([Values] bool failSafe)
    {
        var options = failSafe ? s_failSafe : null;
        using var server = new RedisServer();
        await using var cache = new RedisCache { ConnectionString = server.ConnectionString, Namespace = "down" };
        Assert.That(await cache.GetOrSetAsync("before", _ => new ValueTask<int>(1), options), Is.EqualTo(1));

        server.Stop();
        var calls = 0;
        for (var i = 0; i < 10; i++)
        {
            Assert.That(cache.GetOrSet("sync" + i, _ => { calls++; return i; }, options), Is.EqualTo(i));
            Assert.That(await cache.GetOrSetAsync("async" + i, _ => { calls++; return new ValueTask<int>(i); }, options), Is.EqualTo(i));
        }

        Assert.That(calls, Is.EqualTo(20), "every call ran its factory");
        Assert.That(_logs.Ids, Is.EqualTo(new[] { 10 }), string.Join("\n", _logs.Messages));

        server.Start();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!_logs.Ids.Contains(11))
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the end of the outage was never logged: " + string.Join("\n", _logs.Messages));
            await cache.GetOrSetAsync("probe", _ => new ValueTask<int>(0), options);
            await Task.Delay(50);
        }

        calls = 0;
        Assert.That(await cache.GetOrSetAsync("after", _ => { calls++; return new ValueTask<int>(5); }, options), Is.EqualTo(5));
        Assert.That(await cache.GetOrSetAsync("after", _ => { calls++; return new ValueTask<int>(6); }, options), Is.EqualTo(5));
        Assert.That(cache.GetOrSet("after", _ => { calls++; return 6; }, options), Is.EqualTo(5));
        Assert.That(calls, Is.EqualTo(1), "cached again");
    }
    [Test]
    public async Task An_eager_refresh_answers_the_current_value_runs_once_and_gives_the_entry_a_new_server_TTL([Values] bool async)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var admin = await ConnectionMultiplexer.ConnectAsync(SharedRedis.Server.ConnectionString);
        var db = admin.GetDatabase();
        await db.KeyDeleteAsync("review:eager");
        await using var cache = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString, Namespace = "review", TimeProvider = time };
        var eager = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), FailSafe = TimeSpan.FromSeconds(60), EagerRefresh = 0.5 };
        await cache.GetOrSetAsync("eager", _ => new ValueTask<int>(1), eager);
        time.Advance(TimeSpan.FromSeconds(6));
        var calls = 0;
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);

        for (var i = 0; i < 10; i++)
        {
            var hit = async
                ? await cache.GetOrSetAsync("eager", _ => { Interlocked.Increment(ref calls); return new ValueTask<int>(release.Task); }, eager)
                : cache.GetOrSet("eager", _ => { Interlocked.Increment(ref calls); return release.Task.GetAwaiter().GetResult(); }, eager);
            Assert.That(hit, Is.EqualTo(1), "the current value, at once");
        }

        release.SetResult(2);
        var deadline = DateTime.UtcNow + s_limit;
        while (await cache.GetAsync<int>("eager") != 2)
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the refreshed value never landed");
            await Task.Delay(20);
        }

        Assert.That(calls, Is.EqualTo(1), "one refresh for ten late hits");
        Assert.That((long)await db.ExecuteAsync("PTTL", "review:eager"), Is.InRange(68_000, 70_000), "a whole new life on the server");
    }

    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);
}
