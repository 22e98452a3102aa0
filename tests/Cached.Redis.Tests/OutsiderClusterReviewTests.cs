using Cached.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// Generated methods on one alias, for the outsider's check of Redis Cluster and Garnet: tagged [Cached] and
/// [MultiCached] methods, sync and async, and [InvalidateTags]. The alias's instance is swapped by the tests, so the
/// same methods stand for two processes on two connections. Every body answers "v{Version}-{id}" and is counted.
/// </summary>
public partial class OutsiderCatalog
{
    public const string Alias = "outsider-review";

    private int _bodyCalls;

    /// <summary>What the bodies answer with; a test moves it to tell a recomputed value from a stored one.</summary>
    public int Version { get; set; } = 1;

    public int BodyCalls => Volatile.Read(ref _bodyCalls);

    /// <summary>The keys each batch body was asked for, in order.</summary>
    public List<int[]> BatchesAsked { get; } = [];

    public string Expected(int id) => $"v{Version}-{id}";

    [Cached(Alias = Alias, Key = "item:{id}", Ttl = 60, Tags = new[] { "item:{id}", "items" })]
    public partial string Get(int id);

    private string GetCore(int id) => Body(id);

    [Cached(Alias = Alias, Key = "item-async:{id}", Ttl = 60, Tags = new[] { "item:{id}", "items" })]
    public partial Task<string> GetAsync(int id);

    private Task<string> GetAsyncCore(int id) => Task.FromResult(Body(id));

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60, Namespace = "batch", Tags = new[] { "item:{ids}", "items" })]
    public partial Dictionary<int, string> GetMany(IReadOnlyList<int> ids);

    private Dictionary<int, string> GetManyCore(IReadOnlyList<int> ids) => Batch(ids);

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60, Namespace = "batch-async", Tags = new[] { "item:{ids}", "items" })]
    public partial Task<Dictionary<int, string>> GetManyAsync(IReadOnlyList<int> ids);

    private Task<Dictionary<int, string>> GetManyAsyncCore(IReadOnlyList<int> ids) => Task.FromResult(Batch(ids));

    /// <summary>Untagged, for the order of a batch over many slots without tags in the way.</summary>
    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60, Namespace = "plain")]
    public partial Dictionary<int, string> GetPlain(IReadOnlyList<int> ids);

    private Dictionary<int, string> GetPlainCore(IReadOnlyList<int> ids) => Batch(ids);

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60, Namespace = "plain-async")]
    public partial Task<Dictionary<int, string>> GetPlainAsync(IReadOnlyList<int> ids);

    private Task<Dictionary<int, string>> GetPlainAsyncCore(IReadOnlyList<int> ids) => Task.FromResult(Batch(ids));

    [InvalidateTags("items")]
    public partial void ForgetAll();

    private void ForgetAllCore()
    {
    }

    [InvalidateTags("item:{id}")]
    public partial Task ForgetAsync(int id);

    private Task ForgetAsyncCore(int id) => Task.CompletedTask;

    /// <summary>One item through <see cref="Get"/> or <see cref="GetAsync"/>.</summary>
    public async Task<string> Read(int id, bool async) => async ? await GetAsync(id) : Get(id);

    /// <summary>A batch through the tagged or the untagged [MultiCached] method, sync or async.</summary>
    public async Task<Dictionary<int, string>> ReadMany(IReadOnlyList<int> ids, bool async, bool tagged = true)
        => (tagged, async) switch
        {
            (true, true) => await GetManyAsync(ids),
            (true, false) => GetMany(ids),
            (false, true) => await GetPlainAsync(ids),
            (false, false) => GetPlain(ids),
        };

    /// <summary>Each item, one call at a time, in order.</summary>
    public async Task<string[]> ReadEach(IReadOnlyList<int> ids, bool async)
    {
        var values = new string[ids.Count];
        for (var i = 0; i < ids.Count; i++)
        {
            values[i] = await Read(ids[i], async);
        }

        return values;
    }

    private string Body(int id)
    {
        Interlocked.Increment(ref _bodyCalls);
        return Expected(id);
    }

    private Dictionary<int, string> Batch(IReadOnlyList<int> ids)
    {
        Interlocked.Increment(ref _bodyCalls);
        lock (BatchesAsked)
        {
            BatchesAsked.Add([.. ids]);
        }

        return ids.ToDictionary(static id => id, Expected);
    }
}

