using System.Diagnostics;

namespace Cached.Redis.Tests.Infrastructure;

/// <summary>Waits a test needs before it takes a server down or pauses it.</summary>
internal static class Connections
{
    /// <summary>Only ends a wait for a server that will never answer; not a timing claim.</summary>
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Returns once <paramref name="cache"/> has a connection. With a short <see cref="BaseCache.Timeout"/> a cache's
    /// first command waits for the connection only a part of it (a connect attempt of 180 ms for 300 ms) and then
    /// fails while the client goes on connecting in the background; on a loaded machine the first attempt can take
    /// longer. A test that pauses or stops the server after "the cache is connected" must know that it is, or it
    /// sees "not reachable yet" instead of the timeout or failure it is about.
    /// </summary>
    public static void WaitUntilConnected(RedisCache cache)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                cache.Exists("connected?");
                return;
            }
            catch (Exception ex) when (ex is CacheBackendException or TimeoutException && waited.Elapsed < s_limit)
            {
                Thread.Sleep(20);
            }
        }
    }
}
