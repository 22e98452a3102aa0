using System.Diagnostics;
using Cached.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// Tags with real servers: two nodes (memory in front of Redis, joined by <see cref="RedisBackplane"/>) and a Redis
/// Cluster whose tag records and entries fall on different primaries.
/// </summary>
[NonParallelizable]
public sealed class RedisMultiLevelTagTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);
    private static readonly CacheEntryOptions s_userOne = new() { Ttl = TimeSpan.FromMinutes(1), Tags = ["user:1", "users"] };
    private static readonly CacheEntryOptions s_userTwo = new() { Ttl = TimeSpan.FromMinutes(1), Tags = ["user:2", "users"] };
    private readonly List<IAsyncDisposable> _disposables = [];

    [TearDown]
    public async Task Dispose()
    {
        foreach (var disposable in _disposables)
        {
            await disposable.DisposeAsync();
        }

        _disposables.Clear();
    }

    /// <summary>A node; its L2 through <paramref name="l2Connection"/> when given (a proxy), its backplane straight to Redis.</summary>
    private MultiLevelCache Node(string @namespace, string? l2Connection = null)
    {
        var connection = SharedRedis.Server.ConnectionString;
        var node = new MultiLevelCache(
            new SimpleMemoryCache(),
            // 1 s through the proxy a case cuts or holds, so that its outage shows within the case; 10 s straight to Redis, so
            // that a first command over a new connection on a loaded CI machine is not a fault that runs a body uncached.
            new RedisCache { ConnectionString = (l2Connection ?? connection) + ",abortConnect=false", Namespace = @namespace, Timeout = TimeSpan.FromSeconds(l2Connection is null ? 10 : 1) },
            new RedisBackplane(connection + ",name=cached-tag-backplane"));
        _disposables.Add(node);
        return node;
    }

    [Test]
    public async Task Each_invalidation_by_one_node_reaches_the_other_node_s_L1_and_spares_other_tags()
    {
        var space = "mltags" + Guid.NewGuid().ToString("N")[..8];
        var (a, b) = (Node(space), Node(space));
        var calls = 0;
        ValueTask<string> Load(CancellationToken _) => new("v" + Interlocked.Increment(ref calls));
        await a.GetOrSetAsync("u2", _ => new ValueTask<string>("two"), s_userTwo);

        for (var round = 1; round <= 3; round++)
        {
            Assert.That(await a.GetOrSetAsync("u1", Load, s_userOne), Is.EqualTo("v" + round));
            Assert.That(a.IsInL1("u1"), Is.True);
            await b.InvalidateTagsAsync(["user:1"]);
            // The backplane delivers in the background: A's copy becomes a miss within its delivery time.
            await Eventually(() => a.L1.Get<string>("u1", @namespace: space) is null, "A's L1 copy invalidated");
        }

        Assert.That(await a.GetOrSetAsync("u1", Load, s_userOne), Is.EqualTo("v4"));
        Assert.That(a.IsInL1("u2"), Is.True, "another tag's L1 copy is untouched");
        Assert.That(await a.GetOrSetAsync("u2", _ => new ValueTask<string>("recomputed"), s_userTwo), Is.EqualTo("two"));
    }

    [Test]
    public async Task On_a_cluster_entries_and_tag_records_on_different_primaries_invalidate_together()
    {
        await using var cache = new RedisCache { ConnectionString = SharedRedis.Cluster.ConnectionString, Namespace = "ctags" };
        using var direct = await ConnectionMultiplexer.ConnectAsync(SharedRedis.Cluster.ConnectionString);
        var tags = Enumerable.Range(0, 20).Select(static i => "tag" + i).ToArray();
        Assert.That(tags.Select(t => direct.HashSlot("ctags:__cached:tag:" + t)).Distinct().Count(), Is.GreaterThan(3), "the records fall in many slots");
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), Tags = tags };
        var calls = 0;

        Assert.That(await cache.GetOrSetAsync("k", _ => new ValueTask<int>(++calls), options), Is.EqualTo(1));
        Assert.That(cache.GetOrSet("k", _ => ++calls, options), Is.EqualTo(1), "a hit, its twenty tags checked");
        await cache.InvalidateTagsAsync(["tag13"]);
        Assert.That(await cache.GetOrSetAsync("k", _ => new ValueTask<int>(++calls), options), Is.EqualTo(2));
        cache.InvalidateTags("tag2", "tag17");
        Assert.That(cache.Get<int?>("k"), Is.Null, "a plain read checks them too");
        await cache.ClearAsync(string.Empty);
    }

    [Test]
    public async Task An_invalidation_made_while_a_node_cannot_reach_Redis_lands_when_it_can_and_every_node_misses_then()
    {
        // The server keeps running with its data: only A's path to it is cut, so L2 still holds the old tag records.
        var space = "mltags" + Guid.NewGuid().ToString("N")[..8];
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var (a, b) = (Node(space, proxy.ConnectionString), Node(space));
        Assert.That(await a.GetOrSetAsync("u1", _ => new ValueTask<string>("one"), s_userOne), Is.EqualTo("one"));
        Assert.That(await b.GetOrSetAsync("u1", _ => new ValueTask<string>("not called"), s_userOne), Is.EqualTo("one"));

        proxy.Cut();
        await a.InvalidateTagsAsync(["user:1"]);
        Assert.That(a.PendingWriteCount, Is.EqualTo(1), "kept for L2");
        await Eventually(() => b.L1.Get<string>("u1", @namespace: space) is null, "B's L1 copy invalidated through the backplane");

        // Regression: the invalidation was lost, and B read "one" back from L2 for as long as the entry lived.
        proxy.Restore();
        // The client reconnects on its own schedule (2 to 3 s here), then the retry loop's back-off runs out.
        await Eventually(() => a.PendingWriteCount == 0, "the kept invalidation landed", TimeSpan.FromSeconds(30));
        Assert.That(await b.GetOrSetAsync("u1", _ => new ValueTask<string>("two"), s_userOne), Is.EqualTo("two"));
        Assert.That(await a.GetOrSetAsync("u1", _ => new ValueTask<string>("three"), s_userOne), Is.EqualTo("two"));
    }

    [Test]
    public async Task A_cancelled_invalidation_that_Redis_applies_later_drops_the_copies_read_before_it_did()
    {
        // A's commands reach Redis through a proxy that holds them; B's and both backplanes go straight there.
        var space = "mltags" + Guid.NewGuid().ToString("N")[..8];
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var (a, b) = (Node(space, proxy.ConnectionString), Node(space));
        Assert.That(await a.GetOrSetAsync("u1", _ => new ValueTask<string>("one"), s_userOne), Is.EqualTo("one"));
        Assert.That(await b.GetOrSetAsync("u1", _ => new ValueTask<string>("not called"), s_userOne), Is.EqualTo("one"));

        proxy.Hold();
        using var leaving = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        Assert.That(async () => await a.InvalidateTagsAsync(["user:1"], leaving.Token), Throws.InstanceOf<OperationCanceledException>());
        await Eventually(() => b.L1.Get<string>("u1", @namespace: space) is null, "B's copy dropped by the first message");

        // Redis still holds the old tag records: B reads the old entry back into its L1. Read until the copy stays: under
        // load A's abandonment message (it drops every node's copies) may land after B's first read.
        var reading = Stopwatch.StartNew();
        do
        {
            Assert.That(reading.Elapsed, Is.LessThan(s_limit), "B keeps a copy of the old entry");
            Assert.That(await b.GetOrSetAsync("u1", _ => new ValueTask<string>("not yet"), s_userOne), Is.EqualTo("one"));
            await Task.Delay(20);
        }
        while (b.L1.Get<string>("u1", @namespace: space) != "one");

        // Regression: once Redis took the abandoned invalidation nobody told B, which served "one" for its L1 life.
        proxy.Release();
        await Eventually(() => b.L1.Get<string>("u1", @namespace: space) is null, "B's copy dropped when Redis took the invalidation");
        Assert.That(await b.GetOrSetAsync("u1", _ => new ValueTask<string>("two"), s_userOne), Is.EqualTo("two"));
    }

    private static async Task Eventually(Func<bool> condition, string what, TimeSpan? limit = null)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.That(waited.Elapsed, Is.LessThan(limit ?? s_limit), what);
            await Task.Delay(5);
        }
    }
}
