using Cached.Distributed;
using Cached.Hybrid;
using Cached.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// Microsoft's caching abstractions against a real redis-server, both ways: Microsoft's Redis IDistributedCache as a
/// Cached backend, a RedisCache as an IDistributedCache and as a HybridCache shared by two processes.
/// </summary>
[NonParallelizable]
public sealed class DistributedCacheInteropTests
{
    private ConnectionMultiplexer _admin = null!;

    [SetUp]
    public async Task Connect()
    {
        _admin = await ConnectionMultiplexer.ConnectAsync(SharedRedis.Server.ConnectionString + ",allowAdmin=true");
        await _admin.GetServer(_admin.GetEndPoints()[0]).FlushDatabaseAsync();
    }

    [TearDown]
    public async Task Disconnect() => await _admin.DisposeAsync();

    private IDatabase Db => _admin.GetDatabase();

    // As Microsoft's provider is configured by default: a connection that cannot be made fails the call at once.
    private static Microsoft.Extensions.Caching.StackExchangeRedis.RedisCache MicrosoftRedis(string configuration)
        => new(new RedisCacheOptions { Configuration = configuration + ",abortConnect=true,connectTimeout=500", InstanceName = "ms:" });

    [Test]
    public async Task Microsofts_Redis_provider_serves_as_a_backend([Values] bool async)
    {
        using var provider = MicrosoftRedis(SharedRedis.Server.ConnectionString);
        using var cache = new DistributedCacheBackend(provider) { Namespace = "app" };
        var calls = 0;

        if (async)
        {
            await cache.SetAsync("k", new[] { 1, 2 }, TimeSpan.FromMinutes(1));
            Assert.That(await cache.GetAsync<int[]>("k"), Is.EqualTo(new[] { 1, 2 }));
            Assert.That(await cache.GetOrSetAsync("lazy", _ => ValueTask.FromResult(++calls)), Is.EqualTo(1));
            Assert.That(await cache.GetOrSetAsync("lazy", _ => ValueTask.FromResult(++calls)), Is.EqualTo(1));
            Assert.That(await cache.DeleteAsync("k"), Is.EqualTo(1));
        }
        else
        {
            cache.Set("k", new[] { 1, 2 }, TimeSpan.FromMinutes(1));
            Assert.That(cache.Get<int[]>("k"), Is.EqualTo(new[] { 1, 2 }));
            Assert.That(cache.GetOrSet("lazy", _ => ++calls), Is.EqualTo(1));
            Assert.That(cache.GetOrSet("lazy", _ => ++calls), Is.EqualTo(1));
            Assert.That(cache.Delete("k"), Is.EqualTo(1));
        }

        // Microsoft's provider keeps each entry as a hash with its own expiry, under its instance name.
        Assert.That(await Db.KeyExistsAsync("ms:app:k"), Is.False);
        Assert.That(await Db.KeyTypeAsync("ms:app:lazy"), Is.EqualTo(RedisType.Hash));
        Assert.That(calls, Is.EqualTo(1));
    }

    [Test]
    public async Task A_time_to_live_becomes_the_provider_s_expiry_on_the_server()
    {
        using var provider = MicrosoftRedis(SharedRedis.Server.ConnectionString);
        using var cache = new DistributedCacheBackend(provider);

        await cache.SetAsync("k", "v", TimeSpan.FromSeconds(30));
        await cache.SetAsync("forever", "v");

        var ttl = await Db.KeyTimeToLiveAsync("ms:k");
        Assert.That(ttl, Is.Not.Null.And.GreaterThan(TimeSpan.FromSeconds(25)).And.LessThanOrEqualTo(TimeSpan.FromSeconds(30)));
        Assert.That(await Db.KeyTimeToLiveAsync("ms:forever"), Is.Null);
    }

