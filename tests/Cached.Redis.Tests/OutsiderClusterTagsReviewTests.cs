using System.Diagnostics;
using System.Globalization;
using Cached.Plugins;
using Cached.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// Tagged generated methods for <see cref="OutsiderClusterTagsReviewTests"/>: the alias's instance is swapped by the
/// tests, so the same methods stand for the nodes of a two-level cache. Every body answers "v{Version}-{id}", read when
/// the body starts, is counted, and waits for <see cref="Hold"/> when a test set it.
/// </summary>
public partial class ClusterTagsCatalog
{
    public const string Alias = "outsider-cluster-tags";

    private int _bodyCalls;

    public int Version { get; set; } = 1;

    public int BodyCalls => Volatile.Read(ref _bodyCalls);

    /// <summary>Awaited by every body once it has read <see cref="Version"/>, when set.</summary>
    public Func<Task>? Hold { get; set; }

    public string Expected(int id) => $"v{Version}-{id}";

    [Cached(Alias = Alias, Key = "ct:{id}", Ttl = 60, Tags = new[] { "ct:{id}", "cts" })]
    public partial Task<string> GetAsync(int id);

    private async Task<string> GetAsyncCore(int id)
    {
        var value = Expected(id);
        Interlocked.Increment(ref _bodyCalls);
        if (Hold is { } hold)
        {
            await hold();
        }

        return value;
    }

    [Cached(Alias = Alias, Key = "cts:{id}", Ttl = 60, Tags = new[] { "ct:{id}", "cts" })]
    public partial string Get(int id);

    private string GetCore(int id)
    {
        Interlocked.Increment(ref _bodyCalls);
        return Expected(id);
    }

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60, Tags = new[] { "ct:{ids}", "cts" })]
    public partial Task<Dictionary<int, string>> GetManyAsync(IReadOnlyList<int> ids);

    private async Task<Dictionary<int, string>> GetManyAsyncCore(IReadOnlyList<int> ids)
    {
        var values = ids.ToDictionary(static id => id, Expected);
        Interlocked.Increment(ref _bodyCalls);
        if (Hold is { } hold)
        {
            await hold();
        }

        return values;
    }

    [InvalidateTags("ct:{id}")]
    public partial Task ForgetAsync(int id);

    private Task ForgetAsyncCore(int id) => Task.CompletedTask;

    [InvalidateTags("cts")]
    public partial void ForgetAll();

    private void ForgetAllCore()
    {
    }
}

