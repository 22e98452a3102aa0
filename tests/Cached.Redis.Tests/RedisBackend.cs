using Cached.Redis;
using Cached.Redis.Tests.Infrastructure;
using Cached.Serializers;
using StackExchange.Redis;

namespace Cached.Tests.Backends;

/// <summary>
/// The Redis backend for the shared command fixture, on one server or on the 3-primary cluster. Time is moved on the
/// server rather than waited for: <see cref="Advance"/> takes the duration off every key's time to live.
/// </summary>
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

    private string ConnectionString => cluster ? SharedRedis.Cluster.ConnectionString : SharedRedis.Server.ConnectionString;

    /// <summary>
    /// Lets <paramref name="duration"/> pass for every key of the server (each primary of the cluster): a key with a
    /// time to live keeps what is left of it less the duration, and one with nothing left is gone, as if the time had
    /// passed. Sleeping for it instead made "still there 300 ms into a 700 ms ttl" a bet that a loaded machine
    /// oversleeps and answers within 400 ms. The server still expires the keys itself; only the waiting is saved.
    /// </summary>
    public override void Advance(TimeSpan duration)
    {
        using var admin = ConnectionMultiplexer.Connect(ConnectionString + ",allowAdmin=true,name=cached-tests-clock");
        var database = admin.GetDatabase();
        foreach (var endpoint in admin.GetEndPoints())
        {
            var server = admin.GetServer(endpoint);
            if (server.IsReplica)
            {
                continue;
            }

            foreach (var key in server.Keys(pattern: "*", pageSize: 1_000))
            {
                if (database.KeyTimeToLive(key) is not { } left)
                {
                    continue;
                }

                if (left > duration)
                {
                    database.KeyExpire(key, left - duration);
                }
                else
                {
                    database.KeyDelete(key);
                }
            }
        }
    }
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
