using StackExchange.Redis;

namespace Cached.Redis.Tests.Infrastructure;

/// <summary>
/// A fixture with a Redis Cluster of its own, started once for its tests, and an admin connection to it: tests that
/// move slots must not disturb the ones that share a cluster.
/// </summary>
public abstract class OwnClusterFixture
{
    /// <summary>The fixture's cluster.</summary>
    protected RedisCluster Cluster { get; private set; } = null!;

    /// <summary>A connection to <see cref="Cluster"/> in admin mode, for what the tests look at and set up by hand.</summary>
    protected ConnectionMultiplexer Direct { get; private set; } = null!;

    [OneTimeSetUp]
    public void StartCluster()
    {
        Cluster = new RedisCluster();
        Direct = ConnectionMultiplexer.Connect(Cluster.ConnectionString + ",allowAdmin=true");
    }

    [OneTimeTearDown]
    public void StopCluster()
    {
        Direct?.Dispose();
        Cluster.Dispose();
    }
}
