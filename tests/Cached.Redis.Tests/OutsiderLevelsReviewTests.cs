using System.Collections.Concurrent;
using System.Diagnostics;
using Cached.Plugins;
using Cached.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// The source the generated methods of <see cref="LevelsNodeA"/>, <see cref="LevelsNodeB"/> and <see cref="LevelsNodeC"/>
/// read: one per test. A body reads <see cref="Version"/> when it starts (as a body reads its database), records which
/// node called it with which keys, and then waits at <see cref="Gate"/> when one is set.
/// </summary>
internal sealed class LevelsSource
{
    public static LevelsSource Current { get; set; } = new();

    public volatile int Version = 1;

    public volatile TaskCompletionSource? Gate;

    /// <summary>The node whose bodies throw, if any.</summary>
    public volatile string? ThrowFor;

    public ConcurrentQueue<string> Calls { get; } = new();

    public TaskCompletionSource Entered { get; private set; } = NewSignal();

    public static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static string ValueOf(int version, int id) => $"v{version}:{id}";

    /// <summary>Sets a gate and a fresh <see cref="Entered"/>; the gate is returned for the test to open.</summary>
    public TaskCompletionSource Close()
    {
        Entered = NewSignal();
        var gate = NewSignal();
        Gate = gate;
        return gate;
    }

    public void Open()
    {
        Gate?.TrySetResult();
        Gate = null;
    }

    public int CallsOf(string what) => Calls.Count(call => call.Contains(what, StringComparison.Ordinal));

    public async Task<Dictionary<int, string>> ManyAsync(string node, IReadOnlyList<int> ids, CancellationToken ct)
    {
        var version = Start(node, "many", ids);
        if (Gate is { } gate)
        {
            await gate.Task.WaitAsync(ct);
        }

        return Answer(node, version, ids);
    }

    public Dictionary<int, string> Many(string node, IReadOnlyList<int> ids)
    {
        var version = Start(node, "many", ids);
        Gate?.Task.Wait(TimeSpan.FromSeconds(30));
        return Answer(node, version, ids);
    }

    public async Task<string> OneAsync(string node, string method, int id, CancellationToken ct)
    {
        var version = Start(node, method, [id]);
        if (Gate is { } gate)
        {
            await gate.Task.WaitAsync(ct);
        }

        return ThrowFor == node ? throw new InvalidOperationException(node + " failed") : ValueOf(version, id);
    }

    public string One(string node, string method, int id)
    {
        var version = Start(node, method, [id]);
        Gate?.Task.Wait(TimeSpan.FromSeconds(30));
        return ThrowFor == node ? throw new InvalidOperationException(node + " failed") : ValueOf(version, id);
    }

    private int Start(string node, string method, IReadOnlyList<int> ids)
    {
        var version = Version;
        Calls.Enqueue($"{node}:{method}:[{string.Join(",", ids)}]");
        Entered.TrySetResult();
        return version;
    }

    private Dictionary<int, string> Answer(string node, int version, IReadOnlyList<int> ids)
        => ThrowFor == node ? throw new InvalidOperationException("batch failed") : ids.ToDictionary(id => id, id => ValueOf(version, id));
}

