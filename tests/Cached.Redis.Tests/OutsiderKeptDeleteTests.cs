using System.Diagnostics;
using Cached.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// Found from outside, with the packed packages and three OS processes on one redis-server (an [InvalidateCache] on a
/// two-level alias made while the server was down, the server then started again with its data): the kept delete
/// landed about 5 s after the server answered again, and in between every node, the one that invalidated included,
/// read the value the invalidation had dropped back from L2. Here node A reaches Redis (L2 and backplane) through a
/// proxy that is cut for a while, as a network outage that keeps the server's data; node B reaches it directly.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderKeptDeleteTests
{
    private readonly List<IAsyncDisposable> _disposables = [];

    [TearDown]
    public async Task DisposeAll()
    {
        await _disposables.DisposeAllAsync();
    }

    private MultiLevelCache Node(string connection, string @namespace)
    {
        var node = new MultiLevelCache(
            new SimpleMemoryCache(),
            new RedisCache { ConnectionString = connection + ",abortConnect=false", Namespace = @namespace, Timeout = TimeSpan.FromSeconds(1) },
            new RedisBackplane(connection + ",abortConnect=false,name=cached-backplane"));
        _disposables.Add(node);
        return node;
    }

    /// <summary>A read of the key on a node: its value, "nothing" for a miss, "unreachable" when its L2 cannot answer.</summary>
    private static async Task<string> Read(MultiLevelCache node)
    {
        try
        {
            return await node.GetAsync<string>("user:1") ?? "nothing";
        }
        catch (CacheBackendException)
        {
            return "unreachable";
        }
    }

    [Test]
    public async Task A_delete_kept_through_an_outage_lands_before_the_invalidating_node_reads_the_dropped_value_back()
    {
        var space = "outsider" + Guid.NewGuid().ToString("N")[..8];
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var a = Node(proxy.ConnectionString, space);
        var b = Node(SharedRedis.Server.ConnectionString, space);
        await b.SetAsync("user:1", "old", ttl: TimeSpan.FromMinutes(5));
        Assert.That(await a.GetAsync<string>("user:1"), Is.EqualTo("old"));

        // The outage: A invalidates (the source changed); its L2 is unreachable, so the delete is kept.
        proxy.Cut();
        var cutOff = Stopwatch.StartNew();
        while (a.PendingWriteCount == 0)
        {
            await a.DeleteAsync("user:1");
            Assert.That(cutOff.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "A's delete is kept while its L2 is cut off");
        }

        Assert.That(await Read(a), Is.AnyOf("nothing", "unreachable"), "A's own reads no longer answer the dropped value");

        // An outage of some seconds, as a restart or a network blip takes. (The retries of the kept delete back off
        // from 50 ms, doubling up to 5 s: after 6.5 s the next one is due about 11.4 s after the delete.)
        await Task.Delay(TimeSpan.FromSeconds(6.5));
        proxy.Restore();

        // From now on A answers as it did right after its delete (a miss, never the value it dropped), and the kept
        // delete reaches L2 about when A's connections come back, not a retry backoff later.
        var back = Stopwatch.StartNew();
        var reads = new List<string>();
        TimeSpan? answered = null;
        while (a.PendingWriteCount > 0 && back.Elapsed < TimeSpan.FromSeconds(15))
        {
            try
            {
                var value = await a.L2.GetAsync<string>("user:1");
                answered ??= back.Elapsed;
                reads.Add($"{back.Elapsed.TotalMilliseconds:F0} ms: L2 holds {value ?? "nothing"}, A reads {await Read(a)}");
            }
            catch (CacheBackendException)
            {
                // A's L2 is not back yet.
            }

            await Task.Delay(50);
        }

        var drained = back.Elapsed;
        TestContext.Out.WriteLine($"A's L2 answered {answered?.TotalMilliseconds:F0} ms after the restore; the kept delete landed after {drained.TotalMilliseconds:F0} ms");
        var stale = reads.Where(static r => r.EndsWith("A reads old", StringComparison.Ordinal)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(stale, Is.Empty, "the invalidating node read the value it had invalidated back from L2: " + string.Join("; ", stale.Take(3)) + $" ... ({stale.Count} of {reads.Count} reads)");
            Assert.That(drained - (answered ?? drained), Is.LessThan(TimeSpan.FromSeconds(2.5)), "the kept delete landed well after L2 answered again (a retry backed off by then comes seconds later)");
        });
        // The landed delete is published: B drops the copy it took of L2's entry (its own write's, or one read back
        // before the delete landed) once the message reaches it.
        var told = Stopwatch.StartNew();
        while (await b.GetAsync<string>("user:1") is not null)
        {
            Assert.That(told.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "once the delete landed, B misses too");
            await Task.Delay(10);
        }
    }
}
