using System.Diagnostics;
using Cached.Redis.Tests.Infrastructure;

namespace Cached.Redis.Tests;

/// <summary>
/// Outsider's check of two levels across separate OS processes: each node is this test assembly run again as a process
/// of its own (<see cref="NodeProcess"/>, <see cref="ProcessNodeProgram"/>), with a <see cref="MultiLevelCache"/> over
/// the shared real redis-server and <see cref="RedisBackplane"/>, and the generated methods of <see cref="ProcNode"/>
/// (fail-safe, eager refresh, tags, lease, <c>[MultiCached]</c> with tags, <c>[InvalidateTags]</c>,
/// <c>[InvalidateCache]</c>). A node's path to Redis can go through a <see cref="LoopbackProxy"/> to cut it.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderProcessesReviewTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);
    private readonly List<NodeProcess> _nodes = [];
    private readonly List<LoopbackProxy> _proxies = [];
    private string _space = null!;

    [SetUp]
    public void SetUp() => _space = "procs" + Guid.NewGuid().ToString("N")[..8];

    [TearDown]
    public async Task TearDown()
    {
        foreach (var proxy in _proxies)
        {
            proxy.Restore();
            proxy.Release();
            proxy.ReleaseReplies();
        }

        await Task.WhenAll(_nodes.Select(node => node.DisposeAsync().AsTask()));
        _nodes.Clear();
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

    private async Task<NodeProcess> Node(string name, LoopbackProxy? via = null, LoopbackProxy? backplaneVia = null)
    {
        var connection = via?.ConnectionString ?? SharedRedis.Server.ConnectionString;
        var backplane = backplaneVia?.ConnectionString ?? SharedRedis.Server.ConnectionString;
        var node = await NodeProcess.StartAsync(name, connection, backplane, _space);
        _nodes.Add(node);
        return node;
    }

    /// <summary>Starts the nodes side by side (each process takes about a second to start).</summary>
    private async Task<NodeProcess[]> Nodes(params (string Name, LoopbackProxy? Via)[] nodes)
        => await Task.WhenAll(nodes.Select(node => Node(node.Name, node.Via)));

    /// <summary>A plain cache on the nodes' namespace: what L2 holds (a plain read checks an entry's tags).</summary>
    private RedisCache L2() => new() { ConnectionString = SharedRedis.Server.ConnectionString, Namespace = _space };

    /// <summary>
    /// Returns once <paramref name="listener"/> takes L1 copies and hears <paramref name="writer"/>'s writes (a node's L1
    /// takes nothing until its subscription is live).
    /// </summary>
    private static async Task Joined(NodeProcess writer, NodeProcess listener)
    {
        var waited = Stopwatch.StartNew();
        for (var round = 0; ; round++)
        {
            var key = "joined:" + round;
            await writer.Call($"set {key} x");
            if (await listener.Call($"get {key}") == "x" && await listener.Call($"inl1 {key}") == "yes")
            {
                await writer.Call($"set {key} y");
                await Eventually(async () => await listener.Call($"inl1 {key}") == "no", $"{listener.Name} hears {writer.Name}");
                return;
            }

            Assert.That(waited.Elapsed, Is.LessThan(s_limit), $"{listener.Name}'s L1 takes copies");
            await Task.Delay(20);
        }
    }

    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.That(waited.Elapsed, Is.LessThan(s_limit), what);
            await Task.Delay(10);
        }
    }

    /// <summary>Calls <paramref name="command"/> on <paramref name="node"/> until it answers <paramref name="expected"/>; returns how long that took.</summary>
    private static async Task<TimeSpan> Until(NodeProcess node, string command, string expected, TimeSpan within)
    {
        var waited = Stopwatch.StartNew();
        string answer;
        while ((answer = await node.Call(command)) != expected)
        {
            Assert.That(waited.Elapsed, Is.LessThan(within), $"{node.Name}: `{command}` still answers {answer}, not {expected}");
            await Task.Delay(10);
        }

        return waited.Elapsed;
    }

    private static async Task Both(NodeProcess[] nodes, string command)
    {
        foreach (var node in nodes)
        {
            await node.Call(command);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Tags, [InvalidateTags] and [MultiCached] across processes
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>
    /// A tagged fail-safe entry that process A holds in L1 stops being served once process B invalidates its tag with
    /// an <c>[InvalidateTags]</c> method: A's next calls compute the new value within the backplane's delivery.
    /// </summary>
    [Test]
    public async Task A_tagged_fail_safe_entry_invalidated_by_another_process_is_recomputed_there_at_once()
    {
        var nodes = await Nodes(("A", null), ("B", null));
        var (a, b) = (nodes[0], nodes[1]);
        await Joined(b, a);
        await Joined(a, b);

        Assert.That(await a.Call("safe 1"), Is.EqualTo("v1:1"));
        Assert.That(await b.Call("safe 1"), Is.EqualTo("v1:1"), "B reads A's entry from L2");
        Assert.That(await b.Call("calls"), Is.EqualTo("0"));
        Assert.That(await a.Call("inl1 fs:1"), Is.EqualTo("yes"));

        await Both(nodes, "version 2");
        await b.Call("invalidate 1");
        var took = await Until(a, "safe 1", "v2:1", TimeSpan.FromSeconds(2));
        Assert.That(took, Is.LessThan(TimeSpan.FromMilliseconds(500)), "A stops serving the invalidated entry within the backplane's delivery");
        Assert.That(await b.Call("safe 1"), Is.EqualTo("v2:1"));
    }

    /// <summary>
    /// <c>[MultiCached]</c> with per-key and shared tags: B's invalidation of one key's tag makes A recompute that key
    /// only, and B's invalidation of the shared tag makes A recompute the whole batch.
    /// </summary>
    [Test]
    public async Task A_tagged_batch_follows_another_process_s_tag_invalidations_key_by_key_and_whole()
    {
        var nodes = await Nodes(("A", null), ("B", null));
        var (a, b) = (nodes[0], nodes[1]);
        await Joined(b, a);

        Assert.That(await a.Call("many 1,2,3"), Is.EqualTo("v1:1,v1:2,v1:3"));
        Assert.That(await b.Call("many 1,2,3"), Is.EqualTo("v1:1,v1:2,v1:3"));
        Assert.That(await b.Call("calls"), Is.EqualTo("0"), "B reads A's entries from L2");
        await Joined(b, a);
        Assert.That(await a.Call("inl1 3"), Is.EqualTo("yes"));

        await Both(nodes, "version 2");
        await b.Call("invalidate 2");
        await Until(a, "many 1,2,3", "v1:1,v2:2,v1:3", s_limit);
        Assert.That(a.Events.Where(e => e.StartsWith("entered many", StringComparison.Ordinal)), Is.EqualTo(new[] { "entered many:1,2,3 v1", "entered many:2 v2" }));

        await Both(nodes, "version 3");
        await b.Call("invalidate-batch");
        await Until(a, "many 1,2,3", "v3:1,v3:2,v3:3", s_limit);
        Assert.That(await b.Call("many 1,2,3"), Is.EqualTo("v3:1,v3:2,v3:3"), "B reads what A recomputed");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Eager refresh against another process's invalidation
    // ---------------------------------------------------------------------------------------------------------------

    public enum Invalidation
    {
        /// <summary><c>[InvalidateCache]</c> of the key.</summary>
        Key,

        /// <summary><c>[InvalidateTags]</c> of the entry's tag.</summary>
        Tag,
    }

    /// <summary>
    /// A's eager refresh reads the source (version 1), then B invalidates the entry (the source is at version 2) while
    /// the refresh's body still runs. The invalidation is final (docs/multilevel.md: "an invalidation made by another
    /// process while the body runs is final"): the refresh's value is not stored, and both processes then answer
    /// version 2.
    /// </summary>
    [Test]
    public async Task An_eager_refresh_overtaken_by_another_process_s_invalidation_stores_nothing([Values] Invalidation by)
    {
        var nodes = await Nodes(("A", null), ("B", null));
        var (a, b) = (nodes[0], nodes[1]);
        await Joined(b, a);
        await Joined(a, b);
        using var l2 = L2();

        Assert.That(await a.Call("eager 1"), Is.EqualTo("v1:1"));
        await Task.Delay(TimeSpan.FromMilliseconds(400)); // past the refresh point (0.3 s of 3 s)

        await a.Call("close");
        var entered = a.EventAsync("entered eager:1");
        var left = a.EventAsync("left eager:1");
        Assert.That(await a.Call("eager 1"), Is.EqualTo("v1:1"), "a late hit answers the current value at once");
        await entered.WaitAsync(s_limit);

        await Both(nodes, "version 2");
        await b.Call(by == Invalidation.Key ? "forget-eager 1" : "invalidate 1");
        Assert.That(await l2.GetAsync<string>("er:1"), Is.Null, "B's invalidation reached L2");
        await a.Call("open");
        await left.WaitAsync(s_limit);

        // The refresh's store follows its body at once; give it a moment to land (if it lands, it is the bug).
        var watch = Stopwatch.StartNew();
        string? stored = null;
        while (watch.Elapsed < TimeSpan.FromSeconds(1) && (stored = await l2.GetAsync<string>("er:1")) is null)
        {
            await Task.Delay(20);
        }

        Assert.Multiple(() =>
        {
            Assert.That(stored, Is.Not.EqualTo("v1:1"), "the refresh's value, computed before B's invalidation, is not in L2");
        });
        Assert.That(await b.Call("eager 1"), Is.EqualTo("v2:1"), "B does not read the refresh's value");
        await Until(a, "eager 1", "v2:1", TimeSpan.FromSeconds(1));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Fail-safe on two levels while L2 goes away and comes back
    // ---------------------------------------------------------------------------------------------------------------

    public enum Outage
    {
        /// <summary>A's L2 connection is cut; its backplane connection stays.</summary>
        L2,

        /// <summary>Both of A's connections to Redis are cut.</summary>
        L2AndBackplane,
    }

    /// <summary>
    /// A's L1 held the stale copy, but the read went on to L2, whose fault turned the whole read into a miss without a
    /// last value, and the source's exception reached the caller.
    /// A's entry is stale (past its Ttl, 3 s, kept 60 s for fail-safe) in A's L1 when A loses Redis and its source
    /// fails: "reads keep coming from L1 for as long as its copies live" (docs/multilevel.md), and the copy lives
    /// Ttl + FailSafe, so fail-safe answers A's last value. Meanwhile B recomputes the key (version 3) into L2. When A's
    /// connection comes back, A answers B's value, and L2 keeps it: nothing A did during the outage is replayed over it.
    /// </summary>
    [Test]
    public Task Fail_safe_serves_the_last_value_from_L1_while_L2_is_gone_and_yields_to_another_process_s_write_after(
        [Values] Outage outage)
        => FailSafeFromL1ThenYield("plain-safe", outage);

    /// <summary>
    /// The same outage with the tagged fail-safe method that also refreshes eagerly (from 1.5 s of its 3 s Ttl). A's
    /// client takes about 0.65 s to reconnect, and under load A's first read of B's entry may come past the refresh point
    /// B stamped on it ("every reader of the entry agrees on it", docs/resilience.md): that hit answers B's value and
    /// starts a refresh, which stores what A's source says then (version 4). That value was computed after the outage,
    /// not replayed from it, so L2 takes it; without a refresh, L2 keeps B's value. The test asserts whichever case the
    /// run is in.
    /// </summary>
    [Test]
    public Task Eagerly_refreshed_fail_safe_serves_the_last_value_from_L1_while_L2_is_gone_and_yields_to_another_process_s_write_after(
        [Values] Outage outage)
        => FailSafeFromL1ThenYield("safe", outage);

    private async Task FailSafeFromL1ThenYield(string method, Outage outage)
    {
        var toL2 = Proxy();
        var toBackplane = Proxy();
        var a = await Node("A", toL2, toBackplane);
        var b = await Node("B");
        await Joined(b, a);
        using var l2 = L2();
        var key = (method == "safe" ? "fs" : "fsp") + ":2";

        Assert.That(await a.Call($"{method} 2"), Is.EqualTo("v1:2"));
        Assert.That(await a.Call($"inl1 {key}"), Is.EqualTo("yes"));
        await Task.Delay(TimeSpan.FromMilliseconds(3100)); // stale: past Ttl, inside FailSafe

        toL2.Cut();
        if (outage == Outage.L2AndBackplane)
        {
            toBackplane.Cut();
        }

        await a.Call("fail on");
        Assert.That(await a.Call($"inl1 {key}"), Is.EqualTo("yes"), "A's L1 still holds the stale copy");
        Assert.That(await a.Send($"{method} 2"), Is.EqualTo("= v1:2"), "fail-safe answers A's last value (in its L1) while Redis is gone and the source fails");

        await b.Call("version 3");
        Assert.That(await b.Call($"{method} 2"), Is.EqualTo("v3:2"), "B recomputes the stale key");
        await a.Call("fail off");
        await a.Call("version 4");

        var refreshesBefore = await a.Call("refreshes");
        toL2.Restore();
        toBackplane.Restore();

        // A's client takes about 0.65 s to reconnect. A call of the method whose read of L2 fails in that time runs its
        // body, as fail-safe says, and when L2 is back by the time the body's fill opens, stores its value over B's
        // (begun after B's write returned, so no invalidation is undone). So wait for L2 with a plain read of no entry.
        await Eventually(async () => (await a.Send("get probe")).StartsWith("= ", StringComparison.Ordinal), "A's connection to L2 is back");
        // The last value A served is fresh again in A's L1 for the throttle (as it would be in L2 with L2 up). B's
        // write drops it through the backplane, or, when the backplane was cut too, A's reconnect empties L1
        // (docs/multilevel.md): until then A's copy answers, as any L1 copy does while its node is cut off.
        await Eventually(async () => await a.Call($"inl1 {key}") == "no", "B's write or A's reconnect dropped A's copy");
        Assert.That(await a.Call($"{method} 2"), Is.EqualTo("v3:2"), "A answers B's value from L2");
        await Eventually(async () => await a.Call("pending") == "0", "A has no write waiting");

        // A hit past B's refresh point counts its refresh before it answers, so this tells which case the run is in.
        if (await a.Call("refreshes") == refreshesBefore)
        {
            Assert.That(await l2.GetAsync<string>(key), Is.EqualTo("v3:2"), "L2 keeps B's value");
            Assert.That(await b.Call($"{method} 2"), Is.EqualTo("v3:2"));
            return;
        }

        Assert.That(method, Is.EqualTo("safe"), "only the eagerly refreshed method refreshes");
        await Eventually(async () => await l2.GetAsync<string>(key) == "v4:2", "A's refresh, begun after the outage, stores its source's value");

        // B's copy of its own value is past the refresh point too: with B's source where A's is, as one database would
        // be, B's own refresh cannot put version 3 back.
        await b.Call("version 4");
        await Until(b, $"{method} 2", "v4:2", TimeSpan.FromSeconds(1));
    }

    /// <summary>
    /// The source's exception reached the caller.
    /// The same outage in one process through <c>GetOrSetAsync</c> (no generated method): the stale entry is in L1, L2
    /// is cut, the factory fails; fail-safe answers the last value from L1.
    /// </summary>
    [Test]
    public async Task GetOrSet_fail_safe_serves_the_last_value_from_L1_while_L2_is_gone()
    {
        var toL2 = Proxy();
        await using var node = new MultiLevelCache(
            new SimpleMemoryCache(),
            new RedisCache { ConnectionString = toL2.ConnectionString + ",abortConnect=false", Namespace = _space, Timeout = TimeSpan.FromSeconds(2) },
            new RedisBackplane(SharedRedis.Server.ConnectionString + ",abortConnect=false"));
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(1), FailSafe = TimeSpan.FromMinutes(1) };
        await Eventually(async () =>
        {
            await node.GetOrSetAsync("warm", _ => ValueTask.FromResult("x"), options);
            return node.IsInL1("warm");
        }, "L1 takes copies");

        Assert.That(await node.GetOrSetAsync("rate", _ => ValueTask.FromResult("v1"), options), Is.EqualTo("v1"));
        Assert.That(node.IsInL1("rate"), Is.True);
        await Task.Delay(TimeSpan.FromMilliseconds(1100)); // stale: past Ttl, inside FailSafe
        toL2.Cut();

        Assert.That(node.IsInL1("rate"), Is.True, "L1 still holds the stale copy");
        var answer = await node.GetOrSetAsync<string>("rate", _ => throw new InvalidOperationException("source down"), options);
        Assert.That(answer, Is.EqualTo("v1"), "fail-safe answers the last value L1 holds");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Lease with fail-safe across processes, and during an L2 outage
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>
    /// A stale leased entry, the source failing on both processes: A takes the lease and its body fails; B waits for the
    /// lease. A answers the last value and writes it back fresh for the throttle, so B answers it too without calling
    /// its own failing source ("on Redis the throttle is in the stored entry, so other processes hold off as well").
    /// </summary>
    [Test]
    public async Task A_failing_leased_refresh_answers_the_last_value_in_both_processes_with_one_body_call()
    {
        var nodes = await Nodes(("A", null), ("B", null));
        var (a, b) = (nodes[0], nodes[1]);
        await Joined(b, a);
        await Joined(a, b);

        Assert.That(await a.Call("lease 5"), Is.EqualTo("v1:5"));
        Assert.That(await b.Call("lease 5"), Is.EqualTo("v1:5"));
        await Task.Delay(TimeSpan.FromMilliseconds(3100)); // stale: past the 3 s Ttl

        await Both(nodes, "fail on");
        await a.Call("close");
        var entered = a.EventAsync("entered lease:5");
        var fromA = a.Send("lease 5");
        await entered.WaitAsync(s_limit);
        var fromB = b.Send("lease 5");
        await Task.Delay(200); // B is waiting on A's lease (nothing to gate on in B's process)
        await a.Call("open");

        Assert.That(await fromA.WaitAsync(s_limit), Is.EqualTo("= v1:5"), "A answers the last value");
        Assert.That(await fromB.WaitAsync(s_limit), Is.EqualTo("= v1:5"), "B answers the last value too");
        Assert.That(await b.Call("calls"), Is.EqualTo("0"), "B held off its own failing source: A's throttled value was in L2 when the lease ended");
        Assert.That(await a.Call("calls"), Is.EqualTo("2"));
    }

    /// <summary>
    /// A cold leased key on a process whose Redis is gone: the call fails open (runs its body, answers) promptly, and
    /// does not wait the whole lease.
    /// </summary>
    [Test]
    public async Task A_leased_call_while_L2_is_gone_runs_its_body_promptly()
    {
        var toA = Proxy();
        var nodes = await Nodes(("A", toA), ("B", null));
        var a = nodes[0];
        await Joined(nodes[1], a);
        toA.Cut();

        var watch = Stopwatch.StartNew();
        Assert.That(await a.Call("plain-lease 6"), Is.EqualTo("v1:6"));
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)), "fail-open, not a wait for the lease");
        Assert.That(await a.Call("lease 7"), Is.EqualTo("v1:7"), "a tagged leased fail-safe call too");
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(6)));
    }

    /// <summary>
    /// A holds the lease of a cold key and its body runs when A loses Redis. B, waiting on that lease, must not wait
    /// past the lease (5 s): it gets a value, and once A's value could not be stored, B's own body runs once.
    /// </summary>
    [Test]
    public async Task A_lease_holder_cut_from_Redis_leaves_the_other_process_waiting_no_longer_than_the_lease()
    {
        var toA = Proxy();
        var nodes = await Nodes(("A", toA), ("B", null));
        var (a, b) = (nodes[0], nodes[1]);
        await Joined(b, a);

        await a.Call("close");
        var entered = a.EventAsync("entered plain-lease:8");
        var fromA = a.Send("plain-lease 8");
        await entered.WaitAsync(s_limit);
        var watch = Stopwatch.StartNew();
        var fromB = b.Send("plain-lease 8");
        toA.Cut();
        await a.Call("open");
        Assert.That(await fromA.WaitAsync(s_limit), Is.EqualTo("= v1:8"), "A answers its body's value, L2 or not");

        Assert.That(await fromB.WaitAsync(s_limit), Is.EqualTo("= v1:8"));
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(7)), "B waited the lease at most");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // OptimisticLock on a MultiLevelCache
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>
    /// <see cref="OptimisticLock"/> refused a <see cref="MultiLevelCache"/> (ArgumentException: not an IVersionedCache),
    /// while <see cref="RedLock"/> and the lease worked on it.
    /// README: "Locks: RedLock ... and OptimisticLock (check-and-set), on every backend". On a two-level cache (the
    /// usual default alias of a multi-node app) a CAS by A is then seen by B, whose L1 held the old value.
    /// </summary>
    [Test]
    public async Task OptimisticLock_on_a_two_level_cache_sets_and_the_other_process_sees_it()
    {
        var nodes = await Nodes(("A", null), ("B", null));
        var (a, b) = (nodes[0], nodes[1]);
        await Joined(a, b);
        await a.Call("set counter 1");
        await Joined(a, b); // A's message for its set has reached B: a copy B takes now stays
        Assert.That(await b.Call("get counter"), Is.EqualTo("1"));
        Assert.That(await b.Call("inl1 counter"), Is.EqualTo("yes"));

        Assert.That(await a.Send("cas counter 2"), Is.EqualTo("= ok"), "OptimisticLock works on a MultiLevelCache");
        await Until(b, "get counter", "2", s_limit);
    }
}