/// <summary>Node A's generated methods, on the two-level alias <see cref="Alias"/>.</summary>
public partial class LevelsNodeA
{
    public const string Alias = "levels-review-a";

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60)]
    public partial Task<Dictionary<int, string>> ManyAsync(IReadOnlyList<int> ids, CancellationToken ct);

    private Task<Dictionary<int, string>> ManyAsyncCore(IReadOnlyList<int> ids, CancellationToken ct) => LevelsSource.Current.ManyAsync("A", ids, ct);

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60)]
    public partial Dictionary<int, string> Many(IReadOnlyList<int> ids);

    private Dictionary<int, string> ManyCore(IReadOnlyList<int> ids) => LevelsSource.Current.Many("A", ids);

    [Cached(Alias = Alias, Key = "one:{id}", Ttl = 60)]
    public partial Task<string> OneAsync(int id, CancellationToken ct);

    private Task<string> OneAsyncCore(int id, CancellationToken ct) => LevelsSource.Current.OneAsync("A", "one", id, ct);

    [Cached(Alias = Alias, Key = "one:{id}", Ttl = 60)]
    public partial string One(int id);

    private string OneCore(int id) => LevelsSource.Current.One("A", "one", id);

    [Cached(Alias = Alias, Key = "lease:{id}", Ttl = 60, Lease = 10)]
    public partial Task<string> LeasedAsync(int id, CancellationToken ct);

    private Task<string> LeasedAsyncCore(int id, CancellationToken ct) => LevelsSource.Current.OneAsync("A", "lease", id, ct);

    [Cached(Alias = Alias, Key = "lease:{id}", Ttl = 60, Lease = 10)]
    public partial string Leased(int id);

    private string LeasedCore(int id) => LevelsSource.Current.One("A", "lease", id);
}

/// <summary>Node B's generated methods: A's reads, and the invalidations.</summary>
public partial class LevelsNodeB
{
    public const string Alias = "levels-review-b";

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60)]
    public partial Task<Dictionary<int, string>> ManyAsync(IReadOnlyList<int> ids, CancellationToken ct);

    private Task<Dictionary<int, string>> ManyAsyncCore(IReadOnlyList<int> ids, CancellationToken ct) => LevelsSource.Current.ManyAsync("B", ids, ct);

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60)]
    public partial Dictionary<int, string> Many(IReadOnlyList<int> ids);

    private Dictionary<int, string> ManyCore(IReadOnlyList<int> ids) => LevelsSource.Current.Many("B", ids);

    [Cached(Alias = Alias, Key = "one:{id}", Ttl = 60)]
    public partial string One(int id);

    private string OneCore(int id) => LevelsSource.Current.One("B", "one", id);

    [Cached(Alias = Alias, Key = "lease:{id}", Ttl = 60, Lease = 10)]
    public partial Task<string> LeasedAsync(int id, CancellationToken ct);

    private Task<string> LeasedAsyncCore(int id, CancellationToken ct) => LevelsSource.Current.OneAsync("B", "lease", id, ct);

    [InvalidateCache(nameof(ManyAsync))]
    public partial Task ForgetAsync(IEnumerable<int> ids, CancellationToken ct);

    private Task ForgetAsyncCore(IEnumerable<int> ids, CancellationToken ct) => Task.CompletedTask;

    [InvalidateCache(nameof(Many))]
    public partial void Forget(IEnumerable<int> ids);

    private void ForgetCore(IEnumerable<int> ids)
    {
    }

    [InvalidateCache(nameof(One))]
    public partial void ForgetOne(int id);

    private void ForgetOneCore(int id)
    {
    }
}

/// <summary>Node C: a third node for the lease, sync.</summary>
public partial class LevelsNodeC
{
    public const string Alias = "levels-review-c";

    [Cached(Alias = Alias, Key = "lease:{id}", Ttl = 60, Lease = 10)]
    public partial string Leased(int id);

    private string LeasedCore(int id) => LevelsSource.Current.One("C", "lease", id);
}