/// <summary>
/// An outsider's check of generated methods and tags on the 3-primary Redis Cluster: two <see cref="RedisCache"/>
/// instances on separate connections stand for two processes, and the keys of every test fall in many hash slots on
/// every primary.
/// </summary>
[NonParallelizable]
public sealed class OutsiderClusterReviewTests
{
    private const string Space = "outsider";
    private static readonly int[] s_ids = [.. Enumerable.Range(1, 60)];

    private readonly List<RedisCache> _caches = [];
    private ConnectionMultiplexer _direct = null!;
    private OutsiderCatalog _catalog = null!;

    [SetUp]
    public void SetUp()
    {
        Caches.Reset();
        _direct = ConnectionMultiplexer.Connect(SharedRedis.Cluster.ConnectionString + ",allowAdmin=true,name=outsider-direct");
        FlushEveryPrimary();
        _catalog = new OutsiderCatalog();
    }

    [TearDown]
    public void TearDown()
    {
        Caches.Reset();
        foreach (var cache in _caches)
        {
            cache.Dispose();
        }

        _caches.Clear();
        FlushEveryPrimary();
        _direct.Dispose();
    }

    private void FlushEveryPrimary()
    {
        foreach (var node in SharedRedis.Cluster.Nodes)
        {
            _direct.GetServer("127.0.0.1", node.Port).FlushDatabase();
        }
    }

    /// <summary>A "process": a cache on a connection of its own, which the generated methods use once it is <see cref="Use"/>d.</summary>
    private RedisCache Process(string name)
    {
        var cache = new RedisCache { ConnectionString = $"{SharedRedis.Cluster.ConnectionString},name=outsider-{name}", Namespace = Space };
        _caches.Add(cache);
        return cache;
    }

    private static void Use(RedisCache cache) => Caches.AddInstance(OutsiderCatalog.Alias, cache);

    private long KeysOn(int node) => _direct.GetServer("127.0.0.1", SharedRedis.Cluster.Nodes[node].Port).DatabaseSize();

    private int SlotsOf(IEnumerable<string> keys) => keys.Select(k => _direct.HashSlot(k)).Distinct().Count();

    private Task<string> Read(int id, bool async) => _catalog.Read(id, async);

    private Task<Dictionary<int, string>> ReadMany(IReadOnlyList<int> ids, bool async, bool tagged = true) => _catalog.ReadMany(ids, async, tagged);

    private Task<string[]> ReadEach(bool async) => _catalog.ReadEach(s_ids, async);

    private string[] Expected(IEnumerable<int> ids) => [.. ids.Select(_catalog.Expected)];

    [Test]
    public async Task A_tag_invalidated_by_another_connection_hides_the_tagged_entries_of_every_slot([Values] bool async)
    {
        var (a, b) = (Process("a"), Process("b"));
        Use(a);
        await ReadEach(async);
        Assert.That(SlotsOf(s_ids.Select(id => $"{Space}:item:{id}")), Is.GreaterThan(40), "the entries fall in many slots");
        Assert.That(Enumerable.Range(0, 3).All(n => KeysOn(n) > 0), Is.True, "every primary holds some of them");
        var filled = _catalog.BodyCalls;
        Assert.That(await ReadEach(async), Is.EqualTo(Expected(s_ids)), "hits");
        Assert.That(_catalog.BodyCalls, Is.EqualTo(filled), "every read hit");

        _catalog.Version = 2;
        if (async)
        {
            await b.InvalidateTagsAsync(["items"]);
        }
        else
        {
            b.InvalidateTags("items");
        }

        Assert.That(await ReadEach(async), Is.EqualTo(Expected(s_ids)), "every entry, on every slot, misses after the other process's invalidation");
        Assert.That(_catalog.BodyCalls, Is.EqualTo(filled + s_ids.Length));
    }

