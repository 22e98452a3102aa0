using Cached.Redis.Tests.Infrastructure;

// In no namespace, so that NUnit runs its one-time teardown after every test of the assembly and no server outlives the run.

/// <summary>The redis-server every fixture of this assembly shares, started once and stopped at the end.</summary>
[SetUpFixture]
public sealed class SharedRedis
{
    private static RedisServer? s_server;
    private static RedisCluster? s_cluster;

    public static RedisServer Server => s_server ??= new RedisServer();

    /// <summary>A 3-primary cluster, started the first time a test needs it.</summary>
    public static RedisCluster Cluster => s_cluster ??= new RedisCluster();

    [OneTimeTearDown]
    public void StopServers()
    {
        s_server?.Dispose();
        s_server = null;
        s_cluster?.Dispose();
        s_cluster = null;
    }
}
