using Cached.Redis;
using Cached.Serializers;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// A TTL under a millisecond follows the rule of every backend: rounded up to 1 ms. Redis keeps whole milliseconds, so
/// such a TTL used to reach it as 0 ("invalid expire time") and MultiSet reported success for writes that never happened.
/// </summary>
public sealed class SubMillisecondTtlTests
{
    private static readonly TimeSpan s_halfMillisecond = TimeSpan.FromTicks(TimeSpan.TicksPerMillisecond / 2);
    private ConnectionMultiplexer _probe = null!;

    [OneTimeSetUp]
    public void Connect() => _probe = ConnectionMultiplexer.Connect($"{SharedRedis.Server.ConnectionString},name=cached-tests-probe");

    [OneTimeTearDown]
    public void Disconnect() => _probe.Dispose();

    private static RedisCache NewCache() => new()
    {
        ConnectionString = SharedRedis.Server.ConnectionString,
        Namespace = "sub-ms:" + Guid.NewGuid().ToString("N"),
        Serializer = new JsonSerializer(),
    };

    [Test]
    public async Task Every_write_with_a_half_millisecond_ttl_succeeds_with_a_one_millisecond_expiry()
    {
        using var cache = NewCache();

        Assert.DoesNotThrow(() => cache.Set("a", 1, s_halfMillisecond));
        Assert.That(await cache.SetAsync("b", 1, s_halfMillisecond), Is.True);
        Assert.That(cache.Add("c", 1, s_halfMillisecond), Is.True);
        Assert.That(cache.MultiSet([new KeyValuePair<string, int>("d", 1)], s_halfMillisecond), Is.True);
        Assert.That(await cache.MultiSetAsync([new KeyValuePair<string, int>("e", 1)], s_halfMillisecond), Is.True);
        cache.Set("f", 1);
        Assert.That(cache.Expire("f", s_halfMillisecond), Is.True);
    }

    [Test]
    public void A_multiset_with_a_ttl_reports_true_only_after_every_write_is_stored()
    {
        using var cache = NewCache();

        Assert.That(cache.MultiSet([new KeyValuePair<string, int>("x", 1), new("y", 2)], TimeSpan.FromMinutes(1)), Is.True);

        var db = _probe.GetDatabase();
        Assert.That(db.KeyTimeToLive(cache.BuildKey("x")), Is.Not.Null.And.GreaterThan(TimeSpan.FromSeconds(50)));
        Assert.That(db.KeyTimeToLive(cache.BuildKey("y")), Is.Not.Null.And.GreaterThan(TimeSpan.FromSeconds(50)));
    }
}