    [Test]
    public async Task InvalidateTags_of_one_process_is_seen_by_the_generated_methods_of_the_other([Values] bool async)
    {
        var (a, b) = (Process("a"), Process("b"));
        Use(a);
        await ReadEach(async);
        var filled = _catalog.BodyCalls;

        // Process b's generated methods read what a stored, then b invalidates one item's tag with [InvalidateTags].
        Use(b);
        Assert.That(await ReadEach(async), Is.EqualTo(Expected(s_ids)));
        Assert.That(_catalog.BodyCalls, Is.EqualTo(filled), "b hits what a stored");
        _catalog.Version = 2;
        await _catalog.ForgetAsync(7);

        Use(a);
        var after = await ReadEach(async);
        Assert.That(after[6], Is.EqualTo("v2-7"), "the invalidated item is recomputed in a");
        Assert.That(after.Where((_, i) => i != 6), Is.All.StartWith("v1-"), "the others still hit");
        Assert.That(_catalog.BodyCalls, Is.EqualTo(filled + 1));

        // And the generated [InvalidateTags] of every item, run in b, reaches a's entries on every slot.
        Use(b);
        _catalog.ForgetAll();
        Use(a);
        _catalog.Version = 3;
        Assert.That(await ReadEach(async), Is.EqualTo(Expected(s_ids)));
    }

    [Test]
    public async Task A_MultiCached_batch_over_many_slots_returns_every_value_and_asks_the_body_only_for_the_missing([Values] bool async, [Values] bool tagged)
    {
        Use(Process("a"));
        var first = s_ids.Where(static id => id % 3 == 0).ToArray();
        await ReadMany(first, async, tagged);

        _catalog.Version = 2;
        var all = await ReadMany(s_ids, async, tagged);

        Assert.That(all.Keys, Is.EquivalentTo(s_ids));
        Assert.That(s_ids.Select(id => all[id]), Is.EqualTo(s_ids.Select(id => id % 3 == 0 ? $"v1-{id}" : $"v2-{id}")), "hits from the first batch, the rest computed");
        Assert.That(_catalog.BatchesAsked[^1], Is.EquivalentTo(s_ids.Where(static id => id % 3 != 0)), "the body got only the missing keys");

        var again = await ReadMany([.. s_ids.Reverse()], async, tagged);
        Assert.That(s_ids.Select(id => again[id]), Is.EqualTo(s_ids.Select(id => id % 3 == 0 ? $"v1-{id}" : $"v2-{id}")));
        Assert.That(_catalog.BatchesAsked, Has.Count.EqualTo(2), "a batch of hits on every slot calls no body");
    }

    [Test]
    public async Task A_tagged_MultiCached_batch_misses_on_every_slot_after_another_connection_invalidates([Values] bool async)
    {
        var (a, b) = (Process("a"), Process("b"));
        Use(a);
        await ReadMany(s_ids, async);

        // One item's own tag, from the other process: only that entry misses.
        _catalog.Version = 2;
        await b.InvalidateTagsAsync(["item:42"]);
        var one = await ReadMany(s_ids, async);
        Assert.That(_catalog.BatchesAsked[^1], Is.EqualTo(new[] { 42 }));
        Assert.That(one[42], Is.EqualTo("v2-42"));
        Assert.That(one[41], Is.EqualTo("v1-41"));

        // The tag every entry carries: the whole batch misses.
        _catalog.Version = 3;
        b.InvalidateTags("items");
        var all = await ReadMany(s_ids, async);
        Assert.That(_catalog.BatchesAsked[^1], Is.EquivalentTo(s_ids));
        Assert.That(s_ids.Select(id => all[id]), Is.EqualTo(Expected(s_ids)));
    }

