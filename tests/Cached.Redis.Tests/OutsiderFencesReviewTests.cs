using Cached.Runtime;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// An outsider's review of fences across processes on a real redis-server (standalone and cluster, loopback): a fill
/// in "process" A (a cache on a multiplexer and client name of its own) is held at a gate inside its body while
/// "process" B writes, deletes, clears, expires, invalidates a tag or fills the same key; then A's body returns. What
/// Redis holds, what A's caller gets and what later readers in A and B see are checked against docs/reliability.md
/// ("An invalidation is final"), docs/redis.md (Fences), docs/tags.md and docs/multilevel.md. Also: [MultiCached]
/// batches, leases, two-level nodes with a Redis backplane, fences of hash-tagged keys on a cluster, and that no fence
/// outlives MaxFillDuration.
/// </summary>
[TestFixture(false)]
[TestFixture(true)]
[NonParallelizable]
public sealed class OutsiderFencesReviewTests(bool cluster)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan MaxFill = TimeSpan.FromMilliseconds(1200);
    private const string FenceSuffix = ":__cached:fence";

    private readonly List<object> _owned = [];
    private ConnectionMultiplexer _direct = null!;
    private string _space = null!;

    private string ConnectionString => cluster ? SharedRedis.Cluster.ConnectionString : SharedRedis.Server.ConnectionString;

    [SetUp]
    public void SetUp()
    {
        _space = "ofr" + Guid.NewGuid().ToString("N")[..8];
        _direct = ConnectionMultiplexer.Connect(ConnectionString + ",name=ofr-direct-" + _space);
    }

    [TearDown]
    public async Task TearDown()
    {
        try
        {
            using var cleaner = new RedisCache { Connection = _direct, Namespace = _space };
            await cleaner.ClearAsync(_space);
        }
        finally
        {
            foreach (var owned in Enumerable.Reverse(_owned))
            {
                switch (owned)
                {
                    case IAsyncDisposable asyncDisposable:
                        await asyncDisposable.DisposeAsync();
                        break;
                    case IDisposable disposable:
                        disposable.Dispose();
                        break;
                }
            }

            _owned.Clear();
            _direct.Dispose();
        }
    }

    private ConnectionMultiplexer Connection(string name)
    {
        var connection = ConnectionMultiplexer.Connect(ConnectionString + ",name=ofr-" + name + "-" + _space);
        _owned.Add(connection);
        return connection;
    }

    /// <summary>A "process": a RedisCache on a multiplexer of its own, with its own client name.</summary>
    private RedisCache Process(string name)
    {
        var cache = new RedisCache { Connection = Connection(name), Namespace = _space, MaxFillDuration = MaxFill };
        _owned.Add(cache);
        return cache;
    }

    /// <summary>A two-level node as its own process would have it: its L1, its L2 connection, its backplane.</summary>
    private (MultiLevelCache Node, SimpleMemoryCache L1) Node(string name, Cached.Plugins.CachePlugin? plugin = null)
    {
        var l1 = new SimpleMemoryCache();
        var node = new MultiLevelCache(
            l1,
            new RedisCache { Connection = Connection(name), Namespace = _space, MaxFillDuration = MaxFill, Plugins = plugin is null ? [] : [plugin] },
            new RedisBackplane(ConnectionString + ",name=ofr-bp-" + name + "-" + _space));
        _owned.Add(node);
        return (node, l1);
    }

    private string Full(string key) => _space + ":" + key;

    private async Task<List<string>> FencesAsync()
    {
        var found = new List<string>();
        foreach (var server in _direct.GetServers().Where(static s => !s.IsReplica))
        {
            await foreach (var key in server.KeysAsync(pattern: _space + ":*"))
            {
                if (key.ToString().EndsWith(FenceSuffix, StringComparison.Ordinal))
                {
                    found.Add(key.ToString());
                }
            }
        }

        return found;
    }

    private async Task NoFenceWithinMaxFillAsync()
    {
        // Per docs/redis.md a fence lives at most MaxFillDuration after the last fill opened.
        var deadline = DateTime.UtcNow + MaxFill + TimeSpan.FromMilliseconds(800);
        List<string> left;
        while ((left = await FencesAsync()).Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.That(left, Is.Empty, "no fence outlives MaxFillDuration");
    }

    private async Task<string?> RawAsync(string key)
    {
        var value = await _direct.GetDatabase().StringGetAsync(Full(key));
        return value.IsNull ? null : value.ToString();
    }

    private static TaskCompletionSource Gate() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A sync call on a thread of its own, so that the call it makes blocking waits on no pool thread.</summary>
    private static Task<T> OnOwnThread<T>(Func<T> call)
        => Task.Factory.StartNew(call, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>A sync <c>GetOrSet</c> of "k" whose factory signals <paramref name="started"/>, then waits for <paramref name="release"/> and answers "old".</summary>
    private static Task<string> HeldSyncGetOrSet(ICache cache, ManualResetEventSlim started, ManualResetEventSlim release, CacheEntryOptions options)
        => OnOwnThread(() => cache.GetOrSet("k", _ =>
        {
            started.Set();
            release.Wait(Bound);
            return "old";
        }, options));

    private static async ValueTask<string> Gated(TaskCompletionSource started, TaskCompletionSource release, string value)
    {
        started.TrySetResult();
        await release.Task.WaitAsync(Bound);
        return value;
    }

    public enum Move
    {
        Set,
        Add,
        Delete,
        ClearNamespace,
        ExpireMissing,
        SetThenExpire,
        MultiSet,
        MultiSetWithTtl,
        OtherFill,
    }

    /// <summary>What B does while A's body is held; returns what the key holds afterwards (null: nothing).</summary>
    private async Task<string?> ActAsync(ICache b, Move how, string key)
    {
        switch (how)
        {
            case Move.Set:
                await b.SetAsync(key, "newer");
                return "newer";
            case Move.Add:
                await b.AddAsync(key, "newer");
                return "newer";
            case Move.Delete:
                await b.DeleteAsync(key);
                return null;
            case Move.ClearNamespace:
                await b.ClearAsync(_space);
                return null;
            case Move.ExpireMissing:
                // The key is missing (A is filling it): the Expire answers false, but docs/redis.md says every Expire
                // moves the key's fence first.
                await b.ExpireAsync(key, TimeSpan.FromMinutes(5));
                return null;
            case Move.SetThenExpire:
                await b.SetAsync(key, "newer");
                await b.ExpireAsync(key, TimeSpan.FromMilliseconds(1));
                var until = DateTime.UtcNow + Bound;
                while (await _direct.GetDatabase().KeyExistsAsync(Full(key)) && DateTime.UtcNow < until)
                {
                    await Task.Delay(5);
                }

                return null;
            case Move.MultiSet:
                await b.MultiSetAsync([new KeyValuePair<string, string>(key, "newer"), new KeyValuePair<string, string>("other", "x")]);
                return "newer";
            case Move.MultiSetWithTtl:
                // Keys in several hash slots on a cluster: one script per slot, each with its fence moves.
                await b.MultiSetAsync([new KeyValuePair<string, string>("x1", "x"), new KeyValuePair<string, string>(key, "newer"), new KeyValuePair<string, string>("x2", "x")], TimeSpan.FromMinutes(5));
                return "newer";
            default:
                Assert.That(await b.GetOrSetAsync(key, static _ => new ValueTask<string>("fast"), new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(10) }), Is.EqualTo("fast"));
                return "fast";
        }
    }

    [Test]
    public async Task GetOrSetAsync_overtaken_by_another_process_never_stores_the_older_value([Values] Move how)
    {
        var a = Process("a");
        var b = Process("b");
        var started = Gate();
        var release = Gate();
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(10) };

        var call = a.GetOrSetAsync("k", _ => Gated(started, release, "old"), options).AsTask();
        await started.Task.WaitAsync(Bound);
        var expected = await ActAsync(b, how, "k");
        release.SetResult();

        // reliability.md: a refused flight reads the key once more; a value there is every caller's answer, else the
        // leader returns its own result.
        Assert.That(await call.WaitAsync(Bound), Is.EqualTo(expected ?? "old"), "A's caller");
        Assert.That(await RawAsync("k") is null ? null : await b.GetAsync<string>("k"), Is.EqualTo(expected), "what Redis holds: B's change stands");
        Assert.That(await a.GetAsync<string>("k"), Is.EqualTo(expected), "a later read in A");
        Assert.That(await b.GetAsync<string>("k"), Is.EqualTo(expected), "a later read in B");
        if (expected is null)
        {
            Assert.That(await _direct.GetDatabase().KeyExistsAsync(Full("k")), Is.False, "a deleted key stays deleted");
        }

        await NoFenceWithinMaxFillAsync();
    }

    [Test]
    public async Task GetOrSetAsync_after_the_overtaken_fill_computes_anew_and_stores([Values(Move.Delete, Move.ClearNamespace, Move.ExpireMissing)] Move how)
    {
        var a = Process("a");
        var b = Process("b");
        var started = Gate();
        var release = Gate();
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(10) };

        var call = a.GetOrSetAsync("k", _ => Gated(started, release, "old"), options).AsTask();
        await started.Task.WaitAsync(Bound);
        await ActAsync(b, how, "k");
        release.SetResult();
        Assert.That(await call.WaitAsync(Bound), Is.EqualTo("old"));

        // A call that began after the invalidation computes and stores, in either process; the fence the moved fill
        // left is reused and removed by the fill that stores.
        Assert.That(await b.GetOrSetAsync("k", static _ => new ValueTask<string>("fresh"), options).AsTask().WaitAsync(Bound), Is.EqualTo("fresh"));
        Assert.That(await a.GetOrSetAsync("k", static _ => new ValueTask<string>("other"), options).AsTask().WaitAsync(Bound), Is.EqualTo("fresh"));
        Assert.That(await RawAsync("k"), Is.Not.Null);
        Assert.That(await FencesAsync(), Is.Empty, "a fill that stores removes its fence");
    }

    [Test]
    public async Task Sync_GetOrSet_overtaken_by_another_process_never_stores_the_older_value([Values(Move.Set, Move.Delete, Move.ClearNamespace, Move.OtherFill)] Move how)
    {
        var a = Process("a");
        var b = Process("b");
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(10) };

        var call = HeldSyncGetOrSet(a, started, release, options);
        Assert.That(started.Wait(Bound), Is.True);
        var expected = await ActAsync(b, how, "k");
        release.Set();

        Assert.That(await call.WaitAsync(Bound), Is.EqualTo(expected ?? "old"));
        Assert.That(b.Get<string>("k"), Is.EqualTo(expected));
        Assert.That(a.Get<string>("k"), Is.EqualTo(expected));
        await NoFenceWithinMaxFillAsync();
    }

    [Test]
    public async Task A_tag_invalidated_by_another_process_while_A_computes_makes_the_stored_entry_a_miss()
    {
        var a = Process("a");
        var b = Process("b");
        var started = Gate();
        var release = Gate();
        var tag = "t-" + _space;
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(10), Tags = [tag] };

        var call = a.GetOrSetAsync("k", _ => Gated(started, release, "old"), options).AsTask();
        await started.Task.WaitAsync(Bound);
        await b.InvalidateTagsAsync([tag]);
        release.SetResult();

        // tags.md: the value is returned to its caller, but the stored entry is out of date and the next read misses.
        Assert.That(await call.WaitAsync(Bound), Is.EqualTo("old"));
        Assert.That(await a.GetAsync<string>("k"), Is.Null, "a later read in A misses");
        Assert.That(await b.GetAsync<string>("k"), Is.Null, "a later read in B misses");
        Assert.That(await b.GetOrSetAsync("k", static _ => new ValueTask<string>("fresh"), options), Is.EqualTo("fresh"));
        Assert.That(await a.GetOrSetAsync("k", static _ => new ValueTask<string>("other"), options), Is.EqualTo("fresh"));
        await NoFenceWithinMaxFillAsync();
    }

    [Test]
    public async Task A_cached_method_on_A_overtaken_by_B_s_invalidate_leaves_the_key_deleted_for_every_process()
    {
        var a = Process("a");
        var b = Process("b");
        var methodA = new CachedMethod<string>(new CachedMethodOptions { Method = "Outsider.Fences.Get", CacheFactory = () => a, Ttl = 600 });
        var methodB = new CachedMethod<string>(new CachedMethodOptions { Method = "Outsider.Fences.Get", CacheFactory = () => b, Ttl = 600 });
        var started = Gate();
        var release = Gate();

        var call = methodA.InvokeAsync("k", 0, (_, _) => Gated(started, release, "old"), null, CancellationToken.None).AsTask();
        await started.Task.WaitAsync(Bound);
        // As [InvalidateCache] does: a Delete of the method's key, in B.
        var stored = await StoredKeysAsync();
        Assert.That(stored, Is.Empty, "nothing stored yet");
        var fences = await FencesAsync();
        Assert.That(fences, Has.Count.EqualTo(1), "A's fill opened one fence");
        var methodKey = fences[0][..^FenceSuffix.Length];
        if (cluster && methodKey.EndsWith('}'))
        {
            methodKey = methodKey[..methodKey.LastIndexOf('{')];
        }

        Assert.That(await b.DeleteAsync(methodKey[(_space.Length + 1)..]), Is.Zero);
        release.SetResult();

        Assert.That(await call.WaitAsync(Bound), Is.EqualTo("old"));
        Assert.That(await StoredKeysAsync(), Is.Empty, "the deleted key stays deleted");
        Assert.That(await methodB.InvokeAsync("k", 0, static (_, _) => new ValueTask<string>("fresh"), null, CancellationToken.None).AsTask().WaitAsync(Bound), Is.EqualTo("fresh"));
        Assert.That(await methodA.InvokeAsync("k", 0, static (_, _) => new ValueTask<string>("other"), null, CancellationToken.None).AsTask().WaitAsync(Bound), Is.EqualTo("fresh"));
        Assert.That(await FencesAsync(), Is.Empty);
    }

    private async Task<List<string>> StoredKeysAsync()
    {
        var found = new List<string>();
        foreach (var server in _direct.GetServers().Where(static s => !s.IsReplica))
        {
            await foreach (var key in server.KeysAsync(pattern: _space + ":*"))
            {
                var text = key.ToString();
                if (!text.EndsWith(FenceSuffix, StringComparison.Ordinal) && !text.Contains("__cached:", StringComparison.Ordinal))
                {
                    found.Add(text);
                }
            }
        }

        return found;
    }

    // ---- [MultiCached] batches ----

    private MultiCachedMethod<string, string> Batch(ICache cache)
        => new(new CachedMethodOptions { Method = "Outsider.Fences.Batch", CacheFactory = () => cache, Ttl = 600 });

    [Test]
    public async Task A_batch_overtaken_by_another_process_stores_only_untouched_keys([Values] bool async)
    {
        var a = Process("a");
        var b = Process("b");
        // Keys spread over hash slots on a cluster, and two under one hash tag.
        string[] keys = ["a", "b", "c", "d", "{u}x", "{u}y"];
        var started = Gate();
        var release = Gate();
        var batchA = Batch(a);

        Task<Dictionary<string, string>> call = async
            ? batchA.InvokeAsync<object>(keys, 0, static (_, k) => k, async (_, missing, _) =>
            {
                await Gated(started, release, "");
                return missing.ToDictionary(static k => k, static k => "old-" + k);
            }, null, CancellationToken.None).AsTask()
            : OnOwnThread(
                () => batchA.Invoke<object>(keys, 0, static (_, k) => k, (_, missing) =>
                {
                    Gated(started, release, "").AsTask().GetAwaiter().GetResult();
                    return missing.ToDictionary(static k => k, static k => "old-" + k);
                }));
        await started.Task.WaitAsync(Bound);
        Assert.That(await FencesAsync(), Has.Count.EqualTo(keys.Length), "one fence per asked key while the body runs");
        await b.DeleteAsync("a");
        await b.SetAsync("b", "newer");
        await b.SetAsync("{u}x", "newer");
        release.SetResult();

        var answer = await call.WaitAsync(Bound);
        Assert.That(answer.Keys, Is.EquivalentTo(keys));
        Assert.Multiple(async () =>
        {
            Assert.That(await RawAsync("a"), Is.Null, "a deleted key stays deleted");
            Assert.That(await b.GetAsync<string>("b"), Is.EqualTo("newer"), "B's newer value stands");
            Assert.That(await b.GetAsync<string>("{u}x"), Is.EqualTo("newer"), "B's newer value stands (hash tag)");
            Assert.That(await b.GetAsync<string>("c"), Is.EqualTo("old-c"));
            Assert.That(await b.GetAsync<string>("d"), Is.EqualTo("old-d"));
            Assert.That(await b.GetAsync<string>("{u}y"), Is.EqualTo("old-{u}y"));
        });

        // A later batch in either process: only the deleted key is computed again.
        var seen = new List<string>();
        var again = await Batch(b).InvokeAsync<object>(keys, 0, static (_, k) => k, (_, missing, _) =>
        {
            seen.AddRange(missing);
            return new ValueTask<IEnumerable<KeyValuePair<string, string>>?>(missing.ToDictionary(static k => k, static k => "fresh-" + k));
        }, null, CancellationToken.None).AsTask().WaitAsync(Bound);
        Assert.That(seen, Is.EquivalentTo(new[] { "a" }));
        Assert.That(again["a"], Is.EqualTo("fresh-a"));
        Assert.That(again["b"], Is.EqualTo("newer"));
        await NoFenceWithinMaxFillAsync();
    }

    [Test]
    public async Task A_batch_whose_keys_another_process_filled_meanwhile_keeps_the_other_process_s_values()
    {
        var a = Process("a");
        var b = Process("b");
        string[] keys = ["p", "q", "r"];
        var started = Gate();
        var release = Gate();

        var call = Batch(a).InvokeAsync<object>(keys, 0, static (_, k) => k, async (_, missing, _) =>
        {
            await Gated(started, release, "");
            return missing.ToDictionary(static k => k, static k => "slow-" + k);
        }, null, CancellationToken.None).AsTask();
        await started.Task.WaitAsync(Bound);
        var fast = await Batch(b).InvokeAsync<object>(["p", "q"], 0, static (_, k) => k, static (_, missing, _) =>
            new ValueTask<IEnumerable<KeyValuePair<string, string>>?>(missing.ToDictionary(static k => k, static k => "fast-" + k)), null, CancellationToken.None).AsTask().WaitAsync(Bound);
        Assert.That(fast["p"], Is.EqualTo("fast-p"));
        release.SetResult();
        await call.WaitAsync(Bound);

        Assert.That(await b.GetAsync<string>("p"), Is.EqualTo("fast-p"), "the fill that stored first stands");
        Assert.That(await b.GetAsync<string>("q"), Is.EqualTo("fast-q"));
        Assert.That(await b.GetAsync<string>("r"), Is.EqualTo("slow-r"));
        await NoFenceWithinMaxFillAsync();
    }

    // ---- Leases ----

    [Test]
    public async Task With_a_lease_B_waits_for_A_and_a_delete_by_C_during_A_s_body_makes_B_compute_anew()
    {
        var a = Process("a");
        var b = Process("b");
        var c = Process("c");
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(10), Lease = TimeSpan.FromSeconds(3) };
        var started = Gate();
        var release = Gate();
        var bCalls = 0;

        var callA = a.GetOrSetAsync("k", _ => Gated(started, release, "old"), options).AsTask();
        await started.Task.WaitAsync(Bound);
        Assert.That(await _direct.GetDatabase().KeyExistsAsync(Full("k") + "-lock"), Is.True, "A holds the lease");
        var callB = b.GetOrSetAsync("k", _ =>
        {
            Interlocked.Increment(ref bCalls);
            return new ValueTask<string>("fresh");
        }, options).AsTask();
        await Task.Delay(100);
        Assert.That(callB.IsCompleted, Is.False, "B waits for A's lease");
        await c.DeleteAsync("k");
        release.SetResult();

        Assert.That(await callA.WaitAsync(Bound), Is.EqualTo("old"));
        Assert.That(await callB.WaitAsync(Bound), Is.EqualTo("fresh"), "B, which got the lease after the delete, computes anew");
        Assert.That(bCalls, Is.EqualTo(1));
        Assert.That(await c.GetAsync<string>("k"), Is.EqualTo("fresh"));
        Assert.That(await _direct.GetDatabase().KeyExistsAsync(Full("k") + "-lock"), Is.False, "no lock left");
        await NoFenceWithinMaxFillAsync();
    }

    [Test]
    public async Task With_a_lease_a_set_by_C_during_A_s_body_is_what_A_and_the_waiting_B_get()
    {
        var a = Process("a");
        var b = Process("b");
        var c = Process("c");
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(10), Lease = TimeSpan.FromSeconds(3) };
        var started = Gate();
        var release = Gate();
        var bCalls = 0;

        var callA = a.GetOrSetAsync("k", _ => Gated(started, release, "old"), options).AsTask();
        await started.Task.WaitAsync(Bound);
        var callB = b.GetOrSetAsync("k", _ =>
        {
            Interlocked.Increment(ref bCalls);
            return new ValueTask<string>("fresh");
        }, options).AsTask();
        await Task.Delay(50);
        await c.SetAsync("k", "newer");
        release.SetResult();

        Assert.That(await callA.WaitAsync(Bound), Is.EqualTo("newer"));
        Assert.That(await callB.WaitAsync(Bound), Is.EqualTo("newer"));
        Assert.That(bCalls, Is.Zero);
        Assert.That(await c.GetAsync<string>("k"), Is.EqualTo("newer"));
        await NoFenceWithinMaxFillAsync();
    }

    [Test]
    public async Task A_cached_method_with_a_lease_overtaken_by_a_set_in_C_answers_A_and_the_waiting_B_with_C_s_value([Values] bool async)
    {
        // [Cached(Lease = 3)] as generated code calls it.
        var a = Process("a");
        var b = Process("b");
        var c = Process("c");
        CachedMethod<string> MethodOn(ICache cache) => new(new CachedMethodOptions { Method = "Outsider.Fences.Leased", CacheFactory = () => cache, Ttl = 600, Lease = 3 });
        var methodA = MethodOn(a);
        var methodB = MethodOn(b);
        var started = Gate();
        var release = Gate();
        var bCalls = 0;

        Task<string> callA = async
            ? methodA.InvokeAsync("k", 0, (_, _) => Gated(started, release, "old"), null, CancellationToken.None).AsTask()
            : OnOwnThread(() => methodA.Invoke("k", 0, _ => Gated(started, release, "old").AsTask().GetAwaiter().GetResult()));
        await started.Task.WaitAsync(Bound);
        var fences = await FencesAsync();
        Assert.That(fences, Has.Count.EqualTo(1));
        var locks = await LockKeysAsync();
        Assert.That(locks, Has.Count.EqualTo(1), "A holds the lease");
        var methodKey = locks[0][(_space.Length + 1)..^"-lock".Length];
        var callB = methodB.InvokeAsync("k", 0, (_, _) =>
        {
            Interlocked.Increment(ref bCalls);
            return new ValueTask<string>("fresh");
        }, null, CancellationToken.None).AsTask();
        await Task.Delay(50);
        Assert.That(callB.IsCompleted, Is.False, "B waits for A's lease");
        await c.SetAsync(methodKey, "newer");
        release.SetResult();

        Assert.That(await callA.WaitAsync(Bound), Is.EqualTo("newer"), "A's refused flight answers with the value that stands");
        Assert.That(await callB.WaitAsync(Bound), Is.EqualTo("newer"));
        Assert.That(bCalls, Is.Zero);
        Assert.That(await c.GetAsync<string>(methodKey), Is.EqualTo("newer"));
        Assert.That(await LockKeysAsync(), Is.Empty, "no lock left");
        await NoFenceWithinMaxFillAsync();
    }

    private async Task<List<string>> LockKeysAsync()
    {
        var found = new List<string>();
        foreach (var server in _direct.GetServers().Where(static s => !s.IsReplica))
        {
            await foreach (var key in server.KeysAsync(pattern: _space + ":*-lock"))
            {
                found.Add(key.ToString());
            }
        }

        return found;
    }

    [Test]
    public async Task A_sync_two_level_fill_overtaken_by_another_node_keeps_no_old_copy([Values(Move.Set, Move.Delete)] Move how)
    {
        var (nodeA, l1A) = Node("a");
        var (nodeB, _) = Node("b");
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(10) };

        var call = HeldSyncGetOrSet(nodeA, started, release, options);
        Assert.That(started.Wait(Bound), Is.True);
        var expected = await ActAsync(nodeB, how, "k");
        release.Set();

        Assert.That(await call.WaitAsync(Bound), Is.EqualTo(expected ?? "old"));
        Assert.That(l1A.Get<string>("k", @namespace: _space), Is.Not.EqualTo("old"), "A's L1 holds no old copy");
        Assert.That(nodeA.Get<string>("k"), Is.EqualTo(expected));
        Assert.That(nodeB.Get<string>("k"), Is.EqualTo(expected));
        Assert.That(await RawAsync("k") is null ? null : nodeB.L2.Get<string>("k"), Is.EqualTo(expected));
    }

    // ---- Two levels ----

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail("timed out waiting until " + what);
            }

            await Task.Delay(10);
        }
    }

    [Test]
    public async Task A_two_level_node_whose_fill_another_node_invalidated_keeps_no_old_copy_in_L1([Values(Move.Set, Move.Delete, Move.ClearNamespace)] Move how)
    {
        var (nodeA, l1A) = Node("a");
        var (nodeB, _) = Node("b");
        var started = Gate();
        var release = Gate();
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(10) };

        // Warm both backplanes: a message B sends must reach A.
        await nodeA.SetAsync("warm", "1");
        await WaitUntilAsync(async () => await nodeB.GetAsync<string>("warm") == "1", "warm");
        await nodeB.SetAsync("warm", "2");
        await WaitUntilAsync(async () => await nodeA.GetAsync<string>("warm") == "2", "A hears B");
        Assert.That(await l1A.GetAsync<string>("warm", @namespace: _space), Is.EqualTo("2"), "the test reads A's L1 where its copies are");

        var call = nodeA.GetOrSetAsync("k", _ => Gated(started, release, "old"), options).AsTask();
        await started.Task.WaitAsync(Bound);
        var expected = await ActAsync(nodeB, how, "k");
        // The backplane message from B may land before or after A's store: hold A until it has surely been delivered.
        await Task.Delay(100);
        release.SetResult();

        Assert.That(await call.WaitAsync(Bound), Is.EqualTo(expected ?? "old"));
        Assert.That(await RawAsync("k") is null ? null : await nodeB.GetAsync<string>("k"), Is.EqualTo(expected), "L2 keeps B's change");
        Assert.That(await l1A.GetAsync<string>("k", @namespace: _space), Is.Not.EqualTo("old"), "A's L1 holds no old copy");
        Assert.That(await nodeA.GetAsync<string>("k"), Is.EqualTo(expected), "a later read in A");
        Assert.That(await nodeB.GetAsync<string>("k"), Is.EqualTo(expected), "a later read in B");
        await NoFenceWithinMaxFillAsync();
    }

    [Test]
    public async Task A_two_level_fill_refused_by_another_process_s_plain_L2_write_keeps_no_old_copy_in_L1()
    {
        var (nodeA, l1A) = Node("a");
        var (nodeB, _) = Node("b");
        var started = Gate();
        var release = Gate();
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(10) };

        await nodeA.SetAsync("warm", "1");
        await WaitUntilAsync(async () => await nodeB.GetAsync<string>("warm") == "1", "warm");
        await nodeB.SetAsync("warm", "2");
        await WaitUntilAsync(async () => await nodeA.GetAsync<string>("warm") == "2", "A hears B");

        // B writes through its plain L2: no backplane message, so only L2's fence can refuse A's copy.
        var call = nodeA.GetOrSetAsync("k", _ => Gated(started, release, "old"), options).AsTask();
        await started.Task.WaitAsync(Bound);
        await nodeB.L2.SetAsync("k", "newer");
        release.SetResult();
        Assert.That(await call.WaitAsync(Bound), Is.EqualTo("newer"), "A's fill was refused in L2; its flight answers with what L2 holds");
        var inL1 = await l1A.GetAsync<string>("k", @namespace: _space);
        Assert.That(inL1, Is.Null.Or.EqualTo("newer"), "A's L1 never keeps the refused value");
        Assert.That(await nodeA.GetAsync<string>("k"), Is.EqualTo("newer"));
    }

    [Test]
    public async Task Two_level_nodes_a_tag_invalidated_on_node_B_while_A_computes_leaves_no_servable_copy()
    {
        var (nodeA, _) = Node("a");
        var (nodeB, _) = Node("b");
        var started = Gate();
        var release = Gate();
        var tag = "t-" + _space;
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(10), Tags = [tag] };

        await nodeA.SetAsync("warm", "1");
        await WaitUntilAsync(async () => await nodeB.GetAsync<string>("warm") == "1", "warm");

        var call = nodeA.GetOrSetAsync("k", _ => Gated(started, release, "old"), options).AsTask();
        await started.Task.WaitAsync(Bound);
        await nodeB.InvalidateTagsAsync([tag]);
        await Task.Delay(100);
        release.SetResult();

        // tags.md: returned to its caller, never served afterwards, on either node.
        Assert.That(await call.WaitAsync(Bound), Is.EqualTo("old"));
        Assert.That(await nodeA.GetAsync<string>("k"), Is.Null, "node A");
        Assert.That(await nodeB.GetAsync<string>("k"), Is.Null, "node B");
        Assert.That(await nodeA.GetOrSetAsync("k", static _ => new ValueTask<string>("fresh"), options), Is.EqualTo("fresh"));
    }

    [Test]
    public async Task Two_level_batch_refused_in_part_by_another_node_copies_none_of_the_batch_into_L1()
    {
        var (nodeA, _) = Node("a");
        var (nodeB, _) = Node("b");
        string[] keys = ["a", "b", "c"];
        var started = Gate();
        var release = Gate();

        var call = Batch(nodeA).InvokeAsync<object>(keys, 0, static (_, k) => k, async (_, missing, _) =>
        {
            await Gated(started, release, "");
            return missing.ToDictionary(static k => k, static k => "old-" + k);
        }, null, CancellationToken.None).AsTask();
        await started.Task.WaitAsync(Bound);
        await nodeB.DeleteAsync("a");
        await Task.Delay(100);
        release.SetResult();
        await call.WaitAsync(Bound);

        // multilevel.md: a batch fill L2 refused in part copies none of the batch and drops its keys.
        Assert.That(keys.Select(k => nodeA.IsInL1(k)), Is.All.False, "no copy of the batch in A's L1");
        Assert.That(await RawAsync("a"), Is.Null, "a deleted key stays deleted");
        Assert.That(await nodeA.GetAsync<string>("a"), Is.Null);
        Assert.That(await nodeB.GetAsync<string>("b"), Is.EqualTo("old-b"));
        Assert.That(await nodeA.GetAsync<string>("c"), Is.EqualTo("old-c"));
        await NoFenceWithinMaxFillAsync();
    }

    [Test]
    public async Task An_increment_in_B_during_A_s_fill_of_a_counter_stands()
    {
        var a = Process("a");
        var b = Process("b");
        var started = Gate();
        var release = Gate();

        var call = a.GetOrSetAsync("n", async _ =>
        {
            started.TrySetResult();
            await release.Task.WaitAsync(Bound);
            return 100L;
        }, new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(10) }).AsTask();
        await started.Task.WaitAsync(Bound);
        Assert.That(await b.IncrementAsync("n", 5), Is.EqualTo(5));
        release.SetResult();

        Assert.That(await call.WaitAsync(Bound), Is.EqualTo(5L), "the refused flight answers with the value that stands");
        Assert.That(await b.GetAsync<long>("n"), Is.EqualTo(5L));
        Assert.That(await a.GetAsync<long>("n"), Is.EqualTo(5L));
    }

    [Test]
    public async Task A_clear_of_a_namespace_with_glob_characters_and_colons_in_B_refuses_A_s_fill([Values("of*[x]", "of:y", "of\\z?")] string suffix)
    {
        var space = _space + suffix;
        var a = new RedisCache { Connection = Connection("a"), Namespace = space, MaxFillDuration = MaxFill };
        var b = new RedisCache { Connection = Connection("b"), Namespace = space, MaxFillDuration = MaxFill };
        _owned.Add(a);
        _owned.Add(b);
        var started = Gate();
        var release = Gate();

        try
        {
            var call = a.GetOrSetAsync("k", _ => Gated(started, release, "old"), new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(10) }).AsTask();
            await started.Task.WaitAsync(Bound);
            await b.ClearAsync();
            release.SetResult();

            Assert.That(await call.WaitAsync(Bound), Is.EqualTo("old"));
            Assert.That(await b.GetAsync<string>("k"), Is.Null, "a cleared key stays cleared");
            Assert.That(await a.GetAsync<string>("k"), Is.Null);
        }
        finally
        {
            await b.ClearAsync();
        }
    }

    [Test]
    public async Task An_eager_refresh_in_A_overtaken_by_B_does_not_restore_or_overwrite_the_key([Values(Move.Set, Move.Delete)] Move how)
    {
        var a = Process("a");
        var b = Process("b");
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(4), EagerRefresh = 0.1 };
        Assert.That(await a.GetOrSetAsync("k", static _ => new ValueTask<string>("v1"), options), Is.EqualTo("v1"));
        await Task.Delay(500);

        var started = Gate();
        var release = Gate();
        var returned = Gate();
        var refreshes = 0;
        var hit = await a.GetOrSetAsync("k", async _ =>
        {
            Interlocked.Increment(ref refreshes);
            var value = await Gated(started, release, "refreshed");
            returned.TrySetResult();
            return value;
        }, options).AsTask().WaitAsync(Bound);
        Assert.That(hit, Is.EqualTo("v1"), "a hit past the refresh point answers at once");
        await started.Task.WaitAsync(Bound);
        var expected = await ActAsync(b, how, "k");
        release.SetResult();
        await returned.Task.WaitAsync(Bound);
        await Task.Delay(300);

        Assert.That(refreshes, Is.EqualTo(1));
        Assert.That(await RawAsync("k") is null ? null : await b.GetAsync<string>("k"), Is.EqualTo(expected), "B's change stands over the refresh that began before it");
        Assert.That(await a.GetAsync<string>("k"), Is.EqualTo(expected));
    }

    [Test]
    public async Task A_call_that_skips_the_read_keeps_its_own_result_but_does_not_overwrite_B_s_set()
    {
        var a = Process("a");
        var b = Process("b");
        var started = Gate();
        var release = Gate();
        string result;
        using (CacheScope.SkipRead())
        {
            // The scope stays open for the whole call, as `using (CacheScope.SkipRead()) { await ... }` has it.
            var call = a.GetOrSetAsync("k", _ => Gated(started, release, "old"), new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(10) }).AsTask();
            await started.Task.WaitAsync(Bound);
            await b.SetAsync("k", "newer");
            release.SetResult();
            result = await call.WaitAsync(Bound);
        }

        Assert.That(result, Is.EqualTo("old"), "reliability.md: a call that skips the read keeps its own result");
        Assert.That(await b.GetAsync<string>("k"), Is.EqualTo("newer"), "a newer Set wins over an older computation");
        await NoFenceWithinMaxFillAsync();
    }

    [Test]
    public async Task A_call_whose_SkipWrite_scope_ends_before_its_body_stores_whatever_other_scope_is_open([Values] bool anotherScopeOpenElsewhere)
    {
        // decorators.md: "Scopes flow into async calls started inside them, for as long as the scope is open: a call
        // still running when its scope is disposed reads and writes as usual from then on". Whether an unrelated scope is
        // open on another flow must not change what this call does (it did: the call stored only when none was open).
        var a = Process("a");
        var started = Gate();
        var release = Gate();
        var other = anotherScopeOpenElsewhere ? await Task.Run(CacheScope.Bypass) : null;
        try
        {
            Task<string> call;
            using (CacheScope.SkipWrite())
            {
                call = a.GetOrSetAsync("k", _ => Gated(started, release, "computed"), new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(10) }).AsTask();
            }

            await started.Task.WaitAsync(Bound);
            release.SetResult();
            Assert.That(await call.WaitAsync(Bound), Is.EqualTo("computed"));
            Assert.That(await RawAsync("k"), Is.Not.Null, "the scope had ended when the call stored");
        }
        finally
        {
            if (other is not null)
            {
                await Task.Run(other.Dispose);
            }
        }
    }

    [Test]
    public async Task A_fill_in_a_namespace_given_per_call_is_refused_by_B_s_delete_or_clear_of_that_namespace([Values] bool clear)
    {
        var a = Process("a");
        var b = Process("b");
        var other = _space + "-per-call";
        var started = Gate();
        var release = Gate();

        try
        {
            var call = a.GetOrSetAsync("k", _ => Gated(started, release, "old"), new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(10) }, @namespace: other).AsTask();
            await started.Task.WaitAsync(Bound);
            if (clear)
            {
                await b.ClearAsync(other);
            }
            else
            {
                await b.DeleteAsync("k", other);
            }

            release.SetResult();
            Assert.That(await call.WaitAsync(Bound), Is.EqualTo("old"));
            Assert.That(await b.GetAsync<string>("k", @namespace: other), Is.Null, "the invalidation stands");
            Assert.That(await a.GetAsync<string>("k", @namespace: other), Is.Null);
        }
        finally
        {
            await b.ClearAsync(other);
        }
    }

    /// <summary>Holds the next answered read of a key (armed once) after L2 answered, before the caller goes on.</summary>
    private sealed class HoldAfterRead : Cached.Plugins.CachePlugin
    {
        private int _armed;

        public ManualResetEventSlim Entered { get; } = new();

        public ManualResetEventSlim Release { get; } = new();

        public void Arm() => Volatile.Write(ref _armed, 1);

        public override void Post(Cached.Plugins.CacheCommandContext context)
        {
            if (context.Key == "k" && Interlocked.Exchange(ref _armed, 0) == 1)
            {
                Entered.Set();
                Release.Wait(Bound);
            }

            base.Post(context);
        }
    }

    [Test]
    public async Task A_plain_read_on_node_A_overtaken_by_node_B_s_set_puts_no_old_copy_into_A_s_L1([Values] bool async)
    {
        var hold = new HoldAfterRead();
        var (nodeA, l1A) = Node("a", hold);
        var (nodeB, _) = Node("b");
        await nodeB.SetAsync("k", "v1");
        await nodeB.SetAsync("warm", "1");
        await WaitUntilAsync(async () => await nodeA.GetAsync<string>("warm") == "1", "warm");
        Assert.That(nodeA.IsInL1("k"), Is.False);

        hold.Arm();
        var read = async
            ? nodeA.GetAsync<string>("k").AsTask()
            : OnOwnThread(() => nodeA.Get<string>("k"));
        Assert.That(hold.Entered.Wait(Bound), Is.True, "A's L2 read answered and is held");
        await nodeB.SetAsync("k", "v2");
        await Task.Delay(150); // B's backplane message reaches A while A's read is held
        hold.Release.Set();

        Assert.That(await read.WaitAsync(Bound), Is.EqualTo("v1"), "the read began before B's set");
        Assert.That(await l1A.GetAsync<string>("k", @namespace: _space), Is.Null.Or.EqualTo("v2"), "multilevel.md: a read that began before a change cannot put the old value into L1 after the message arrived");
        Assert.That(await nodeA.GetAsync<string>("k"), Is.EqualTo("v2"));
    }

    [Test]
    public async Task A_fill_in_A_whose_body_throws_leaves_B_s_concurrent_fill_to_store([Values] bool async)
    {
        // Nothing invalidates k: A's body throws, B's returns. Both fills share k's fence (the open script hands an
        // existing fence's token to the next fill). A fill that never stores used to release the fence outright, so
        // B's fill was refused and the next caller computed again; the fence now counts its open fills, and A's
        // release leaves it to B (redis.md). The outsider expected this from the start.
        var a = Process("a");
        var b = Process("b");
        var startedA = Gate();
        var releaseA = Gate();
        var startedB = Gate();
        var releaseB = Gate();
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(10) };

        var callA = a.GetOrSetAsync<string>("k", async _ =>
        {
            startedA.TrySetResult();
            await releaseA.Task.WaitAsync(Bound);
            throw new InvalidOperationException("A's source failed");
        }, options).AsTask();
        await startedA.Task.WaitAsync(Bound);
        Task<string> callB = async
            ? b.GetOrSetAsync("k", _ => Gated(startedB, releaseB, "from-b"), options).AsTask()
            : OnOwnThread(() => b.GetOrSet("k", _ => Gated(startedB, releaseB, "from-b").AsTask().GetAwaiter().GetResult(), options));
        await startedB.Task.WaitAsync(Bound);
        releaseA.SetResult();
        Assert.That(async () => await callA.WaitAsync(Bound), Throws.InvalidOperationException);
        await Task.Delay(100); // A's fire-and-forget release has landed
        releaseB.SetResult();

        Assert.That(await callB.WaitAsync(Bound), Is.EqualTo("from-b"), "B's caller gets B's value");
        Assert.That(await a.GetAsync<string>("k"), Is.EqualTo("from-b"), "B's fill stored through the fence A left to it");
        Assert.That(await b.GetOrSetAsync("k", _ => new ValueTask<string>("again"), options), Is.EqualTo("from-b"), "the next caller hits");
        Assert.That(await FencesAsync(), Is.Empty, "B's store took the fence away");
        Assert.That(_direct.GetServers().Where(static s => !s.IsReplica).SelectMany(s => s.Keys(pattern: _space + ":*:holders")), Is.Empty, "with its count of open fills");
    }

    // ---- Keys whose braces form no hash tag ----

    [Test]
    public async Task A_key_with_empty_braces_has_no_fence_on_a_cluster_only()
    {
        // redis.md: "A key with braces that make no hash tag (an unbalanced one, a{b, or an empty pair, x{}y) has no
        // fence on a cluster". Redis hashes all of "x{}y" (an empty tag is no tag), so no fence name can share its slot.
        // The outsider found the empty pair missing from the docs' list; on a standalone server the key is fenced.
        var a = Process("a");
        var b = Process("b");
        var started = Gate();
        var release = Gate();
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(10) };

        var call = a.GetOrSetAsync("x{}y", _ => Gated(started, release, "old"), options).AsTask();
        await started.Task.WaitAsync(Bound);
        await b.DeleteAsync("x{}y");
        release.SetResult();

        Assert.That(await call.WaitAsync(Bound), Is.EqualTo("old"));
        if (cluster)
        {
            Assert.That(await RawAsync("x{}y"), Is.Not.Null, "on a cluster the fill stores unfenced, as documented");
        }
        else
        {
            Assert.That(await RawAsync("x{}y"), Is.Null, "a deleted key stays deleted");
        }
    }

    // ---- Cluster: fences beside their keys ----

    [Test]
    public async Task Every_fence_shares_its_key_s_hash_slot_and_a_hash_tagged_key_keeps_its_tag()
    {
        var a = Process("a");
        string[] keys = ["plain", "{user:42}:profile", "{user:42}:orders", "other"];
        var started = Gate();
        var release = Gate();

        var call = Batch(a).InvokeAsync<object>(keys, 0, static (_, k) => k, async (_, missing, _) =>
        {
            await Gated(started, release, "");
            return missing.ToDictionary(static k => k, static k => "v-" + k);
        }, null, CancellationToken.None).AsTask();
        await started.Task.WaitAsync(Bound);
        var fences = await FencesAsync();
        release.SetResult();
        await call.WaitAsync(Bound);

        Assert.That(fences, Has.Count.EqualTo(keys.Length));
        foreach (var key in keys)
        {
            var full = Full(key);
            var fence = fences.SingleOrDefault(f => f.StartsWith(full, StringComparison.Ordinal) && (f == full + FenceSuffix || f.StartsWith(full + "{", StringComparison.Ordinal)));
            Assert.That(fence, Is.Not.Null, "the fence of " + full + " starts with the key: " + string.Join(", ", fences));
            Assert.That(_direct.HashSlot(fence!), Is.EqualTo(_direct.HashSlot(full)), "the fence of " + full + " is in its slot");
            if (key.StartsWith('{'))
            {
                Assert.That(fence, Is.EqualTo(full + FenceSuffix), "a hash-tagged key keeps its tag");
            }
        }

        foreach (var key in keys)
        {
            Assert.That(await a.GetAsync<string>(key), Is.EqualTo("v-" + key));
        }

        Assert.That(await FencesAsync(), Is.Empty, "stored fills leave no fence");
    }
}