    [Test]
    public void The_commands_it_cannot_do_atomically_are_refused_before_reaching_the_server()
    {
        using var provider = MicrosoftRedis(SharedRedis.Server.ConnectionString);
        using var cache = new DistributedCacheBackend(provider);

        Assert.That(() => cache.Add("k", 1), Throws.InstanceOf<NotSupportedException>().With.Message.Contains("Add"));
        Assert.That(() => cache.Increment("k"), Throws.InstanceOf<NotSupportedException>().With.Message.Contains("Increment"));
        Assert.That(async () => await cache.ClearAsync(), Throws.InstanceOf<NotSupportedException>().With.Message.Contains("Clear"));
        Assert.That(Db.KeyExists("ms:k"), Is.False);
    }

    [Test]
    public async Task An_unreachable_server_fails_open_and_the_client_s_connection_failure_is_flagged_unreachable()
    {
        // Against a closed port the provider reports a RedisConnectionException or, once it retries in the background,
        // a timeout; either way a read-through answers from the factory.
        using var closed = PortReservation.Take();
        using var provider = MicrosoftRedis($"127.0.0.1:{closed.Port}");
        using var cache = new DistributedCacheBackend(provider);
        Assert.That(await cache.GetOrSetAsync("k", _ => ValueTask.FromResult(5)), Is.EqualTo(5));

        // The client's own connection failure, as StackExchange.Redis throws it, is recognised by its type's name.
        using var failing = new DistributedCacheBackend(new FailingProvider(new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "It was not possible to connect", null, CommandStatus.Unknown)));
        var failure = Assert.ThrowsAsync<CacheBackendException>(async () => await failing.GetAsync<int>("k"));
        Assert.That(failure!.Unreachable, Is.True);
        Assert.That(failure.InnerException, Is.InstanceOf<RedisConnectionException>());
    }

    private sealed class FailingProvider(Exception failure) : IDistributedCache
    {
        public byte[]? Get(string key) => throw failure;

        public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => Task.FromException<byte[]?>(failure);

        public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => throw failure;

        public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) => Task.FromException(failure);

        public void Refresh(string key) => throw failure;

        public Task RefreshAsync(string key, CancellationToken token = default) => Task.FromException(failure);

        public void Remove(string key) => throw failure;

        public Task RemoveAsync(string key, CancellationToken token = default) => Task.FromException(failure);
    }

    [Test]
    public async Task A_RedisCache_as_an_IDistributedCache_keeps_sliding_entries_alive_on_the_server()
    {
        using var cache = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString };
        var distributed = cache.AsDistributedCache("session");
        await distributed.SetAsync("s1", [1, 2, 3], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(20) });

        var written = await Db.KeyTimeToLiveAsync("session:s1");
        Assert.That(written, Is.Not.Null.And.GreaterThan(TimeSpan.FromMinutes(19)));
        await Db.KeyExpireAsync("session:s1", TimeSpan.FromSeconds(5));

        Assert.That(await distributed.GetAsync("s1"), Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(await Db.KeyTimeToLiveAsync("session:s1"), Is.GreaterThan(TimeSpan.FromMinutes(19)), "the read slid the window");
        await distributed.RemoveAsync("s1");
        Assert.That(await Db.KeyExistsAsync("session:s1"), Is.False);
    }

    [Test]
    public async Task Two_processes_share_a_HybridCache_on_Redis_and_a_tag_removed_in_one_is_gone_in_the_other()
    {
        using var first = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString + ",name=hybrid-a", Namespace = "hybrid" };
        using var second = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString + ",name=hybrid-b", Namespace = "hybrid" };
        HybridCache a = first.AsHybridCache(), b = second.AsHybridCache();
        var options = new HybridCacheEntryOptions { Expiration = TimeSpan.FromMinutes(1) };

        Assert.That(await a.GetOrCreateAsync("user:1", ct => ValueTask.FromResult("Ada"), options, ["users"]), Is.EqualTo("Ada"));
        Assert.That(await b.GetOrCreateAsync("user:1", ct => ValueTask.FromResult("not called"), options, ["users"]), Is.EqualTo("Ada"));

        await b.RemoveByTagAsync("users");

        Assert.That(await a.GetOrCreateAsync("user:1", ct => ValueTask.FromResult("Ada 2"), options, ["users"]), Is.EqualTo("Ada 2"));
        await a.RemoveAsync("user:1");
        Assert.That(await Db.KeyExistsAsync("hybrid:user:1"), Is.False);
    }
}
