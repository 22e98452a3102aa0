namespace Cached.Redis.Tests.Infrastructure;

/// <summary>The redis-server every fixture of this assembly shares, started once and stopped at the end.</summary>
[SetUpFixture]
public sealed class SharedRedis
{
    private static RedisServer? s_server;

    public static RedisServer Server => s_server ??= new RedisServer();

    [OneTimeTearDown]
    public void StopServer()
    {
        s_server?.Dispose();
        s_server = null;
    }
}