/// <summary>
/// An outsider's check of tags on two levels over Redis Cluster: nodes are <see cref="MultiLevelCache"/>s with their own
/// L1, their own connection to the cluster for L2 and their own <see cref="RedisBackplane"/> (sharded pub/sub).
/// The shared cluster for invalidations and races with fills; a private cluster for the tests that move the
/// backplane channel's slot or lock a node's backplane out (an ACL user switched off on every primary).
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderClusterTagsReviewTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);
    private static readonly CacheEntryOptions s_userOne = new() { Ttl = TimeSpan.FromMinutes(1), Tags = ["user:1", "users"] };
    private static readonly CacheEntryOptions s_userTwo = new() { Ttl = TimeSpan.FromMinutes(1), Tags = ["user:2", "users"] };
    private static readonly int[] s_ids = [.. Enumerable.Range(1, 12)];

    private readonly List<IAsyncDisposable> _disposables = [];
    private ClusterTagsCatalog _catalog = null!;
    private RedisCluster? _private;

    private RedisCluster Private => _private ??= new RedisCluster();

    [SetUp]
    public void SetUp()
    {
        Caches.Reset();
        _catalog = new ClusterTagsCatalog();
    }

    [TearDown]
    public async Task TearDown()
    {
        Caches.Reset();
        await _disposables.DisposeAllAsync();
    }

    [OneTimeTearDown]
    public void StopPrivateCluster()
    {
        foreach (var admin in s_admins.Values)
        {
            admin.Dispose();
        }

        s_admins.Clear();
        _private?.Dispose();
    }

    private static string Space() => "ctg" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>A node: its own L1, L2 connection and backplane connection (through <paramref name="backplaneUser"/> when given).</summary>
    private MultiLevelCache Node(RedisCluster cluster, string space, string name, string? backplaneUser = null)
    {
        var login = backplaneUser is null ? string.Empty : $",user={backplaneUser},password=pw";
        var node = new MultiLevelCache(
            new SimpleMemoryCache(),
            new RedisCache { ConnectionString = $"{cluster.ConnectionString},abortConnect=false,name=ctg-l2-{name}", Namespace = space, Timeout = TimeSpan.FromSeconds(2) },
            new RedisBackplane($"{cluster.ConnectionString},abortConnect=false,name=ctg-bp-{name}{login}"));
        _disposables.Add(node);
        return node;
    }

    private (MultiLevelCache A, MultiLevelCache B, MultiLevelCache C) ThreeNodes(RedisCluster cluster)
    {
        var space = Space();
        return (Node(cluster, space, "a"), Node(cluster, space, "b"), Node(cluster, space, "c"));
    }

    private static void Use(ICache cache) => Caches.AddInstance(ClusterTagsCatalog.Alias, cache);

    /// <summary>Reads every item through the generated method on <paramref name="node"/>.</summary>
    private async Task<string[]> ReadEach(MultiLevelCache node)
    {
        Use(node);
        var values = new string[s_ids.Length];
        for (var i = 0; i < s_ids.Length; i++)
        {
            values[i] = await _catalog.GetAsync(s_ids[i]);
        }

        return values;
    }

    private static bool InL1(MultiLevelCache node, int id) => Holds(node, "ct:" + id.ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// Whether the node's L1 serves a current copy of <paramref name="key"/>: a read of L1 itself, which checks the
    /// copy's tags (IsInL1 is L1's Exists, which still finds an invalidated tagged copy).
    /// </summary>
    private static bool Holds(MultiLevelCache node, string key) => node.L1.TryGet<string>(key, out _, node.L2.Namespace);

    /// <summary>A hold for a body: <see cref="Entered"/> once a body waits, released by <see cref="Release"/>.</summary>
    private sealed class Gate
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Func<Task> Hold => () =>
        {
            Entered.TrySetResult();
            return Released.Task;
        };

        public Func<CancellationToken, ValueTask<string>> Body(string value) => async _ =>
        {
            await Hold();
            return value;
        };
    }

    [Test]
    public async Task A_generated_InvalidateTags_on_one_node_makes_the_other_two_drop_their_copies_and_read_fresh()
    {
        var (a, b, c) = ThreeNodes(SharedRedis.Cluster);
        foreach (var node in new[] { a, b, c })
        {
            Assert.That(await ReadEach(node), Is.EqualTo(s_ids.Select(_catalog.Expected)));
        }

        Assert.That(_catalog.BodyCalls, Is.EqualTo(s_ids.Length), "B and C read A's fills from L2");
        Assert.That(s_ids.All(id => InL1(b, id) && InL1(c, id)), Is.True, "B and C hold copies");

        for (var round = 2; round <= 4; round++)
        {
            _catalog.Version = round;
            Use(a);
            await _catalog.ForgetAsync(3);
            await Eventually(() => !InL1(b, 3) && !InL1(c, 3), $"round {round}: B's and C's copies of item 3 dropped");
            var calls = _catalog.BodyCalls;
            var onB = await ReadEach(b);
            var onC = await ReadEach(c);
            Assert.That(onB[2], Is.EqualTo($"v{round}-3"));
            Assert.That(onC[2], Is.EqualTo($"v{round}-3"));
            Assert.That(onB.Where((_, i) => i != 2).Concat(onC.Where((_, i) => i != 2)), Is.All.StartWith("v1-"), "the other items' copies stay");
            Assert.That(_catalog.BodyCalls, Is.EqualTo(calls + 1), "one body call: C reads B's refill");
        }

        // Every item at once, through the sync [InvalidateTags], from C this time.
        _catalog.Version = 9;
        Use(c);
        _catalog.ForgetAll();
        await Eventually(() => s_ids.All(id => !InL1(a, id) && !InL1(b, id)), "A's and B's copies dropped");
        Assert.That(await ReadEach(a), Is.EqualTo(s_ids.Select(_catalog.Expected)));
        Assert.That(await ReadEach(b), Is.EqualTo(s_ids.Select(_catalog.Expected)));
    }

    [Test]
    public async Task A_generated_fill_overtaken_by_another_node_s_invalidation_is_served_to_its_caller_only()
    {
        var (a, b, c) = ThreeNodes(SharedRedis.Cluster);
        Use(c);
        Assert.That(await _catalog.GetAsync(5), Is.EqualTo("v1-5"), "C holds an old copy of item 5");
        await a.InvalidateTagsAsync(["ct:5"]);
        await Eventually(() => !InL1(c, 5), "C's old copy dropped");

        var gate = new Gate();
        _catalog.Hold = gate.Hold;
        Use(b);
        var fill = _catalog.GetAsync(5);
        await gate.Entered.Task.WaitAsync(s_limit);
        _catalog.Hold = null;
        _catalog.Version = 2;

        // A invalidates while B's body runs with the version it read before.
        await a.InvalidateTagsAsync(["ct:5"]);
        gate.Released.SetResult();
        Assert.That(await fill.WaitAsync(s_limit), Is.EqualTo("v1-5"), "B's caller gets what it asked for");

        Assert.That(await _catalog.GetAsync(5), Is.EqualTo("v2-5"), "B: the overtaken value is not served");
        Use(c);
        Assert.That(await _catalog.GetAsync(5), Is.EqualTo("v2-5"), "C");
        Use(a);
        Assert.That(await _catalog.GetAsync(5), Is.EqualTo("v2-5"), "A");
    }

    [Test]
    public async Task A_tagged_MultiCached_batch_overtaken_by_another_node_s_invalidation_of_one_item_is_fresh_for_that_item_everywhere()
    {
        var (a, b, c) = ThreeNodes(SharedRedis.Cluster);
        var gate = new Gate();
        _catalog.Hold = gate.Hold;
        Use(b);
        var batch = _catalog.GetManyAsync(s_ids);
        await gate.Entered.Task.WaitAsync(s_limit);
        _catalog.Hold = null;
        _catalog.Version = 2;

        await a.InvalidateTagsAsync(["ct:7"]);
        gate.Released.SetResult();
        var first = await batch.WaitAsync(s_limit);
        Assert.That(first[7], Is.EqualTo("v1-7"), "the caller gets its batch");

        foreach (var (node, name) in new[] { (b, "B"), (c, "C"), (a, "A") })
        {
            Use(node);
            var again = await _catalog.GetManyAsync(s_ids);
            Assert.That(again[7], Is.EqualTo("v2-7"), $"{name} never serves the overtaken item");
            Assert.That(again.Where(static p => p.Key != 7).Select(static p => p.Value), Is.All.Matches<string>(static v => v.StartsWith("v1-", StringComparison.Ordinal) || v.StartsWith("v2-", StringComparison.Ordinal)));
        }

        // And once settled, an invalidation of the whole tag from C reaches the batch copies of A and B.
        Use(b);
        await _catalog.GetManyAsync(s_ids);
        Use(a);
        await _catalog.GetManyAsync(s_ids);
        _catalog.Version = 3;
        await c.InvalidateTagsAsync(["cts"]);
        await Eventually(() => s_ids.All(id => !a.L1.TryGet<string>(id.ToString(CultureInfo.InvariantCulture), out _, a.L2.Namespace) && !b.L1.TryGet<string>(id.ToString(CultureInfo.InvariantCulture), out _, a.L2.Namespace)), "A's and B's batch copies dropped");
        Use(b);
        Assert.That((await _catalog.GetManyAsync(s_ids)).Values, Is.All.StartWith("v3-"));
        Use(a);
        Assert.That((await _catalog.GetManyAsync(s_ids)).Values, Is.All.StartWith("v3-"));
    }

    [Test]
    public async Task GetOrSet_with_tags_a_fill_racing_an_invalidation_from_another_node_is_never_served_afterwards([Values] bool syncInvalidation)
    {
        var (a, b, c) = ThreeNodes(SharedRedis.Cluster);
        Assert.That(await c.GetOrSetAsync("u2", _ => new ValueTask<string>("two"), s_userTwo), Is.EqualTo("two"));
        var gate = new Gate();
        var fill = b.GetOrSetAsync("u1", gate.Body("before"), s_userOne).AsTask();
        await gate.Entered.Task.WaitAsync(s_limit);

        if (syncInvalidation)
        {
            a.InvalidateTags("users");
        }
        else
        {
            await a.InvalidateTagsAsync(["users"]);
        }

        await Eventually(() => !Holds(c, "u2"), "C's copy of the other user, tagged users too, dropped");
        gate.Released.SetResult();
        Assert.That(await fill.WaitAsync(s_limit), Is.EqualTo("before"));

        Assert.That(await b.GetOrSetAsync("u1", _ => new ValueTask<string>("after"), s_userOne), Is.EqualTo("after"), "B");
        Assert.That(await c.GetOrSetAsync("u1", _ => new ValueTask<string>("not called"), s_userOne), Is.EqualTo("after"), "C reads B's refill");
        Assert.That(await c.GetOrSetAsync("u2", _ => new ValueTask<string>("two again"), s_userTwo), Is.EqualTo("two again"), "C recomputes the other user");
        Assert.That(await a.GetAsync<string>("u1"), Is.EqualTo("after"), "A's plain read");
    }

    [Test]
    public async Task A_tag_invalidated_while_one_node_s_backplane_is_locked_out_is_not_served_by_it_once_it_is_back()
    {
        var cluster = Private;
        foreach (var node in cluster.Nodes)
        {
            Admin(cluster, node).Execute("ACL", "SETUSER", "ctgbp", "on", ">pw", "~*", "&*", "+@all");
        }

        try
        {
            var space = Space();
            var a = Node(cluster, space, "a");
            var b = Node(cluster, space, "b", backplaneUser: "ctgbp");
            Assert.That(await b.GetOrSetAsync("u1", _ => new ValueTask<string>("one"), s_userOne), Is.EqualTo("one"));
            Assert.That(await b.GetOrSetAsync("u2", _ => new ValueTask<string>("two"), s_userTwo), Is.EqualTo("two"));
            await a.InvalidateTagsAsync(["user:2"]);
            await Eventually(() => !Holds(b, "u2"), "B's backplane works before the cut");
            Assert.That(await b.GetOrSetAsync("u2", _ => new ValueTask<string>("two#2"), s_userTwo), Is.EqualTo("two#2"));
            Assert.That(Holds(b, "u1") && Holds(b, "u2"), Is.True);

            // Cut: B's backplane user is switched off and its connections killed on every primary; it cannot log in again.
            foreach (var node in cluster.Nodes)
            {
                Admin(cluster, node).Execute("ACL", "SETUSER", "ctgbp", "off");
                Admin(cluster, node).Execute("CLIENT", "KILL", "USER", "ctgbp");
            }

            await a.InvalidateTagsAsync(["user:1"]);
            Assert.That(await a.GetOrSetAsync("u1", _ => new ValueTask<string>("one#2"), s_userOne), Is.EqualTo("one#2"), "A reads fresh at once");

            foreach (var node in cluster.Nodes)
            {
                Admin(cluster, node).Execute("ACL", "SETUSER", "ctgbp", "on");
            }

            await Eventually(async () => await b.GetOrSetAsync("u1", _ => new ValueTask<string>("not called"), s_userOne) == "one#2", "B reads A's fresh value once its backplane is back");

            // And the backplane carries the next invalidation again.
            await Eventually(async () => await b.GetOrSetAsync("u2", _ => new ValueTask<string>("x"), s_userTwo) is not null && Holds(b, "u2"), "B copies again");
            await a.InvalidateTagsAsync(["user:2"]);
            await Eventually(() => !Holds(b, "u2"), "B hears A's next invalidation");
            Assert.That(await b.GetOrSetAsync("u2", _ => new ValueTask<string>("two#3"), s_userTwo), Is.EqualTo("two#3"));
        }
        finally
        {
            foreach (var node in cluster.Nodes)
            {
                Admin(cluster, node).Execute("ACL", "SETUSER", "ctgbp", "on");
            }
        }
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task A_tag_invalidated_while_the_backplane_channel_s_slot_moves_is_not_served_by_the_other_nodes(bool oldOwnerLearnsFirst)
    {
        var cluster = Private;
        var (a, b, c) = ThreeNodes(cluster);
        var space = a.L2.Namespace!;
        var slot = cluster.SlotOf("cached:" + space);
        var version = 1;

        for (var move = 1; move <= 3; move++)
        {
            foreach (var node in new[] { b, c })
            {
                var expected = "one#" + version;
                await Eventually(async () => await node.GetOrSetAsync("u1", _ => new ValueTask<string>(expected), s_userOne) == expected && Holds(node, "u1"), $"move {move}: a copy of version {version}");
            }

            version++;
            var fresh = "one#" + version;
            cluster.MoveSlotToNextNode(slot, oldOwnerLearnsFirst, whileOnlyOneKnows: () =>
            {
                a.InvalidateTags("user:1");
                Assert.That(a.GetOrSet("u1", _ => fresh, s_userOne), Is.EqualTo(fresh));
            });

            foreach (var (node, name) in new[] { (b, "B"), (c, "C") })
            {
                await Eventually(async () => await node.GetOrSetAsync("u1", _ => new ValueTask<string>("not called"), s_userOne) == fresh, $"move {move}: {name} reads the fresh value");
            }
        }

        // After the moves, an invalidation reaches the other nodes' copies through the backplane again.
        await Eventually(async () => await b.GetOrSetAsync("u2", _ => new ValueTask<string>("two"), s_userTwo) == "two" && Holds(b, "u2"), "B copies u2");
        await a.InvalidateTagsAsync(["user:2"]);
        await Eventually(() => !Holds(b, "u2"), "B hears the invalidation after the moves");
    }

    /// <summary>Holds the first read of <see cref="Key"/> after L2 answered it, until released: a read overtaken on its way to L1.</summary>
    private sealed class HoldAfterRead : CachePlugin
    {
        private int _armed;

        public string Key { get; set; } = string.Empty;

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ManualResetEventSlim Released { get; } = new();

        public void Arm() => Volatile.Write(ref _armed, 1);

        public override void Post(CacheCommandContext context)
        {
            if (context.Command == CacheCommand.Get && (context.Key?.EndsWith(Key, StringComparison.Ordinal) ?? false) && Interlocked.Exchange(ref _armed, 0) == 1)
            {
                Entered.TrySetResult();
                Released.Wait(TimeSpan.FromSeconds(20));
            }
        }
    }

    [Test]
    public async Task An_L2_read_overtaken_by_another_node_s_tag_invalidation_leaves_no_copy_in_L1([Values] bool readThrough)
    {
        var space = Space();
        var a = Node(SharedRedis.Cluster, space, "a");
        var hold = new HoldAfterRead { Key = "u1" };
        var b = new MultiLevelCache(
            new SimpleMemoryCache(),
            new RedisCache { ConnectionString = $"{SharedRedis.Cluster.ConnectionString},abortConnect=false,name=ctg-l2-b", Namespace = space, Timeout = TimeSpan.FromSeconds(2), Plugins = [hold] },
            new RedisBackplane($"{SharedRedis.Cluster.ConnectionString},abortConnect=false,name=ctg-bp-b"));
        _disposables.Add(b);
        Assert.That(await a.GetOrSetAsync("u1", _ => new ValueTask<string>("one"), s_userOne), Is.EqualTo("one"));
        // A witness on B that carries the same tag: its copy going stale tells that B heard the invalidation.
        Assert.That(await b.GetOrSetAsync("witness", _ => new ValueTask<string>("w"), s_userOne), Is.EqualTo("w"));
        Assert.That(Holds(b, "witness"), Is.True);

        hold.Arm();
        var read = Task.Run(async () => readThrough
            ? await b.GetOrSetAsync("u1", _ => new ValueTask<string>("b's body"), s_userOne)
            : await b.GetAsync<string>("u1"));
        await hold.Entered.Task.WaitAsync(s_limit);

        await a.InvalidateTagsAsync(["user:1"]);
        await Eventually(() => !Holds(b, "witness"), "B heard the invalidation");
        hold.Released.Set();
        Assert.That(await read.WaitAsync(s_limit), Is.EqualTo("one"), "the read began before the invalidation");

        Assert.That(Holds(b, "u1"), Is.False, "no copy of the overtaken read in B's L1");
        Assert.That(await b.GetAsync<string>("u1"), Is.Null, "B's next plain read misses");
        Assert.That(await b.GetOrSetAsync("u1", _ => new ValueTask<string>("fresh"), s_userOne), Is.EqualTo("fresh"));
    }

    private static IServer Admin(RedisCluster cluster, RedisServer node)
    {
        var connection = s_admins.GetOrAdd(node.Port, port => ConnectionMultiplexer.Connect($"127.0.0.1:{port},allowAdmin=true,name=ctg-admin"));
        return connection.GetServer("127.0.0.1", node.Port);
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, ConnectionMultiplexer> s_admins = new();

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.That(waited.Elapsed, Is.LessThan(s_limit), what);
            await Task.Delay(5);
        }
    }

    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.That(waited.Elapsed, Is.LessThan(s_limit), what);
            await Task.Delay(5);
        }
    }
}
