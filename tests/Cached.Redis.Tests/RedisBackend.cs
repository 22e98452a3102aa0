using Cached.Redis;
using Cached.Redis.Tests.Infrastructure;
using Cached.Serializers;

namespace Cached.Tests.Backends;

/// <summary>The Redis backend for the shared command fixture, on one server or on the 3-primary cluster. Time passes for real on a server.</summary>
public sealed class RedisBackend(bool cluster) : CacheBackend
{
    public override string Name => cluster ? "redis-cluster" : "redis";

    public override BaseCache Create(CacheOptions options) => new RedisCache
    {
        ConnectionString = cluster ? SharedRedis.Cluster.ConnectionString : SharedRedis.Server.ConnectionString,
        Namespace = options.Namespace,
        Ttl = options.Ttl,
        Plugins = options.Plugins,
        KeyBuilder = options.KeyBuilder,
        Serializer = options.Serializer ?? new JsonSerializer(),
    };

    public override void Advance(TimeSpan duration) => Thread.Sleep(duration);
}

/// <summary>The backends the linked command fixture runs on in this assembly.</summary>
public static class Backends
{
    public static IEnumerable<TestFixtureData> All()
    {
        yield return new TestFixtureData(new RedisBackend(cluster: false)).SetArgDisplayNames("redis");
        yield return new TestFixtureData(new RedisBackend(cluster: true)).SetArgDisplayNames("redis-cluster");
    }
}