    [Test]
    public async Task Clear_of_the_namespace_clears_every_primary_entries_tag_records_and_fences([Values] bool async)
    {
        var (a, b) = (Process("a"), Process("b"));
        Use(a);
        await ReadEach(async);
        a.MultiSet(s_ids.Select(static id => KeyValuePair.Create("plain:" + id, id)), ttl: TimeSpan.FromMinutes(1));
        var other = Process("other-namespace");
        other.Set("kept", 1, @namespace: "elsewhere");

        if (async)
        {
            await b.ClearAsync();
        }
        else
        {
            b.Clear();
        }

        var left = Enumerable.Range(0, 3)
            .SelectMany(n => _direct.GetServer("127.0.0.1", SharedRedis.Cluster.Nodes[n].Port).Keys(pattern: Space + ":*"))
            .Select(static k => (string)k!)
            .ToArray();
        Assert.That(left, Is.Empty, "nothing of the namespace is left on any primary");
        Assert.That(other.Exists("kept", @namespace: "elsewhere"), Is.True);
        var filled = _catalog.BodyCalls;
        _catalog.Version = 2;
        Assert.That(await ReadEach(async), Is.EqualTo(Expected(s_ids)));
        Assert.That(_catalog.BodyCalls, Is.EqualTo(filled + s_ids.Length));
    }

    [Test]
    public async Task MultiSet_ttls_Increment_and_Expire_over_many_slots_from_two_connections([Values] bool async)
    {
        var (a, b) = (Process("a"), Process("b"));
        var keys = s_ids.Select(static id => "n" + id).ToArray();
        var pairs = keys.Select(static (k, i) => KeyValuePair.Create(k, (long)i)).ToArray();
        if (async)
        {
            await a.MultiSetAsync(pairs, ttl: TimeSpan.FromSeconds(30));
        }
        else
        {
            a.MultiSet(pairs, ttl: TimeSpan.FromSeconds(30));
        }

        var ttls = keys.Select(k => _direct.GetDatabase().KeyTimeToLive($"{Space}:{k}")).ToArray();
        Assert.That(ttls, Is.All.Not.Null.And.All.InRange(TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(30)), "every slot's script gave its keys the TTL");

        foreach (var key in keys)
        {
            _ = async ? await b.IncrementAsync(key, 100) : b.Increment(key, 100);
        }

        Assert.That(async ? await a.MultiGetAsync<long>(keys) : a.MultiGet<long>(keys), Is.EqualTo(pairs.Select(static p => p.Value + 100)));
        Assert.That(async ? await b.ExpireAsync(keys[5], null) : b.Expire(keys[5], null), Is.True);
        Assert.That(_direct.GetDatabase().KeyTimeToLive($"{Space}:{keys[5]}"), Is.Null, "the expiry was removed");
        Assert.That(async ? await b.ExpireAsync(keys[6], TimeSpan.FromSeconds(90)) : b.Expire(keys[6], TimeSpan.FromSeconds(90)), Is.True);
        Assert.That(_direct.GetDatabase().KeyTimeToLive($"{Space}:{keys[6]}"), Is.GreaterThan(TimeSpan.FromSeconds(60)));
        Assert.That(async ? await b.ExpireAsync("missing", TimeSpan.FromSeconds(9)) : b.Expire("missing", TimeSpan.FromSeconds(9)), Is.False);
    }

