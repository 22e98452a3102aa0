using System.Diagnostics;
using Cached.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// An outsider's check of Microsoft Garnet in cluster mode (docs/redis.md lists it as "not tested"): a 3-primary Garnet
/// cluster on loopback (<see cref="GarnetCluster"/>), the commands of <see cref="RedisCache"/> on keys of every primary,
/// namespaces and <c>Clear</c>, <c>Raw</c>, read-through with fail-safe and eager refresh, generated and direct tags, and
/// two levels with <see cref="RedisBackplane"/>. Ignored without the garnet-server tool.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderGarnetClusterReviewTests
{
    private const string Space = "gc";
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);
    private static readonly int[] s_ids = [.. Enumerable.Range(1, 30)];
    private static readonly CacheEntryOptions s_tagged = new() { Ttl = TimeSpan.FromMinutes(1), Tags = ["user:1", "users"] };

    private readonly List<IAsyncDisposable> _disposables = [];
    private GarnetCluster _cluster = null!;
    private ConnectionMultiplexer _direct = null!;
    private OutsiderCatalog _catalog = null!;

    [OneTimeSetUp]
    public void StartCluster()
    {
        _cluster = GarnetCluster.StartOrIgnore();
        _direct = ConnectionMultiplexer.Connect(_cluster.ConnectionString + ",allowAdmin=true,name=outsider-gc-admin");
        Assert.That(Primaries().Select(static s => s.InfoRaw("server")), Is.All.Contains("server_name:garnet"));
        Assert.That(Primaries().Select(static s => s.ServerType), Is.All.EqualTo(ServerType.Cluster));
    }

    [OneTimeTearDown]
    public void StopCluster()
    {
        _direct?.Dispose();
        _cluster?.Dispose();
    }

    [SetUp]
    public void SetUp()
    {
        Caches.Reset();
        FlushEveryPrimary();
        _catalog = new OutsiderCatalog();
    }

    [TearDown]
    public async Task TearDown()
    {
        Caches.Reset();
        await _disposables.DisposeAllAsync();
        FlushEveryPrimary();
    }

    private IServer[] Primaries() => [.. _cluster.Nodes.Select(n => _direct.GetServer("127.0.0.1", n.Port))];

    private void FlushEveryPrimary()
    {
        foreach (var server in Primaries())
        {
            server.FlushDatabase();
        }
    }

    private string[] KeysOnEveryPrimary(string pattern)
        => [.. Primaries().SelectMany(s => s.Keys(pattern: pattern)).Select(static k => (string)k!)];

    private long[] KeysPerPrimary() => [.. Primaries().Select(static s => s.DatabaseSize())];

    /// <summary>A "process": a cache on a connection of its own to the cluster.</summary>
    private RedisCache Process(string name, string? @namespace = Space, string options = "", TimeProvider? time = null)
    {
        var cache = new RedisCache
        {
            ConnectionString = $"{_cluster.ConnectionString},name=outsider-gc-{name}{options}",
            Namespace = @namespace,
            TimeProvider = time ?? TimeProvider.System,
        };
        _disposables.Add(cache);
        return cache;
    }

    private MultiLevelCache Node(string name, string space, bool? sharded = null)
    {
        var node = new MultiLevelCache(
            new SimpleMemoryCache(),
            new RedisCache { ConnectionString = $"{_cluster.ConnectionString},name=outsider-gc-l2-{name}", Namespace = space },
            new RedisBackplane($"{_cluster.ConnectionString},name=outsider-gc-bp-{name}") { Sharded = sharded });
        _disposables.Add(node);
        return node;
    }

    private static void Use(ICache cache) => Caches.AddInstance(OutsiderCatalog.Alias, cache);

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.That(waited.Elapsed, Is.LessThan(s_limit), what);
            await Task.Delay(10);
        }
    }

    [Test]
    public async Task Single_key_commands_work_on_keys_of_every_primary([Values] bool async)
    {
        var (a, b) = (Process("a"), Process("b"));
        var keys = s_ids.Select(static id => "k" + id).ToArray();
        foreach (var key in keys)
        {
            Assert.That(async ? await a.SetAsync(key, key + "-value", TimeSpan.FromMinutes(1)) : a.Set(key, key + "-value", TimeSpan.FromMinutes(1)), Is.True);
        }

        Assert.That(KeysPerPrimary(), Is.All.GreaterThan(0), "the keys fall on every primary");
        Assert.That(keys.Select(k => b.Get<string>(k)), Is.EqualTo(keys.Select(static k => k + "-value")), "the other process reads them");
        Assert.That(async ? await b.ExistsAsync(keys[3]) : b.Exists(keys[3]), Is.True);
        Assert.That(async ? await b.AddAsync("added", 1) : b.Add("added", 1), Is.True);
        Assert.That(() => a.Add("added", 2), Throws.TypeOf<KeyExistsException>(), "docs/redis.md: Add on an existing key throws");
        Assert.That(a.Get<int>("added"), Is.EqualTo(1));

        foreach (var key in keys)
        {
            _ = async ? await b.IncrementAsync("n:" + key, 5) : b.Increment("n:" + key, 5);
        }

        Assert.That(keys.Select(k => a.Increment("n:" + k, -2)), Is.All.EqualTo(3L));
        Assert.That(() => a.Increment(keys[0]), Throws.TypeOf<CacheValueNotIntegerException>());

        Assert.That(async ? await b.ExpireAsync(keys[5], null) : b.Expire(keys[5], null), Is.True);
        Assert.That(_direct.GetDatabase().KeyTimeToLive($"{Space}:{keys[5]}"), Is.Null, "the expiry was removed");
        Assert.That(async ? await b.ExpireAsync(keys[6], TimeSpan.FromMinutes(5)) : b.Expire(keys[6], TimeSpan.FromMinutes(5)), Is.True);
        Assert.That(_direct.GetDatabase().KeyTimeToLive($"{Space}:{keys[6]}"), Is.GreaterThan(TimeSpan.FromMinutes(4)));
        Assert.That(async ? await b.ExpireAsync("missing", TimeSpan.FromSeconds(9)) : b.Expire("missing", TimeSpan.FromSeconds(9)), Is.False);

        foreach (var key in keys)
        {
            Assert.That(async ? await b.DeleteAsync(key) : b.Delete(key), Is.EqualTo(1), key);
        }

        Assert.That(keys.Select(k => a.Exists(k)), Is.All.False);
        Assert.That(a.Delete("missing"), Is.Zero);
        Assert.That(KeysOnEveryPrimary("*__cached:fence*"), Is.Empty, "no fence left behind");
    }

    [Test]
    public async Task MultiSet_and_MultiGet_over_many_slots_keep_the_order_and_the_ttl([Values] bool async, [Values] bool ttl)
    {
        var (a, b) = (Process("a"), Process("b"));
        var pairs = s_ids.Select(static id => KeyValuePair.Create("m" + id, id)).ToArray();
        TimeSpan? life = ttl ? TimeSpan.FromSeconds(30) : null;
        Assert.That(async ? await a.MultiSetAsync(pairs, life) : a.MultiSet(pairs, life), Is.True);
        Assert.That(pairs.Select(p => _direct.HashSlot($"{Space}:{p.Key}")).Distinct().Count(), Is.GreaterThan(20));
        Assert.That(KeysPerPrimary(), Is.All.GreaterThan(0));

        string[] asked = [.. pairs.Select(static p => p.Key).Reverse().Append("missing").Prepend("absent")];
        var values = async ? await b.MultiGetAsync<int?>(asked) : b.MultiGet<int?>(asked);
        Assert.That(values, Is.EqualTo(new int?[] { null }.Concat(pairs.Reverse().Select(static p => (int?)p.Value)).Append(null)));
        var ttls = pairs.Select(p => _direct.GetDatabase().KeyTimeToLive($"{Space}:{p.Key}")).ToArray();
        Assert.That(ttls, ttl ? Is.All.InRange(TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(30)) : Is.All.Null);
    }

    [Test]
    public async Task Namespaces_are_apart_and_Clear_of_one_empties_it_on_every_primary([Values] bool async)
    {
        var (app, other) = (Process("app", "app"), Process("other", "other"));
        foreach (var id in s_ids)
        {
            app.Set("k" + id, "app");
            other.Set("k" + id, "other");
        }

        app.GetOrSet("tagged", _ => "t", s_tagged);
        Assert.That(app.Get<string>("k1", @namespace: "other"), Is.EqualTo("other"), "a namespace given per call");

        Assert.That(async ? await other.ClearAsync("app") : other.Clear("app"), Is.True);

        Assert.That(KeysOnEveryPrimary("app:*"), Is.Empty, "nothing of app left on any primary, tag records included");
        Assert.That(s_ids.Select(id => other.Get<string>("k" + id)), Is.All.EqualTo("other"));
        Assert.That(app.GetOrSet("tagged", _ => "recomputed", s_tagged), Is.EqualTo("recomputed"));
    }

    [Test]
    public async Task Clear_without_a_namespace_empties_every_primary([Values] bool async, [Values("", ",allowAdmin=true")] string admin)
    {
        var bare = Process("bare", null, admin);
        var app = Process("app", "app");
        foreach (var id in s_ids)
        {
            bare.Set("k" + id, id);
            app.Set("k" + id, id);
        }

        Assert.That(async ? await bare.ClearAsync() : bare.Clear(), Is.True);

        Assert.That(KeysPerPrimary(), Is.All.Zero, "SCAN and UNLINK (or FLUSHDB in admin mode) on every primary");
        Assert.That(app.Exists("k1"), Is.False);
    }

    [Test]
    public async Task Raw_goes_to_the_owner_of_its_key_and_a_cross_slot_command_fails_clearly([Values] bool async)
    {
        var cache = Process("raw");
        cache.Set("one", "1");
        cache.Set("two", "2");
        Assert.That(_direct.HashSlot($"{Space}:one"), Is.Not.EqualTo(_direct.HashSlot($"{Space}:two")));

        Assert.That(async ? await cache.RawAsync("GET", [$"{Space}:one"]) : cache.Raw("GET", $"{Space}:one"), Is.EqualTo("\"1\"").Or.EqualTo("1"));
        Assert.That(cache.Raw("EXISTS", $"{Space}:two"), Is.EqualTo(1L));
        Assert.That(cache.Raw("DBSIZE"), Is.AnyOf(KeysPerPrimary().Cast<object>().ToArray()), "one node's keys");

        var cross = async
            ? Assert.CatchAsync<CacheException>(async () => await cache.RawAsync("MGET", [$"{Space}:one", $"{Space}:two"]))
            : Assert.Catch<CacheException>(() => cache.Raw("MGET", $"{Space}:one", $"{Space}:two"));
        Assert.That(cross, Is.TypeOf<CacheBackendException>().With.Message.Contains("CROSSSLOT"));
        Assert.That(() => cache.Raw("FLUSHALL"), Throws.TypeOf<CacheBackendException>(), "admin commands stay refused");
        Assert.That(cache.Exists("one"), Is.True);
    }

    [Test]
    public async Task GetOrSet_calls_one_body_for_two_processes_and_leaves_no_fence([Values] bool async)
    {
        // With hash tags, and with braces that make none ("a{b", "x{}y": docs/redis.md, their fills store unfenced).
        var (a, b) = (Process("a"), Process("b"));
        var calls = 0;
        string[] keys = [.. s_ids.Select(static id => "rt" + id), "user:{42}:profile", "user:{42}:orders", "a{b", "x{}y"];
        foreach (var key in keys)
        {
            string Body(CancellationToken _)
            {
                Interlocked.Increment(ref calls);
                return key + "-computed";
            }

            Assert.That(async ? await a.GetOrSetAsync(key, t => new ValueTask<string>(Body(t))) : a.GetOrSet(key, Body), Is.EqualTo(key + "-computed"));
            Assert.That(async ? await b.GetOrSetAsync(key, t => new ValueTask<string>(Body(t))) : b.GetOrSet(key, Body), Is.EqualTo(key + "-computed"));
        }

        Assert.That(calls, Is.EqualTo(keys.Length), "the second process hit what the first stored");
        Assert.That(KeysOnEveryPrimary("*__cached:fence*"), Is.Empty, "every fill removed its fence");
    }

    [Test]
    public async Task Fail_safe_serves_the_last_value_when_the_factory_fails_and_eager_refresh_refreshes_in_the_background([Values] bool async)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var cache = Process("safe", time: time);
        var safe = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), FailSafe = TimeSpan.FromMinutes(10) };
        var eager = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), EagerRefresh = 0.5 };
        await cache.GetOrSetAsync("safe", _ => new ValueTask<string>("v1"), safe);
        await cache.GetOrSetAsync("eager", _ => new ValueTask<string>("e1"), eager);

        time.Advance(TimeSpan.FromSeconds(6));
        var refreshed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = async
            ? await cache.GetOrSetAsync("eager", _ => { refreshed.TrySetResult(); return new ValueTask<string>("e2"); }, eager)
            : cache.GetOrSet("eager", _ => { refreshed.TrySetResult(); return "e2"; }, eager);
        Assert.That(first, Is.EqualTo("e1"), "past half its life the entry is served while it refreshes");
        await refreshed.Task.WaitAsync(s_limit);
        await Eventually(() => cache.GetOrSet("eager", _ => "not called", eager) == "e2", "the refresh was stored");

        time.Advance(TimeSpan.FromSeconds(5));
        var served = async
            ? await cache.GetOrSetAsync<string>("safe", _ => throw new InvalidOperationException("source down"), safe)
            : cache.GetOrSet<string>("safe", _ => throw new InvalidOperationException("source down"), safe);
        Assert.That(served, Is.EqualTo("v1"), "the last value, kept by Garnet past its logical expiry");
    }

    [Test]
    public async Task Generated_tagged_methods_hit_on_every_primary_and_miss_after_another_process_invalidates([Values] bool async)
    {
        var (a, b) = (Process("a"), Process("b"));
        Use(a);
        string[] Expected() => [.. s_ids.Select(_catalog.Expected)];
        Assert.That(await _catalog.ReadEach(s_ids, async), Is.EqualTo(Expected()));
        var filled = _catalog.BodyCalls;
        Assert.That(await _catalog.ReadEach(s_ids, async), Is.EqualTo(Expected()));
        Assert.That(_catalog.BodyCalls, Is.EqualTo(filled), "every read hit");
        Assert.That(KeysPerPrimary(), Is.All.GreaterThan(0));

        _catalog.Version = 2;
        await b.InvalidateTagsAsync(["item:3"]);
        var after = await _catalog.ReadEach(s_ids, async);
        Assert.That(after[2], Is.EqualTo("v2-3"));
        Assert.That(after.Where((_, i) => i != 2), Is.All.StartWith("v1-"));

        Use(b);
        _catalog.ForgetAll();
        Use(a);
        _catalog.Version = 3;
        Assert.That(await _catalog.ReadEach(s_ids, async), Is.EqualTo(Expected()), "[InvalidateTags] of the other process reaches every slot");
        Assert.That(KeysOnEveryPrimary("*__cached:fence*"), Is.Empty);
    }

    [Test]
    public async Task A_MultiCached_batch_over_every_primary_asks_the_body_only_for_the_missing([Values] bool async, [Values] bool tagged)
    {
        var (a, b) = (Process("a"), Process("b"));
        Use(a);
        var third = s_ids.Where(static id => id % 3 == 0).ToArray();
        await _catalog.ReadMany(third, async, tagged);
        _catalog.Version = 2;

        var all = await _catalog.ReadMany(s_ids, async, tagged);
        Assert.That(s_ids.Select(id => all[id]), Is.EqualTo(s_ids.Select(static id => id % 3 == 0 ? $"v1-{id}" : $"v2-{id}")));
        Assert.That(_catalog.BatchesAsked[^1], Is.EquivalentTo(s_ids.Where(static id => id % 3 != 0)));

        Use(b);
        var again = await _catalog.ReadMany([.. s_ids.Reverse()], async, tagged);
        Assert.That(_catalog.BatchesAsked, Has.Count.EqualTo(2), "the other process hits every stored entry");
        Assert.That(again, Is.EquivalentTo(all));
        if (tagged)
        {
            await a.InvalidateTagsAsync(["item:7"]);
            _catalog.Version = 3;
            var after = await _catalog.ReadMany(s_ids, async, tagged);
            Assert.That((_catalog.BatchesAsked[^1], after[7], after[8]), Is.EqualTo((new[] { 7 }, "v3-7", "v2-8")));
        }
    }

    [Test]
    public async Task Direct_tags_a_tagged_Set_is_hidden_from_every_read_after_InvalidateTags([Values] bool async)
    {
        var (a, b) = (Process("a"), Process("b"));
        var other = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), Tags = ["user:2"] };
        foreach (var id in s_ids)
        {
            _ = async ? await a.SetAsync("u" + id, id, s_tagged) : a.Set("u" + id, id, s_tagged);
        }

        a.Set("spared", 99, other);
        var keys = s_ids.Select(static id => "u" + id).ToArray();
        Assert.That(b.MultiGet<int?>(keys), Is.EqualTo(s_ids.Select(static id => (int?)id)), "tagged hits");

        if (async)
        {
            await b.InvalidateTagsAsync(["users"]);
        }
        else
        {
            b.InvalidateTags("users");
        }

        Assert.Multiple(() =>
        {
            Assert.That(a.MultiGet<int?>(keys), Is.All.Null, "MultiGet misses every entry of the tag");
            Assert.That(keys.Select(k => a.TryGet<int>(k, out _)), Is.All.False, "TryGet too");
            Assert.That(a.Get<int?>("u1"), Is.Null);
            Assert.That(a.GetOrSet("u2", _ => -2, s_tagged), Is.EqualTo(-2), "read-through recomputes");
            Assert.That(b.Get<int>("spared"), Is.EqualTo(99), "another tag's entry stays");
        });
    }

    [Test]
    public async Task Two_levels_with_the_backplane_converge_after_a_write_a_delete_and_an_invalidation([Values(null, false)] bool? sharded)
    {
        // docs/multilevel.md: on a cluster the backplane shards its channel unless Sharded says otherwise. Garnet in cluster
        // mode answers SSUBSCRIBE and delivers SPUBLISH as a plain "message" push, not "smessage", which the client
        // drops (see the limitation test below): with the default (null) no node hears another, and L1 copies stay stale.
        var space = "gcml" + Guid.NewGuid().ToString("N")[..6];
        var (a, b, c) = (Node("a", space, sharded), Node("b", space, sharded), Node("c", space, sharded));
        foreach (var node in new[] { a, b, c })
        {
            Assert.That(await node.GetOrSetAsync("k", _ => new ValueTask<string>("v1")), Is.EqualTo("v1"));
            Assert.That(await node.GetOrSetAsync("u1", _ => new ValueTask<string>("one"), s_tagged), Is.EqualTo("one"));
        }

        await Eventually(
            () =>
            {
                foreach (var node in new[] { b, c })
                {
                    node.GetOrSet("k", _ => "v1");
                }

                return b.IsInL1("k") && c.IsInL1("k");
            },
            "B and C copied k");

        await a.SetAsync("k", "v2");
        await Eventually(() => b.Get<string>("k") == "v2" && c.Get<string>("k") == "v2", "B and C drop their copies after A's write");

        await b.DeleteAsync("k");
        await Eventually(() => a.Get<string>("k") is null && c.Get<string>("k") is null, "A and C drop their copies after B's delete");

        await c.InvalidateTagsAsync(["users"]);
        await Eventually(() => a.L1.Get<string>("u1", @namespace: space) is null && b.L1.Get<string>("u1", @namespace: space) is null, "A's and B's tagged copies dropped");
        Assert.That(await a.GetOrSetAsync("u1", _ => new ValueTask<string>("refilled"), s_tagged), Is.EqualTo("refilled"));
        Assert.That(await b.GetOrSetAsync("u1", _ => new ValueTask<string>("not called"), s_tagged), Is.EqualTo("refilled"));
    }

    [Test]
    public async Task Garnet_limitation_a_sharded_message_reaches_no_StackExchange_Redis_sharded_subscriber()
    {
        // Garnet 2.2.12 in cluster mode accepts SSUBSCRIBE and counts the subscriber in SPUBLISH's answer, but pushes
        // the message as "message", not "smessage", which StackExchange.Redis routes to a plain channel of that name.
        // If this fails, Garnet has fixed it: the backplane's sharded default then works on Garnet's cluster mode too.
        using var subscriber = await ConnectionMultiplexer.ConnectAsync(_cluster.ConnectionString + ",name=outsider-gc-sub");
        using var publisher = await ConnectionMultiplexer.ConnectAsync(_cluster.ConnectionString + ",name=outsider-gc-pub");
        var heard = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await subscriber.GetSubscriber().SubscribeAsync(RedisChannel.Sharded("gc-sharded"), (_, m) => heard.Enqueue("sharded " + m));
        await subscriber.GetSubscriber().SubscribeAsync(RedisChannel.Literal("gc-plain"), (_, m) => heard.Enqueue("plain " + m));

        Assert.That(await publisher.GetSubscriber().PublishAsync(RedisChannel.Sharded("gc-sharded"), "1"), Is.EqualTo(1), "Garnet counts the sharded subscriber");
        await publisher.GetSubscriber().PublishAsync(RedisChannel.Literal("gc-plain"), "2");
        await Eventually(() => heard.Contains("plain 2"), "a plain publish is forwarded across Garnet's cluster");
        await Task.Delay(500);
        Assert.That(heard, Is.EqualTo(new[] { "plain 2" }), "the sharded message never arrived");
    }

    [Test]
    public async Task While_a_slot_is_half_moved_a_MultiGet_reads_both_halves_and_a_MultiSet_waits_for_the_move([Values] bool async)
    {
        // docs/redis.md, Redis Cluster: reads of a migrating slot ask their keys one by one; writes get TRYAGAIN and are
        // sent again until the keys have moved. Garnet answers TRYAGAIN to a multi-key command on the migrating node.
        var cache = Process("moving");
        cache.MultiSet([KeyValuePair.Create("{m}a", 1), KeyValuePair.Create("{m}b", 2)]);
        var slot = _direct.HashSlot($"{Space}:{{m}}a");
        var from = _cluster.OwnerOf(slot);
        var to = (from + 1) % 3;
        _cluster.BeginMove(slot, to);
        var finished = false;
        try
        {
            _cluster.Migrate(from, to, $"{Space}:{{m}}a");
            string[] keys = ["{m}a", "{m}b", "{m}missing"];
            Assert.That(async ? await cache.MultiGetAsync<int?>(keys) : cache.MultiGet<int?>(keys), Is.EqualTo(new int?[] { 1, 2, null }));

            KeyValuePair<string, int>[] pairs = [KeyValuePair.Create("{m}a", 10), KeyValuePair.Create("{m}b", 20)];
            var write = Task.Run(async () => async ? await cache.MultiSetAsync(pairs, TimeSpan.FromMinutes(1)) : cache.MultiSet(pairs, TimeSpan.FromMinutes(1)));
            await Task.Delay(300);
            Assert.That(write.IsCompleted, Is.False, "the write waits while the slot's keys are split");
            _cluster.FinishMove(slot, from, to);
            finished = true;
            Assert.That(await write.WaitAsync(s_limit), Is.True);
            Assert.That(cache.MultiGet<int?>(keys), Is.EqualTo(new int?[] { 10, 20, null }));
            Assert.That(_cluster.OwnerOf(slot), Is.EqualTo(to));
        }
        finally
        {
            if (!finished)
            {
                _cluster.FinishMove(slot, from, to);
            }
        }
    }

    [Test]
    public async Task A_cache_on_database_1_fails_clearly_and_leaves_database_0_alone([Values] bool async, [Values("", ",allowAdmin=true")] string admin)
    {
        // A cluster has database 0 only. A cache configured for another must not write, read or clear database 0.
        var zero = Process("db0", null);
        zero.Set("kept", 1);
        var one = new RedisCache { ConnectionString = $"{_cluster.ConnectionString},name=outsider-gc-db1{admin}", Database = 1, Namespace = null };
        _disposables.Add(one);

        Assert.Multiple(() =>
        {
            Assert.That(() => async ? one.SetAsync("k", 1).AsTask().GetAwaiter().GetResult() : one.Set("k", 1), Throws.InstanceOf<CacheException>(), "Set");
            Assert.That(() => async ? one.GetAsync<int?>("kept").AsTask().GetAwaiter().GetResult() : one.Get<int?>("kept"), Throws.InstanceOf<CacheException>(), "Get");
            Assert.That(() => async ? one.ClearAsync().AsTask().GetAwaiter().GetResult() : one.Clear(), Throws.InstanceOf<CacheException>(), "Clear");
        });
        Assert.That((zero.Get<int?>("kept"), zero.Exists("k")), Is.EqualTo(((int?)1, false)), "database 0 untouched");
    }

    [Test]
    public async Task A_fill_in_flight_when_its_namespace_is_cleared_on_every_primary_stores_nothing([Values] bool async)
    {
        var cache = Process("filling");
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fills = s_ids.Take(9).Select(id => cache.GetOrSetAsync("f" + id, async _ =>
        {
            entered.TrySetResult();
            await release.Task;
            return "before the clear";
        }).AsTask()).ToArray();
        await entered.Task.WaitAsync(s_limit);
        await Eventually(() => KeysOnEveryPrimary("*__cached:fence").Length == 9, "every fill opened its fence");

        _ = async ? await cache.ClearAsync() : cache.Clear();
        release.TrySetResult();
        Assert.That(await Task.WhenAll(fills).WaitAsync(s_limit), Is.All.EqualTo("before the clear"), "the callers get their values");
        Assert.That(s_ids.Take(9).Select(id => cache.Exists("f" + id)), Is.All.False, "a fill overtaken by a clear of its namespace stores nothing");
    }

    [Test]
    public async Task Two_levels_read_a_batch_over_every_primary_and_copy_it_with_Garnets_remaining_life([Values] bool async)
    {
        var node = Node("batch", "gcb" + Guid.NewGuid().ToString("N")[..6], sharded: false);
        var keys = s_ids.Select(static id => "b" + id).ToArray();
        node.L2.MultiSet(keys.Select(static (k, i) => KeyValuePair.Create(k, i)), TimeSpan.FromSeconds(30));
        string[] asked = [.. keys, "missing"];

        var values = async ? await node.MultiGetAsync<int?>(asked) : node.MultiGet<int?>(asked);

        Assert.That(values, Is.EqualTo(keys.Select(static (_, i) => (int?)i).Append(null)));
        Assert.That(keys.Select(k => node.IsInL1(k)), Is.All.True, "copied");
        Assert.That(node.IsInL1("missing"), Is.False);
    }

    [Test]
    public async Task With_one_primary_down_its_keys_fail_as_documented_the_others_work_and_read_through_fails_open([Values] bool async)
    {
        var cache = new RedisCache { ConnectionString = $"{_cluster.ConnectionString},name=outsider-gc-down", Namespace = Space, Timeout = TimeSpan.FromSeconds(1) };
        _disposables.Add(cache);
        var keys = s_ids.Select(static id => "d" + id).ToArray();
        cache.MultiSet(keys.Select(static k => KeyValuePair.Create(k, k)));
        var owners = keys.ToLookup(k => _cluster.OwnerOf(_direct.HashSlot($"{Space}:{k}")));
        var (gone, kept) = (owners[1].ToArray(), owners[0].ToArray());
        Assert.That(new[] { gone.Length, kept.Length }, Is.All.GreaterThan(1));
        async Task<T> Call<T>(Func<ValueTask<T>> asynchronous, Func<T> synchronous) => async ? await asynchronous() : synchronous();

        _cluster.Nodes[1].Stop();
        try
        {
            // docs/redis.md, Redis Cluster: until the cluster fails a dead primary over (Garnet without a replica never
            // does), a command on its keys waits for Timeout and fails with TimeoutException (the client's own, for a
            // command that waited in its backlog, is one), or with an unreachable CacheBackendException. Several calls
            // are tried, since which ends first varies.
            var failures = new List<string>();
            var waited = Stopwatch.StartNew();
            for (var attempt = 0; attempt < 4; attempt++)
            {
                foreach (var (name, call) in new (string, Func<Task>)[]
                {
                    ("Get", () => Call(() => cache.GetAsync<string>(gone[0]), () => cache.Get<string>(gone[0]))),
                    ("Set", () => Call(() => cache.SetAsync(gone[0], "x"), () => cache.Set(gone[0], "x"))),
                    ("MultiGet", () => Call(() => cache.MultiGetAsync<string>(keys), () => cache.MultiGet<string>(keys))),
                })
                {
                    var failure = Assert.CatchAsync<Exception>(async () => await call(), name);
                    var expected = failure is CacheBackendException { Unreachable: true } or TimeoutException;
                    failures.Add($"{name}: {(expected ? "as documented" : failure!.GetType().Name + " " + failure.Message)}");
                }
            }

            Assert.That(failures, Is.All.EndsWith(": as documented"), string.Join("\n", failures.Where(static f => !f.EndsWith("as documented", StringComparison.Ordinal))));
            Assert.That(cache.Get<string>(kept[0]), Is.EqualTo(kept[0]), "a key of a live primary");
            Assert.That(await Call(() => cache.GetOrSetAsync(gone[1], _ => new ValueTask<string>("computed")), () => cache.GetOrSet(gone[1], _ => "computed")), Is.EqualTo("computed"), "fail-open");
            Assert.That(waited.Elapsed, Is.LessThan(TimeSpan.FromSeconds(12 * 3)), "no call hung");

            // Restarted empty, without the scripts it had cached: writes and fills work again on its keys.
            _cluster.Restart(_cluster.Nodes[1]);
            await Eventually(() => Primaries()[1].IsConnected && Works(() => cache.Set(gone[2], "again")), "the cache writes to the restarted primary");
            Assert.That(cache.GetOrSet(gone[3], _ => "filled"), Is.EqualTo("filled"));
            Assert.That(cache.GetOrSet(gone[3], _ => "not called"), Is.EqualTo("filled"), "the fill's script stored it");
        }
        finally
        {
            if (!_cluster.Nodes[1].IsRunning)
            {
                _cluster.Restart(_cluster.Nodes[1]);
            }

            await Eventually(() => Primaries()[1].IsConnected, "the admin connection is back");
        }
    }

    [Test]
    public async Task RedLock_and_OptimisticLock_work_on_keys_of_every_primary()
    {
        var (a, b) = (Process("a"), Process("b"));
        foreach (var key in s_ids.Take(6).Select(static id => "lock" + id))
        {
            var first = await RedLock.AcquireAsync(a, key, TimeSpan.FromSeconds(5));
            var second = RedLock.AcquireAsync(b, key, TimeSpan.FromSeconds(5)).AsTask();
            await Task.Delay(100);
            Assert.That(second.IsCompleted, Is.False, $"{key}: the other process waits while the lock is held");
            await first.DisposeAsync();
            await using (var acquired = await second.WaitAsync(s_limit))
            {
                Assert.That(acquired.IsAcquired, Is.True);
            }

            a.Set(key, "value");
            await using var late = await OptimisticLock.AcquireAsync(a, key);
            await b.SetAsync(key, "concurrent");
            Assert.ThrowsAsync<OptimisticLockException>(async () => await late.CasAsync("mine"), key);
            Assert.That(a.Get<string>(key), Is.EqualTo("concurrent"));
        }
    }

    /// <summary>
    /// Whether <paramref name="action"/> ran without a fault of a primary coming back: unreachable, or (while the
    /// cache's own connection to it still reconnects after the admin connection has) the client's backlog timeout.
    /// </summary>
    private static bool Works(Action action)
    {
        try
        {
            action();
            return true;
        }
        catch (Exception ex) when (ex is CacheBackendException or TimeoutException)
        {
            return false;
        }
    }
}