/// <summary>
/// Outsider's check of two levels (memory in front of a real redis-server, <see cref="RedisBackplane"/>) across nodes:
/// each node a <see cref="MultiLevelCache"/> with its own connections, named by its own alias, with generated methods
/// in front. Covers the stampede lease and <see cref="RedLock"/> across nodes, <c>[MultiCached]</c> with
/// <c>[InvalidateCache]</c> across nodes (partial hits, invalidations, cancellation at each await), and sync shapes.
/// Orderings are forced with gates (the body's, a plugin's hook) and a loopback proxy that holds a connection's traffic.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderLevelsReviewTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);
    private readonly List<IAsyncDisposable> _disposables = [];
    private readonly List<IDisposable> _proxies = [];
    private string _space = null!;
    private LevelsSource _source = null!;

    [SetUp]
    public void SetUp()
    {
        Caches.Reset();
        _space = "levels" + Guid.NewGuid().ToString("N")[..8];
        _source = new LevelsSource();
        LevelsSource.Current = _source;
    }

    [TearDown]
    public async Task TearDown()
    {
        _source.Open();
        Caches.Reset();
        await _disposables.DisposeAllAsync();
        foreach (var proxy in _proxies)
        {
            proxy.Dispose();
        }

        _proxies.Clear();
    }

    private LoopbackProxy Proxy()
    {
        var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        _proxies.Add(proxy);
        return proxy;
    }

    /// <summary>
    /// A node under <paramref name="alias"/>: its own L1, its own L2 connection (through <paramref name="l2Via"/> when
    /// given) and its own backplane connection (through <paramref name="backplaneVia"/> when given).
    /// </summary>
    private MultiLevelCache Node(string alias, LoopbackProxy? l2Via = null, LoopbackProxy? backplaneVia = null, ICachePlugin? l2Plugin = null)
    {
        var l2 = (l2Via?.ConnectionString ?? SharedRedis.Server.ConnectionString) + ",abortConnect=false,name=" + alias + "-l2";
        var backplane = (backplaneVia?.ConnectionString ?? SharedRedis.Server.ConnectionString) + ",abortConnect=false,name=" + alias + "-backplane";
        var node = new MultiLevelCache(
            new SimpleMemoryCache(),
            new RedisCache
            {
                ConnectionString = l2,
                Namespace = _space,
                Timeout = TimeSpan.FromSeconds(5),
                Plugins = l2Plugin is null ? [] : [l2Plugin],
            },
            new RedisBackplane(backplane));
        _disposables.Add(node);
        Caches.AddInstance(alias, node);
        return node;
    }

    private static string V(int version, int id) => LevelsSource.ValueOf(version, id);

    // ---------------------------------------------------------------------------------------------------------------
    // [MultiCached] + [InvalidateCache] across nodes
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>
    /// Node A's batch runs its body (it read version 1); meanwhile node B invalidates key 2 (the source
    /// changed). L2's fence refuses A's fill of key 2, as docs/reliability.md promises ("an invalidation made by another
    /// process while the body runs is final"); A copied the refused value into its own L1 and served it: its next
    /// batch hit L1 for key 2 with the value the invalidation dropped, while L2 held nothing. The backplane message of
    /// B's delete is held on its way to A (a slow subscriber connection), as it is for a moment in every such race.
    /// </summary>
    [Test]
    public async Task A_batch_fill_L2_refused_after_another_node_invalidated_is_not_served_from_the_filling_node_s_L1([Values] bool sync)
    {
        var toA = Proxy();
        var a = Node(LevelsNodeA.Alias, backplaneVia: toA);
        var b = Node(LevelsNodeB.Alias);
        await NodeJoins.Joined(b, a);
        var nodeA = new LevelsNodeA();
        var nodeB = new LevelsNodeB();

        var gate = _source.Close();
        var filling = sync ? Task.Run(() => nodeA.Many([1, 2])) : nodeA.ManyAsync([1, 2], CancellationToken.None);
        await _source.Entered.Task.WaitAsync(s_limit);

        // The source changes and B invalidates key 2 while A's body runs; B's message is slow to reach A.
        _source.Version = 2;
        toA.HoldReplies();
        try
        {
            if (sync)
            {
                nodeB.Forget([2]);
            }
            else
            {
                await nodeB.ForgetAsync([2], CancellationToken.None);
            }

            gate.SetResult();
            var first = await filling.WaitAsync(s_limit);
            Assert.That(first, Is.EqualTo(new Dictionary<int, string> { [1] = V(1, 1), [2] = V(1, 2) }), "the call answers its body's values");
            Assert.That(await b.L2.GetAsync<string>("2"), Is.Null, "L2's fence refused A's fill of the invalidated key");

            var again = sync ? nodeA.Many([1, 2]) : await nodeA.ManyAsync([1, 2], CancellationToken.None);
            Assert.Multiple(() =>
            {
                Assert.That(again[2], Is.EqualTo(V(2, 2)), "A served the value B's invalidation dropped, from its L1 (L2 holds nothing)");
                Assert.That(_source.CallsOf("A:many:[2]"), Is.EqualTo(1), "A's second batch calls the body for the invalidated key only");
            });
        }
        finally
        {
            toA.ReleaseReplies();
        }
    }

    /// <summary>
    /// the same race through a single-key <c>[Cached]</c> method: L2 says the fill was refused, so A's L1 takes
    /// nothing and A's next call runs the body. The control for the batch test above.
    /// </summary>
    [Test]
    public async Task A_single_key_fill_L2_refused_after_another_node_invalidated_is_not_served_from_the_filling_node_s_L1()
    {
        var toA = Proxy();
        var a = Node(LevelsNodeA.Alias, backplaneVia: toA);
        var b = Node(LevelsNodeB.Alias);
        await NodeJoins.Joined(b, a);
        var nodeA = new LevelsNodeA();

        var gate = _source.Close();
        var filling = nodeA.OneAsync(7, CancellationToken.None);
        await _source.Entered.Task.WaitAsync(s_limit);
        _source.Version = 2;
        toA.HoldReplies();
        try
        {
            new LevelsNodeB().ForgetOne(7);
            gate.SetResult();
            Assert.That(await filling.WaitAsync(s_limit), Is.EqualTo(V(1, 7)));
            Assert.That(await b.L2.GetAsync<string>("one:7"), Is.Null, "L2's fence refused A's fill");
            Assert.That(a.IsInL1("one:7"), Is.False, "A's L1 took nothing L2 refused");
            Assert.That(await nodeA.OneAsync(7, CancellationToken.None), Is.EqualTo(V(2, 7)));
        }
        finally
        {
            toA.ReleaseReplies();
        }
    }

    /// <summary>
    /// A and B both hold keys 1..3 in L1; A invalidates 2 (an [InvalidateCache] on A's side). B drops its copy
    /// when the message arrives, and B's next batch calls the body with [2] only, answering 1 and 3 from its L1.
    /// </summary>
    [Test]
    public async Task After_one_node_invalidates_some_keys_of_a_batch_the_other_node_s_next_batch_computes_only_those([Values] bool sync)
    {
        var a = Node(LevelsNodeB.Alias);
        var b = Node(LevelsNodeA.Alias);
        await NodeJoins.Joined(a, b);
        var invalidating = new LevelsNodeB();
        var reading = new LevelsNodeA();
        await invalidating.ManyAsync([1, 2, 3], CancellationToken.None);
        await NodeJoins.Joined(a, b); // the messages of the fill have reached b: a copy it takes now stays
        var warm = sync ? reading.Many([1, 2, 3]) : await reading.ManyAsync([1, 2, 3], CancellationToken.None);
        Assert.That(warm.Values, Is.EquivalentTo(new[] { V(1, 1), V(1, 2), V(1, 3) }));
        Assert.That(_source.CallsOf("A:many"), Is.Zero, "the second node read L2's entries");
        Assert.That(b.IsInL1("1") && b.IsInL1("2") && b.IsInL1("3"), Is.True);

        _source.Version = 2;
        if (sync)
        {
            invalidating.Forget([2]);
        }
        else
        {
            await invalidating.ForgetAsync([2], CancellationToken.None);
        }

        await NodeJoins.Eventually(() => !b.IsInL1("2"), "the other node drops its copy of the invalidated key");
        var next = sync ? reading.Many([1, 2, 3]) : await reading.ManyAsync([1, 2, 3], CancellationToken.None);

        Assert.That(next, Is.EqualTo(new Dictionary<int, string> { [1] = V(1, 1), [2] = V(2, 2), [3] = V(1, 3) }));
        Assert.That(_source.Calls.Where(call => call.StartsWith("A:", StringComparison.Ordinal)), Is.EqualTo(new[] { "A:many:[2]" }));
        Assert.That(await a.L2.GetAsync<string>("2"), Is.EqualTo(V(2, 2)), "the recomputed entry reached L2");
        await NodeJoins.Eventually(() => !a.IsInL1("2") || a.Get<string>("2") == V(2, 2), "the first node does not keep a copy older than L2's");
    }

    /// <summary>
    /// a batch on B whose keys are spread over B's L1 (1, 2), L2 written by A (3) and nowhere (4): one body call
    /// with [4], and the hits from both levels are merged.
    /// </summary>
    [Test]
    public async Task A_batch_merges_hits_from_its_own_L1_and_entries_another_node_wrote_and_computes_only_the_rest()
    {
        var a = Node(LevelsNodeA.Alias);
        var b = Node(LevelsNodeB.Alias);
        await NodeJoins.Joined(a, b);
        var nodeA = new LevelsNodeA();
        var nodeB = new LevelsNodeB();
        await nodeB.ManyAsync([1, 2], CancellationToken.None);
        await nodeA.ManyAsync([3], CancellationToken.None);
        await NodeJoins.Joined(a, b); // A's message for 3 has reached B: a copy B takes now stays
        Assert.That(b.IsInL1("1") && b.IsInL1("2") && !b.IsInL1("3"), Is.True);

        var merged = await nodeB.ManyAsync([4, 3, 2, 1, 3], CancellationToken.None);

        Assert.That(merged, Is.EqualTo(new Dictionary<int, string> { [1] = V(1, 1), [2] = V(1, 2), [3] = V(1, 3), [4] = V(1, 4) }));
        Assert.That(_source.Calls, Is.EqualTo(new[] { "B:many:[1,2]", "A:many:[3]", "B:many:[4]" }));
        Assert.That(b.IsInL1("3") && b.IsInL1("4"), Is.True, "B copied the L2 hit and its own fill into L1");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Cancellation of an async batch at each of its awaits
    // ---------------------------------------------------------------------------------------------------------------

    public enum BatchAwait
    {
        /// <summary>L2's read of the keys L1 lacks.</summary>
        Read,

        /// <summary>The body.</summary>
        Body,

        /// <summary>The fenced fill of the body's entries.</summary>
        Store,
    }

    /// <summary>A plugin whose hooks run the test's actions: the gate that holds a command's reply at a chosen moment.</summary>
    private sealed class Hooks : ICachePlugin
    {
        public Action<CacheCommandContext>? Pre { get; set; }

        void ICachePlugin.Pre(CacheCommandContext context) => Pre?.Invoke(context);

        void ICachePlugin.Post(CacheCommandContext context)
        {
        }
    }

    /// <summary>
    /// a batch cancelled while it waits at L2's read, at its body, or at its fill ends promptly with an
    /// <see cref="OperationCanceledException"/> (L2's replies held, its timeout 5 s away), leaves no copy in L1 that L2
    /// does not hold, and the next batch, on this node or the other, answers what L2 holds or computes afresh.
    /// </summary>
    [Test]
    public async Task A_batch_cancelled_at_each_await_ends_promptly_and_leaves_the_levels_agreeing([Values] BatchAwait at)
    {
        var toL2 = Proxy();
        var hooks = new Hooks();
        var a = Node(LevelsNodeA.Alias, l2Via: toL2, l2Plugin: hooks);
        var b = Node(LevelsNodeB.Alias);
        await NodeJoins.Joined(b, a);
        var nodeA = new LevelsNodeA();
        var nodeB = new LevelsNodeB();
        await nodeA.ManyAsync([1], CancellationToken.None);
        var reached = LevelsSource.NewSignal();
        TaskCompletionSource? gate = null;
        switch (at)
        {
            case BatchAwait.Read:
                hooks.Pre = context =>
                {
                    if (context.Command == CacheCommand.MultiGet)
                    {
                        toL2.HoldReplies();
                        reached.TrySetResult();
                    }
                };
                break;
            case BatchAwait.Body:
                gate = _source.Close();
                _ = _source.Entered.Task.ContinueWith(_ => reached.TrySetResult(), TaskScheduler.Default);
                break;
            case BatchAwait.Store:
                hooks.Pre = context =>
                {
                    if (context.Command is CacheCommand.MultiSet or CacheCommand.Set)
                    {
                        toL2.HoldReplies();
                        reached.TrySetResult();
                    }
                };
                break;
        }

        using var cancel = new CancellationTokenSource();
        var call = nodeA.ManyAsync([1, 2, 3], cancel.Token);
        await reached.Task.WaitAsync(s_limit);
        var cancelled = Stopwatch.StartNew();
        cancel.Cancel();
        Assert.CatchAsync<OperationCanceledException>(async () => await call.WaitAsync(s_limit));
        Assert.That(cancelled.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)), "the caller's token ends its wait, not L2's timeout");
        hooks.Pre = null;
        toL2.ReleaseReplies();
        gate?.TrySetResult();

        var stored = await b.L2.MultiGetAsync<string>(["1", "2", "3"]);
        foreach (var key in new[] { "2", "3" })
        {
            if (a.IsInL1(key))
            {
                Assert.That(a.Get<string>(key), Is.EqualTo(await b.L2.GetAsync<string>(key)), "A's copy of " + key + " is what L2 holds");
            }
        }

        var before = _source.Calls.Count;
        var fromB = await nodeB.ManyAsync([1, 2, 3], CancellationToken.None);
        var fromA = await nodeA.ManyAsync([1, 2, 3], CancellationToken.None);
        Assert.That(fromB, Is.EqualTo(new Dictionary<int, string> { [1] = V(1, 1), [2] = V(1, 2), [3] = V(1, 3) }));
        Assert.That(fromA, Is.EqualTo(fromB));
        TestContext.Out.WriteLine($"L2 after the cancel: {string.Join(", ", stored)}; body calls after: {string.Join(" ", _source.Calls.Skip(before))}");
        Assert.That(_source.Calls.Skip(before).Count(), Is.LessThanOrEqualTo(1), "after the cancel, the missing keys are computed once");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The stampede lease and RedLock across nodes
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>Counts L2's reads of one key: a waiter polling for the lease's value reads it again and again.</summary>
    private sealed class ReadsOf(string key) : ICachePlugin
    {
        public int Count;

        void ICachePlugin.Pre(CacheCommandContext context)
        {
        }

        void ICachePlugin.Post(CacheCommandContext context)
        {
            if (context.Command == CacheCommand.Get && context.Key == key)
            {
                Interlocked.Increment(ref Count);
            }
        }
    }

    /// <summary>
    /// three nodes (async A, async B, sync C) miss one key at once; A holds the lease while its body waits at a
    /// gate, B and C are seen polling L2. One body call in all; every node answers its value, and B and C then answer
    /// from their own L1.
    /// </summary>
    [Test]
    public async Task Three_nodes_make_one_body_call_under_the_lease_and_the_waiters_copy_its_value_into_their_L1()
    {
        var readsB = new ReadsOf("lease:1");
        var readsC = new ReadsOf("lease:1");
        var a = Node(LevelsNodeA.Alias);
        var b = Node(LevelsNodeB.Alias, l2Plugin: readsB);
        var c = Node(LevelsNodeC.Alias, l2Plugin: readsC);
        await NodeJoins.Joined(a, b);
        await NodeJoins.Joined(a, c);

        var gate = _source.Close();
        var inA = new LevelsNodeA().LeasedAsync(1, CancellationToken.None);
        await _source.Entered.Task.WaitAsync(s_limit);
        Assert.That(await a.L2.ExistsAsync("lease:1-lock"), Is.True, "A holds the lease");
        var inB = new LevelsNodeB().LeasedAsync(1, CancellationToken.None);
        var inC = Task.Run(() => new LevelsNodeC().Leased(1));
        await NodeJoins.Eventually(() => Volatile.Read(ref readsB.Count) >= 2 && Volatile.Read(ref readsC.Count) >= 2, "B and C wait on A's lease, polling L2");
        gate.SetResult();

        var answers = await Task.WhenAll(inA, inB, inC).WaitAsync(s_limit);
        Assert.That(answers, Is.All.EqualTo(V(1, 1)));
        Assert.That(_source.CallsOf(":lease:"), Is.EqualTo(1), string.Join(" ", _source.Calls));
        await NodeJoins.Joined(a, b);
        await NodeJoins.Joined(a, c);
        Assert.That(await new LevelsNodeB().LeasedAsync(1, CancellationToken.None), Is.EqualTo(V(1, 1)));
        Assert.That(new LevelsNodeC().Leased(1), Is.EqualTo(V(1, 1)));
        Assert.That(b.IsInL1("lease:1") && c.IsInL1("lease:1"), Is.True, "B and C answer from their own L1 from now on");
        Assert.That(_source.CallsOf(":lease:"), Is.EqualTo(1));
        Assert.That(await a.L2.ExistsAsync("lease:1-lock"), Is.False, "the lease was released");
    }

    /// <summary>
    /// the lease holder's body throws (A), or its only caller cancels while the body runs: the waiter on
    /// another node (B, polling) does not wait out the 10 s lease; it runs its own body once and stores its value.
    /// </summary>
    [Test]
    public async Task When_the_lease_holder_throws_or_is_cancelled_the_waiting_node_runs_its_body_once_without_waiting_out_the_lease([Values] bool cancelled)
    {
        var readsB = new ReadsOf("lease:2");
        var a = Node(LevelsNodeA.Alias);
        var b = Node(LevelsNodeB.Alias, l2Plugin: readsB);
        using var cancel = new CancellationTokenSource();

        var gate = _source.Close();
        var inA = new LevelsNodeA().LeasedAsync(2, cancel.Token);
        await _source.Entered.Task.WaitAsync(s_limit);
        var inB = new LevelsNodeB().LeasedAsync(2, CancellationToken.None);
        await NodeJoins.Eventually(() => Volatile.Read(ref readsB.Count) >= 2, "B waits on A's lease");

        var failedAt = Stopwatch.StartNew();
        if (cancelled)
        {
            cancel.Cancel();
            Assert.CatchAsync<OperationCanceledException>(async () => await inA.WaitAsync(s_limit));
        }
        else
        {
            _source.ThrowFor = "A";
            gate.SetResult();
            Assert.ThrowsAsync<InvalidOperationException>(async () => await inA.WaitAsync(s_limit));
        }

        _source.Open();
        Assert.That(await inB.WaitAsync(s_limit), Is.EqualTo(V(1, 2)));
        Assert.That(failedAt.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "B need not wait out A's 10 s lease");
        Assert.That(_source.CallsOf("B:lease"), Is.EqualTo(1));
        Assert.That(await a.L2.GetAsync<string>("lease:2"), Is.EqualTo(V(1, 2)));
        Assert.That(await new LevelsNodeA().LeasedAsync(2, CancellationToken.None), Is.EqualTo(V(1, 2)), "A reads B's value, not its body again");
        Assert.That(_source.CallsOf("A:lease"), Is.EqualTo(1));
    }

    /// <summary>
    /// a sync leader on node A (a thread blocked in its body) and an async waiter on node B: one body call.
    /// </summary>
    [Test]
    public async Task A_sync_lease_holder_and_an_async_waiter_on_another_node_make_one_body_call()
    {
        var readsB = new ReadsOf("lease:3");
        var a = Node(LevelsNodeA.Alias);
        var b = Node(LevelsNodeB.Alias, l2Plugin: readsB);
        await NodeJoins.Joined(a, b);

        var gate = _source.Close();
        var inA = Task.Run(() => new LevelsNodeA().Leased(3));
        await _source.Entered.Task.WaitAsync(s_limit);
        var inB = new LevelsNodeB().LeasedAsync(3, CancellationToken.None);
        await NodeJoins.Eventually(() => Volatile.Read(ref readsB.Count) >= 2, "B waits on A's lease");
        gate.SetResult();

        Assert.That(await Task.WhenAll(inA, inB).WaitAsync(s_limit), Is.All.EqualTo(V(1, 3)));
        Assert.That(_source.CallsOf(":lease:"), Is.EqualTo(1));
        await NodeJoins.Joined(a, b);
        Assert.That(await new LevelsNodeB().LeasedAsync(3, CancellationToken.None), Is.EqualTo(V(1, 3)));
        Assert.That(b.IsInL1("lease:3"), Is.True, "B answers from its own L1 from now on");
        Assert.That(_source.CallsOf(":lease:"), Is.EqualTo(1));
    }

    /// <summary>
    /// A read-modify-write under <see cref="RedLock"/> across two nodes of a <see cref="MultiLevelCache"/>:
    /// B had read the counter (a copy in its L1); A takes the lock, writes 1, releases; B takes the lock and reads the
    /// counter. B read its L1 copy, 0, because A's backplane message is slower than A's release (they travel on two
    /// connections; here A's publish is held on its way for a moment), and wrote 0 + 1 = 1 over A's 1: an update lost.
    /// Taking the lock now drops the taker's L1 copy of the key.
    /// </summary>
    [Test]
    public async Task A_node_that_takes_a_RedLock_after_another_node_wrote_under_it_reads_that_write()
    {
        var fromA = Proxy();
        var a = Node(LevelsNodeA.Alias, backplaneVia: fromA);
        var b = Node(LevelsNodeB.Alias);
        await NodeJoins.Joined(a, b);
        await b.SetAsync("counter", 0, ttl: TimeSpan.FromMinutes(1));
        Assert.That(b.IsInL1("counter"), Is.True);

        await using (var held = await RedLock.AcquireAsync(a, "counter", TimeSpan.FromSeconds(10)))
        {
            Assert.That(held.IsAcquired, Is.True);
            fromA.Hold();
            await a.SetAsync("counter", await a.GetAsync<int>("counter") + 1, ttl: TimeSpan.FromMinutes(1));
        }

        try
        {
            var waited = Stopwatch.StartNew();
            await using var next = await RedLock.AcquireAsync(b, "counter", TimeSpan.FromSeconds(10));
            Assert.That(next.IsAcquired, Is.True);
            Assert.That(waited.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "A's release let B in at once");
            Assert.That(await b.L2.GetAsync<int>("counter"), Is.EqualTo(1), "L2 holds A's write");
            Assert.That(await b.GetAsync<int>("counter"), Is.EqualTo(1), "B, holding the lock after A released it, reads A's write (it read its stale L1 copy)");
        }
        finally
        {
            fromA.Release();
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Sync shapes on two levels
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>
    /// a sync <c>[Cached]</c> method on two nodes: B reads what A computed from L2 (no body call) into its L1;
    /// a sync <c>[InvalidateCache]</c> on B drops the entry on both nodes and A's next call computes once.
    /// </summary>
    [Test]
    public async Task A_sync_cached_method_on_two_nodes_shares_its_entry_and_a_sync_invalidation_reaches_both()
    {
        var a = Node(LevelsNodeA.Alias);
        var b = Node(LevelsNodeB.Alias);
        await NodeJoins.Joined(b, a);
        var nodeA = new LevelsNodeA();
        var nodeB = new LevelsNodeB();

        Assert.That(nodeA.One(5), Is.EqualTo(V(1, 5)));
        await NodeJoins.Joined(a, b); // A's message for its fill has reached B: a copy B takes now stays
        Assert.That(nodeB.One(5), Is.EqualTo(V(1, 5)));
        Assert.That(_source.Calls, Is.EqualTo(new[] { "A:one:[5]" }));
        Assert.That(a.IsInL1("one:5") && b.IsInL1("one:5"), Is.True);

        _source.Version = 2;
        nodeB.ForgetOne(5);
        Assert.That(b.IsInL1("one:5"), Is.False, "the invalidating node drops its own copy at once");
        await NodeJoins.Eventually(() => !a.IsInL1("one:5"), "the other node hears the invalidation");
        Assert.That(nodeA.One(5), Is.EqualTo(V(2, 5)));
        Assert.That(nodeB.One(5), Is.EqualTo(V(2, 5)));
        Assert.That(_source.Calls, Is.EqualTo(new[] { "A:one:[5]", "A:one:[5]" }));
    }
}