    [Test]
    public void A_sync_two_level_batch_sends_every_slots_read_before_it_waits_for_any()
    {
        // docs/redis.md: "A sync MultiGet, MultiSet or [MultiCached] call waits for its slots' commands together ... a
        // batch over many slots costs about one round trip, not one per slot". A two-level node's sync batch read of
        // L2 (GET and PTTL per key) waited for each slot's read (a script) before it sent the next, so with one primary
        // paused the other primaries heard nothing until the pause ended.
        var cluster = SharedRedis.Cluster;
        var paused = cluster.OwnerOf(cluster.SlotOf(Space + ":k0"));
        var second = Enumerable.Range(1, 100).Select(static i => "k" + i).First(k => cluster.OwnerOf(cluster.SlotOf($"{Space}:{k}")) != paused);
        var other = cluster.OwnerOf(cluster.SlotOf($"{Space}:{second}"));
        var node = new MultiLevelCache(new SimpleMemoryCache(), Process("two-level"));
        node.L2.MultiSet([KeyValuePair.Create("k0", 1), KeyValuePair.Create(second, 2)]);
        Assert.That(node.MultiGet<int>(["k0", second]), Is.EqualTo(new[] { 1, 2 }), "connected to every primary");
        node.L1.Clear();
        long Reads() => ReadCalls(other);
        var before = Reads();

        // 3 s, so that the batch's thread may start, and the check run, a second or two late on a loaded CI machine; not
        // longer, as the batch waits out the pause within its 5 s timeout (an UNPAUSE would wait for the pause too).
        Admin(paused).Execute("CLIENT", "PAUSE", "3000", "ALL");
        try
        {
            var batch = Task.Run(() => node.MultiGet<int>(["k0", second]));
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (Reads() == before && waited.Elapsed < TimeSpan.FromSeconds(2.5))
            {
                Thread.Sleep(10);
            }

            Assert.That(Reads(), Is.GreaterThan(before), "the second slot's read was sent while the first one's primary was paused");
            Assert.That(batch.Wait(TimeSpan.FromSeconds(10)), Is.True);
        }
        finally
        {
            Admin(paused).Execute("CLIENT", "UNPAUSE");
            node.Dispose();
        }
    }

    [Test]
    public async Task A_second_two_level_node_reads_a_tagged_MultiCached_batch_from_every_slot_and_sees_an_invalidation([Values] bool async)
    {
        var first = new MultiLevelCache(new SimpleMemoryCache(), Process("node-a"));
        var second = new MultiLevelCache(new SimpleMemoryCache(), Process("node-b"));
        try
        {
            Caches.AddInstance(OutsiderCatalog.Alias, first);
            await ReadMany(s_ids, async);
            Caches.AddInstance(OutsiderCatalog.Alias, second);
            _catalog.Version = 2;
            var read = await ReadMany([.. s_ids, 61], async);
            Assert.That(_catalog.BatchesAsked[^1], Is.EqualTo(new[] { 61 }), "the other node's L2 entries of every slot hit");
            Assert.That(s_ids.Select(id => read[id]), Is.All.StartWith("v1-"));

            // Without a backplane, tagged entries skip L1 (docs/tags.md), so an invalidation through the first node reaches the second.
            if (async)
            {
                await first.InvalidateTagsAsync(["items"]);
            }
            else
            {
                first.InvalidateTags("items");
            }

            _catalog.Version = 3;
            var after = await ReadMany(s_ids, async);
            Assert.That(s_ids.Select(id => after[id]), Is.EqualTo(Expected(s_ids)));
        }
        finally
        {
            first.Dispose();
            second.Dispose();
        }
    }

    private IServer Admin(RedisServer node) => _direct.GetServer("127.0.0.1", node.Port);

    /// <summary>How many commands that read keys <paramref name="node"/> has run: reads and scripts (<c>INFO commandstats</c>).</summary>
    private long ReadCalls(RedisServer node)
        => Admin(node).Info("commandstats").SelectMany(static section => section)
            .Where(static pair => pair.Key is "cmdstat_eval" or "cmdstat_evalsha" or "cmdstat_get" or "cmdstat_pttl" or "cmdstat_mget")
            .Sum(static pair => long.Parse(pair.Value.Split(',')[0]["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture));

    [Test]
    public async Task A_write_from_another_connection_drops_a_tagged_entry_of_a_generated_method([Values] bool async)
    {
        var (a, b) = (Process("a"), Process("b"));
        Use(a);
        Assert.That(await Read(5, async), Is.EqualTo("v1-5"));

        // The other process deletes the entry; a recomputes it, and stores the new value.
        var key = async ? "item-async:5" : "item:5";
        _catalog.Version = 2;
        Assert.That(async ? await b.DeleteAsync(key) : b.Delete(key), Is.EqualTo(1));
        Assert.That(await Read(5, async), Is.EqualTo("v2-5"));
        _catalog.Version = 3;
        Assert.That(await Read(5, async), Is.EqualTo("v2-5"), "stored again");
    }
}
