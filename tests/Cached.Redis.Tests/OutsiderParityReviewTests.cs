using Cached.Redis.Tests.Infrastructure;
using StackExchange.Redis;
using JsonSerializer = Cached.Serializers.JsonSerializer;

namespace Cached.Redis.Tests;

/// <summary>
/// An outside parity review against /work/shared/reference/aiocache-semantics.md on a real redis-server: behaviours the
/// inventory gives for aiocache's RedisCache, each quoted in its test's comment.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderParityReviewTests
{
    private ConnectionMultiplexer _admin = null!;
    private readonly List<IDisposable> _disposables = [];

    [OneTimeSetUp]
    public void ConnectAdmin()
        => _admin = ConnectionMultiplexer.Connect($"{SharedRedis.Server.ConnectionString},allowAdmin=true,name=cached-parity-review-admin");

    [OneTimeTearDown]
    public void DisconnectAdmin() => _admin.Dispose();

    [SetUp]
    public void FlushBefore() => _admin.GetServer(_admin.GetEndPoints()[0]).FlushAllDatabases();

    [TearDown]
    public void DisposeCaches()
    {
        foreach (var disposable in Enumerable.Reverse(_disposables))
        {
            disposable.Dispose();
        }

        _disposables.Clear();
    }

    private RedisCache NewCache(string? @namespace = "main")
    {
        var cache = new RedisCache
        {
            ConnectionString = SharedRedis.Server.ConnectionString,
            Namespace = @namespace,
            Serializer = new JsonSerializer(),
        };
        _disposables.Add(cache);
        return cache;
    }

    // Inventory 1.13, OptimisticLock.cas: "`client.set(self.key, value, _cas_token=_token, **kwargs)` ... Token `None`
    // (key absent at lock time) → never conflicts [test `test_check_and_set_not_existing_never_fails`]" (upstream runs
    // that test on memory and redis: a conflicting set inside the lock, then cas succeeds). docs/migration.md, Locks:
    // "on Redis, as in aiocache, the stored bytes are compared".
    // docs/migration.md, "Where we differ on purpose", 14 (added after this review): on every backend `Cas` throws.
    [Test]
    public void OptimisticLock_on_a_key_absent_at_lock_time_fails_when_the_key_was_created_meanwhile_on_redis_as_documented()
    {
        var cache = NewCache();

        using var locked = new OptimisticLock(cache, "k");
        cache.Set("k", "conflicting_value");

        Assert.Throws<OptimisticLockException>(() => locked.Cas("value"));
        Assert.That(cache.Get<string>("k"), Is.EqualTo("conflicting_value"));
    }

    // docs/migration.md, "Where we differ on purpose", 15 (added after this review): "`Expire(key, TimeSpan.Zero)`
    // answers whether the key exists on every backend", where aiocache's Redis backend answers PERSIST's own reply.
    [Test]
    public void Expire_zero_on_a_redis_key_without_ttl_answers_true_as_on_memory_as_documented()
    {
        var cache = NewCache();
        cache.Set("k", 1);

        Assert.That(cache.Expire("k", TimeSpan.Zero), Is.True);
        Assert.That(cache.Exists("k"), Is.True);
        Assert.That(cache.Expire("missing", TimeSpan.Zero), Is.False);
    }

    // Inventory 1.9, from_url: "URL password → `password` (it overrides `?password=`) [test
    // `test_from_url_calls_cache_with_args`]"; section 2, item 63: "`redis://:password@localhost:6379?password=pass` →
    // password="password" (the URL password wins)". docs/configuration.md does not say which one wins.
    [Test]
    public void FromUrl_the_url_password_wins_over_the_password_query_parameter()
    {
        using var cache = (RedisCache)Cache.FromUrl("redis://:password@localhost:6379?password=pass");

        Assert.That(cache.Password, Is.EqualTo("password"));
    }

    // Inventory 1.6, RedisCache parse_uri_path: "`"/1/2/3"`→`{"db":"1"}`"; section 2, item 64: "`"/1/2/3"` → db "1"".
    // Item 63: "`redis://localhost` and `redis://localhost/` → endpoint=localhost; `:6379` adds port=6379 (int)".
    [Test]
    public void FromUrl_takes_the_first_path_segment_as_the_database_and_the_host_as_the_endpoint()
    {
        using var deep = (RedisCache)Cache.FromUrl("redis://localhost:6379/1/2/3");
        using var bare = (RedisCache)Cache.FromUrl("redis://localhost/");

        Assert.That((deep.Endpoint, deep.Port, deep.Database), Is.EqualTo(("localhost", 6379, (int?)1)));
        Assert.That(bare.Endpoint, Is.EqualTo("localhost"));
    }
    // Inventory 1.3, close: "The cache stays usable after close"; docs/migration.md, "Where we differ on purpose", 16
    // (added after this review): "A disposed cache stays disposed ... `ObjectDisposedException` after it".
    [Test]
    public void A_disposed_redis_cache_refuses_commands_as_documented()
    {
        var cache = NewCache();
        cache.Set("before", 1);

        cache.Dispose();

        Assert.Throws<ObjectDisposedException>(() => cache.Set("k", "v"));
        Assert.Throws<ObjectDisposedException>(() => cache.Get<string>("k"));
    }
}
