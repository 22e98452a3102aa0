using System.Diagnostics;

namespace Cached.Redis.Tests.Infrastructure;

/// <summary>Waits of tests with several two-level nodes: for a node to hear another, and for a condition to hold.</summary>
internal static class NodeJoins
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Returns once <paramref name="listener"/> takes L1 copies and hears <paramref name="writer"/>'s writes: a node's
    /// L1 takes nothing until its subscription is live.
    /// </summary>
    public static async Task Joined(MultiLevelCache writer, MultiLevelCache listener)
    {
        var waited = Stopwatch.StartNew();
        for (var round = 0; ; round++)
        {
            var key = "joined:" + round;
            await writer.SetAsync(key, "x", ttl: TimeSpan.FromMinutes(1));
            if (await listener.GetAsync<string>(key) == "x" && listener.IsInL1(key))
            {
                await writer.SetAsync(key, "y", ttl: TimeSpan.FromMinutes(1));
                await Eventually(() => !listener.IsInL1(key), "the listener hears the writer");
                return;
            }

            Assert.That(waited.Elapsed, Is.LessThan(s_limit), "the listener's L1 takes copies");
            await Task.Delay(10);
        }
    }

    /// <summary>Returns once <paramref name="condition"/> holds; fails the test, saying <paramref name="what"/>, after 10 seconds.</summary>
    public static async Task Eventually(Func<bool> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.That(waited.Elapsed, Is.LessThan(s_limit), what);
            await Task.Delay(5);
        }
    }
}
