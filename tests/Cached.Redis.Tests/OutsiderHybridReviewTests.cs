using Cached.Redis.Tests.Infrastructure;
using System.Diagnostics;
using Cached.Hybrid;
using Microsoft.Extensions.Caching.Hybrid;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// An outsider's check of HybridCacheEntryFlags through <see cref="CachedHybridCache"/> on a real redis-server: over a
/// two-level cache whose nodes share Redis as L2 and a <see cref="RedisBackplane"/>, and over a plain
/// <see cref="RedisCache"/>. What each flag must do is Microsoft's documentation of HybridCacheEntryFlags ("Disables
/// reading from the local in-process cache", ...) as docs/microsoft-caching.md maps it onto the levels. The flags
/// themselves hold up on Redis; the one failing test is the step-by-step path's cancellation, also found in memory
/// (Cached.Tests.Ecosystem.OutsiderHybridFlagsReviewTests).
/// </summary>
[NonParallelizable]
public sealed class OutsiderHybridReviewTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(5);
    private readonly List<IAsyncDisposable> _disposables = [];
    private ConnectionMultiplexer _admin = null!;

    [SetUp]
    public async Task Connect()
    {
        Caches.Reset();
        _admin = await ConnectionMultiplexer.ConnectAsync(SharedRedis.Server.ConnectionString);
    }

    [TearDown]
    public async Task DisposeAll()
    {
        await _disposables.DisposeAllAsync();
        await _admin.DisposeAsync();
        Caches.Reset();
    }

    private static string Space() => "hy" + Guid.NewGuid().ToString("N")[..8];

    private MultiLevelCache Node(string space)
    {
        var connection = SharedRedis.Server.ConnectionString;
        var node = new MultiLevelCache(
            new SimpleMemoryCache(),
            new RedisCache { ConnectionString = connection, Namespace = space, Timeout = TimeSpan.FromSeconds(2) },
            new RedisBackplane(connection + ",name=cached-backplane"));
        _disposables.Add(node);
        return node;
    }

    private RedisCache Plain(string space)
    {
        var cache = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString, Namespace = space, Timeout = TimeSpan.FromSeconds(2) };
        _disposables.Add(cache);
        return cache;
    }

    private static HybridCacheEntryOptions With(HybridCacheEntryFlags flags, TimeSpan? expiration = null) => new() { Flags = flags, Expiration = expiration };

    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.That(waited.Elapsed, Is.LessThan(s_limit), what);
            await Task.Delay(5);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Entries GetOrCreateAsync wrote with options, read by one level
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>
    /// An entry GetOrCreateAsync stored with an expiration or tags (Cached stamps it) is still there for a call that
    /// reads the distributed level only, on a node that has no copy of it: DisableLocalCacheRead must find it in Redis.
    /// </summary>
    [Test]
    public async Task DisableLocalCacheRead_finds_in_Redis_what_another_node_stored_with_an_expiration_or_tags([Values] bool tagged)
    {
        var space = Space();
        var a = Node(space).AsHybridCache();
        var b = Node(space).AsHybridCache();
        string[]? tags = tagged ? ["t"] : null;
        Assert.That(await a.GetOrCreateAsync("k", _ => ValueTask.FromResult(1), With(HybridCacheEntryFlags.None, TimeSpan.FromMinutes(1)), tags), Is.EqualTo(1));

        var calls = 0;
        var read = await b.GetOrCreateAsync("k", _ => ValueTask.FromResult(100 + Interlocked.Increment(ref calls)), With(HybridCacheEntryFlags.DisableLocalCacheRead));

        Assert.That((read, calls), Is.EqualTo((1, 0)), "read from Redis, no factory call");
    }

    /// <summary>The same entry read from this node's L1 alone (DisableDistributedCacheRead): the copy the store made.</summary>
    [Test]
    public async Task DisableDistributedCacheRead_answers_from_this_node_s_copy_of_an_entry_stored_with_an_expiration_or_tags([Values] bool tagged)
    {
        var space = Space();
        var node = Node(space);
        var a = node.AsHybridCache();
        string[]? tags = tagged ? ["t"] : null;
        Assert.That(await a.GetOrCreateAsync("k", _ => ValueTask.FromResult(1), With(HybridCacheEntryFlags.None, TimeSpan.FromMinutes(1)), tags), Is.EqualTo(1));
        Assert.That(node.IsInL1("k"), Is.True, "the store kept a copy in L1");

        var calls = 0;
        var read = await a.GetOrCreateAsync("k", _ => ValueTask.FromResult(100 + Interlocked.Increment(ref calls)), With(HybridCacheEntryFlags.DisableDistributedCacheRead));

        Assert.That((read, calls), Is.EqualTo((1, 0)), "read from L1, no factory call");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Two nodes
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>A node reading another node's entry with DisableLocalCacheWrite keeps no copy of it.</summary>
    [Test]
    public async Task DisableLocalCacheWrite_on_a_read_of_another_node_s_entry_keeps_no_copy_on_this_node()
    {
        var space = Space();
        var nodeA = Node(space);
        var nodeB = Node(space);
        await nodeA.AsHybridCache().GetOrCreateAsync("k", _ => ValueTask.FromResult(1));

        var read = await nodeB.AsHybridCache().GetOrCreateAsync("k", _ => ValueTask.FromResult(2), With(HybridCacheEntryFlags.DisableLocalCacheWrite));

        Assert.That(read, Is.EqualTo(1));
        Assert.That(nodeB.IsInL1("k"), Is.False, "no local write");
    }

    /// <summary>
    /// A tagged entry written to node A's L1 alone (DisableDistributedCacheWrite), its tag removed on node B: the
    /// invalidation reaches A through the backplane and A's copy misses.
    /// </summary>
    [Test]
    public async Task A_tag_removed_on_another_node_reaches_an_entry_kept_in_this_node_only()
    {
        var space = Space();
        var nodeA = Node(space);
        var nodeB = Node(space);
        var a = nodeA.AsHybridCache();
        Assert.That(await a.GetOrCreateAsync("k", _ => ValueTask.FromResult(1), With(HybridCacheEntryFlags.DisableDistributedCacheWrite), ["t"]), Is.EqualTo(1));
        Assert.That(await a.GetOrCreateAsync("k", _ => ValueTask.FromResult(2)), Is.EqualTo(1), "kept on A");

        await nodeB.AsHybridCache().RemoveByTagAsync("t");

        await Eventually(async () => await a.GetOrCreateAsync("k", _ => ValueTask.FromResult(3), With(HybridCacheEntryFlags.DisableUnderlyingData)) == 0, "A's copy misses once B removed its tag");
    }

    /// <summary>
    /// SetAsync with DisableLocalCacheWrite on node A, which holds an older copy, while node B holds one too: neither
    /// node reads the older value afterwards.
    /// </summary>
    [Test]
    public async Task SetAsync_with_DisableLocalCacheWrite_leaves_no_older_copy_on_either_node()
    {
        var space = Space();
        var nodeA = Node(space);
        var nodeB = Node(space);
        var a = nodeA.AsHybridCache();
        var b = nodeB.AsHybridCache();
        await nodeA.L2.SetAsync("k", 1);
        Assert.That(await a.GetOrCreateAsync("k", _ => ValueTask.FromResult(-1)), Is.EqualTo(1));
        Assert.That(await b.GetOrCreateAsync("k", _ => ValueTask.FromResult(-1)), Is.EqualTo(1));
        Assert.That(nodeA.IsInL1("k") && nodeB.IsInL1("k"), Is.True, "both hold a copy");

        await a.SetAsync("k", 2, With(HybridCacheEntryFlags.DisableLocalCacheWrite));
        Assert.That(nodeA.IsInL1("k"), Is.False, "A keeps no copy: neither the new value nor the old one");

        Assert.That(await a.GetOrCreateAsync("k", _ => ValueTask.FromResult(-1)), Is.EqualTo(2), "A");
        await Eventually(async () => await b.GetOrCreateAsync("k", _ => ValueTask.FromResult(-1)) == 2, "B reads the new value");
    }

    /// <summary>DisableDistributedCacheWrite on SetAsync: the other node keeps what Redis has; this node reads its own.</summary>
    [Test]
    public async Task SetAsync_with_DisableDistributedCacheWrite_changes_this_node_only()
    {
        var space = Space();
        var nodeA = Node(space);
        var nodeB = Node(space);
        await nodeA.L2.SetAsync("k", 1);

        await nodeA.AsHybridCache().SetAsync("k", 2, With(HybridCacheEntryFlags.DisableDistributedCacheWrite));

        Assert.That(await nodeA.AsHybridCache().GetOrCreateAsync("k", _ => ValueTask.FromResult(-1)), Is.EqualTo(2), "A reads its own");
        Assert.That(await nodeB.AsHybridCache().GetOrCreateAsync("k", _ => ValueTask.FromResult(-1)), Is.EqualTo(1), "B reads Redis");
        Assert.That(await nodeA.L2.GetAsync<int>("k"), Is.EqualTo(1), "Redis untouched");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // A plain RedisCache: the distributed level alone
    // ---------------------------------------------------------------------------------------------------------------

    [Test]
    public async Task On_a_plain_RedisCache_local_flags_change_nothing_and_distributed_ones_apply()
    {
        var space = Space();
        var hybrid = Plain(space).AsHybridCache();
        var calls = 0;
        ValueTask<int> Factory(CancellationToken _) => ValueTask.FromResult(Interlocked.Increment(ref calls));

        Assert.That(await hybrid.GetOrCreateAsync("k", Factory, With(HybridCacheEntryFlags.DisableLocalCache | HybridCacheEntryFlags.DisableCompression)), Is.EqualTo(1), "stored in Redis");
        Assert.That(await hybrid.GetOrCreateAsync("k", Factory, With(HybridCacheEntryFlags.DisableLocalCache)), Is.EqualTo(1), "read from Redis");
        Assert.That(await hybrid.GetOrCreateAsync("k", Factory, With(HybridCacheEntryFlags.DisableDistributedCacheRead)), Is.EqualTo(2), "no read: the factory");
        Assert.That(await hybrid.GetOrCreateAsync("k", Factory), Is.EqualTo(2), "its value was written");
        Assert.That(await hybrid.GetOrCreateAsync("k", Factory, With(HybridCacheEntryFlags.DisableDistributedCache)), Is.EqualTo(3), "neither read nor write");
        Assert.That(await hybrid.GetOrCreateAsync("k", Factory), Is.EqualTo(2), "not written");
        Assert.That(await hybrid.GetOrCreateAsync("absent", Factory, With(HybridCacheEntryFlags.DisableUnderlyingData)), Is.EqualTo(0));
        Assert.That(calls, Is.EqualTo(3));
    }

    /// <summary>Tags through the adapter on a plain RedisCache, and "*" clearing its namespace only.</summary>
    [Test]
    public async Task RemoveByTagAsync_on_a_plain_RedisCache_removes_the_tagged_entries_and_star_clears_the_namespace()
    {
        var space = Space();
        var other = Plain(Space());
        await other.SetAsync("k", "other's");
        var hybrid = Plain(space).AsHybridCache();
        await hybrid.GetOrCreateAsync("a", _ => ValueTask.FromResult(1), tags: ["t"]);
        await hybrid.GetOrCreateAsync("b", _ => ValueTask.FromResult(2), tags: ["u"]);

        await hybrid.RemoveByTagAsync("t");
        Assert.That(await hybrid.GetOrCreateAsync("a", _ => ValueTask.FromResult(10)), Is.EqualTo(10));
        Assert.That(await hybrid.GetOrCreateAsync("b", _ => ValueTask.FromResult(20)), Is.EqualTo(2));

        await hybrid.RemoveByTagAsync("*");
        Assert.That(await hybrid.GetOrCreateAsync("b", _ => ValueTask.FromResult(20)), Is.EqualTo(20));
        Assert.That(await other.GetAsync<string>("k"), Is.EqualTo("other's"));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Cancellation on the step-by-step path, the Redis read held by a gate
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>
    /// A caller with a flag (the step-by-step path) cancels while its own factory runs on a plain RedisCache: it leaves at
    /// once, as docs/microsoft-caching.md promises "as in Microsoft's implementation", and the factory's value, if
    /// the factory ends later, is not what it gets.
    /// </summary>
    [Test]
    public async Task A_flagged_caller_on_RedisCache_leaves_at_once_when_it_cancels_during_its_factory()
    {
        var hybrid = Plain(Space()).AsHybridCache();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cancel = new CancellationTokenSource();

        var call = hybrid.GetOrCreateAsync("k", async _ =>
        {
            entered.TrySetResult();
            await gate.Task;
            return 1;
        }, With(HybridCacheEntryFlags.DisableDistributedCacheRead), cancellationToken: cancel.Token).AsTask();
        await entered.Task.WaitAsync(s_limit);
        cancel.Cancel();

        try
        {
            Assert.CatchAsync<OperationCanceledException>(async () => await call.WaitAsync(s_limit), "held until the factory ended");
        }
        finally
        {
            gate.TrySetResult();
        }
    }
}
