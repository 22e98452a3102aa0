using Cached.Redis;
using Cached.Serializers;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// Increment on a key that holds a list, a hash or a set throws what <c>ICache.Increment</c> documents,
/// <see cref="CacheValueNotIntegerException"/>, as on a key holding text; other commands on such a key stay backend faults.
/// </summary>
public sealed class RedisWrongTypeTests
{
    private ConnectionMultiplexer _probe = null!;

    [OneTimeSetUp]
    public void Connect() => _probe = ConnectionMultiplexer.Connect($"{SharedRedis.Server.ConnectionString},name=cached-tests-probe");

    [OneTimeTearDown]
    public void Disconnect() => _probe.Dispose();

    private static RedisCache NewCache() => new()
    {
        ConnectionString = SharedRedis.Server.ConnectionString,
        Namespace = "wrongtype:" + Guid.NewGuid().ToString("N"),
        Serializer = new JsonSerializer(),
    };

    [Test]
    public async Task Increment_on_a_list_throws_CacheValueNotIntegerException_and_leaves_the_list()
    {
        using var cache = NewCache();
        var key = cache.BuildKey("list");
        var db = _probe.GetDatabase();
        await db.ListRightPushAsync(key, "a");

        var sync = Assert.Throws<CacheValueNotIntegerException>(() => cache.Increment("list"));
        var async = Assert.ThrowsAsync<CacheValueNotIntegerException>(async () => await cache.IncrementAsync("list"));

        Assert.That(sync!.Key, Is.EqualTo(key));
        Assert.That(async!.InnerException, Is.InstanceOf<RedisServerException>());
        Assert.That(await db.ListLengthAsync(key), Is.EqualTo(1));
        Assert.Throws<CacheBackendException>(() => cache.Get<string>("list"), "a read of the list is still a backend fault");
        await db.KeyDeleteAsync(key);
    }

    [Test]
    public async Task A_batch_read_answers_a_key_of_another_type_missing_as_MGET_does_while_a_single_read_fails()
    {
        // As docs/redis.md says (found by a review): MGET answers nil for a key that is not a string, where GET fails
        // with WRONGTYPE; aiocache's multi_get reads the same. The key still exists for Exists and Add.
        using var cache = NewCache();
        var db = _probe.GetDatabase();
        await db.ListRightPushAsync(cache.BuildKey("list"), "a");
        await cache.SetAsync("text", "value");

        Assert.Throws<CacheBackendException>(() => cache.Get<string>("list"));
        Assert.That(cache.MultiGet<string>(["list", "text"]), Is.EqualTo(new[] { null, "value" }));
        Assert.That((await cache.MultiTryGetAsync<string>(["list"]))[0].Found, Is.False);
        Assert.That(cache.Exists("list"), Is.True);
        Assert.Throws<KeyExistsException>(() => cache.Add("list", "b"));
        await db.KeyDeleteAsync(cache.BuildKey("list"));
    }

    [Test]
    public async Task Once_connected_an_async_read_awaits_the_clients_task_and_still_maps_its_faults()
    {
        // Connected, with a timeout the client bounds itself (5 s): the read is StackExchange.Redis's own task, awaited
        // with no frame of the cache's (RedisCache.TryStartEntryRead), and must read and fail as any read.
        using var cache = NewCache();
        await cache.SetAsync("present", "value");
        var key = cache.BuildKey("list");
        var db = _probe.GetDatabase();
        await db.ListRightPushAsync(key, "a");

        Assert.That(await cache.GetAsync<string>("present"), Is.EqualTo("value"));
        Assert.That((await cache.TryGetAsync<string>("absent")).Found, Is.False);
        var error = Assert.ThrowsAsync<CacheBackendException>(async () => await cache.GetAsync<string>("list"));
        Assert.That(error!.InnerException, Is.InstanceOf<RedisServerException>());
        Assert.That(error.InnerException!.Message, Does.Contain("WRONGTYPE"));
        await db.KeyDeleteAsync(key);
    }
}
