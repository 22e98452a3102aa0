using System.Diagnostics;
using Cached.Redis.Tests.Infrastructure;
using Cached.Runtime;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// <see cref="RedisCache"/> on Microsoft Garnet (issue 18, "Other servers that speak Redis"): the commands sync and
/// async, the Lua scripts behind locks, fences and tags, leases, and two levels joined by the pub/sub backplane. Each
/// test backs a row of the Garnet table in docs/redis.md; where Garnet answers otherwise than Redis, the test pins what
/// the library then does. Ignored when the garnet-server tool is not installed (see <see cref="GarnetServer"/>).
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class GarnetCompatibilityTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);
    private static readonly CacheEntryOptions s_userOne = new() { Ttl = TimeSpan.FromMinutes(1), Tags = ["user:1", "users"] };
    private readonly List<IAsyncDisposable> _disposables = [];
    private GarnetServer _garnet = null!;
    private ConnectionMultiplexer _admin = null!;
    private GarnetWithAdmin? _fixture;

    private IDatabase Stored => _admin.GetDatabase();

    private IServer Server => _admin.GetServer(_admin.GetEndPoints()[0]);

    [OneTimeSetUp]
    public void StartGarnet()
    {
        _fixture = GarnetWithAdmin.Start("cached-garnet-admin");
        (_garnet, _admin) = (_fixture.Garnet, _fixture.Admin);
        TestContext.Progress.WriteLine(_fixture.Info.Split('\n').First(static l => l.StartsWith("garnet_version", StringComparison.Ordinal)).Trim());
    }

    [OneTimeTearDown]
    public void StopGarnet() => _fixture?.Dispose();

    [SetUp]
    public void Flush() => Server.FlushAllDatabases();

    [TearDown]
    public async Task DisposeAndFlush()
    {
        foreach (var disposable in Enumerable.Reverse(_disposables))
        {
            await disposable.DisposeAsync();
        }

        _disposables.Clear();
        Server.FlushAllDatabases();
    }

    private T Track<T>(T disposable)
        where T : IAsyncDisposable
    {
        _disposables.Add(disposable);
        return disposable;
    }

    /// <summary>A cache on a connection of its own: caches with different names behave as different processes.</summary>
    private RedisCache Cache(string name = "a", string? @namespace = "main", string settings = "", TimeSpan? ttl = null)
        => Track(new RedisCache { ConnectionString = $"{_garnet.ConnectionString},name=garnet-{name}{settings}", Namespace = @namespace, Ttl = ttl });

    private MultiLevelCache Node(string name, string @namespace, TimeProvider? clock = null)
        => Track(new MultiLevelCache(
            new SimpleMemoryCache { TimeProvider = clock ?? TimeProvider.System },
            new RedisCache { ConnectionString = $"{_garnet.ConnectionString},name=garnet-{name}", Namespace = @namespace },
            new RedisBackplane($"{_garnet.ConnectionString},name=garnet-backplane-{name}")));

    private TimeSpan? TtlOf(string key) => Stored.KeyTimeToLive(key);

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.That(waited.Elapsed, Is.LessThan(s_limit), what);
            await Task.Delay(5);
        }
    }

    [Test]
    public void Set_Get_Add_Exists_and_Delete_work_and_store_aiocache_s_format()
    {
        var cache = Cache();
        Assert.That(cache.Set("key", "value"), Is.True);
        Assert.That(cache.Add("added", 1, ttl: TimeSpan.FromMinutes(1)), Is.True);
        var refused = Assert.Throws<KeyExistsException>(() => cache.Add("key", "other"));

        Assert.That(refused!.Key, Is.EqualTo("key"));
        Assert.That(cache.Get<string>("key"), Is.EqualTo("value"), "Add kept the value");
        Assert.That((string?)Stored.StringGet("main:key"), Is.EqualTo("\"value\""));
        Assert.That(TtlOf("main:added"), Is.InRange(TimeSpan.FromSeconds(50), TimeSpan.FromMinutes(1)), "SET NX PX");
        Assert.That(cache.Get("missing", "default"), Is.EqualTo("default"));
        Assert.That((cache.Exists("key"), cache.Exists("missing")), Is.EqualTo((true, false)));
        Assert.That((cache.Delete("key"), cache.Delete("key"), cache.Exists("key")), Is.EqualTo((1, 0, false)));
    }

    [Test]
    public void MultiSet_with_and_without_a_ttl_and_MultiGet_in_the_order_asked()
    {
        var cache = Cache();
        Assert.That(cache.MultiSet([new("a", 1), new KeyValuePair<string, int>("b", 2)]), Is.True);
        Assert.That(cache.MultiSet([new("c", 3), new KeyValuePair<string, int>("d", 4)], ttl: TimeSpan.FromMinutes(1)), Is.True);

        Assert.That(cache.MultiGet<int?>(["d", "missing", "a", "b", "c", "a"]), Is.EqualTo(new int?[] { 4, null, 1, 2, 3, 1 }));
        Assert.That(TtlOf("main:a"), Is.Null, "MSET");
        Assert.That(TtlOf("main:d"), Is.InRange(TimeSpan.FromSeconds(50), TimeSpan.FromMinutes(1)), "SET PX in a script");
        _garnet.Advance(TimeSpan.FromMinutes(2));
        Assert.That(cache.MultiGet<int?>(["a", "c", "d"]), Is.EqualTo(new int?[] { 1, null, null }));
    }

    [Test]
    public void Increment_starts_at_zero_adds_and_refuses_what_is_not_an_integer()
    {
        var cache = Cache();
        cache.Set("text", "value");
        Stored.ListLeftPush("main:list", "x");

        Assert.That(cache.Increment("n", 2), Is.EqualTo(2));
        Assert.That(cache.Increment("n", -5), Is.EqualTo(-3));
        Assert.That(cache.Increment("low", long.MinValue), Is.EqualTo(long.MinValue), "sent as INCRBY, not DECRBY");
        Assert.Throws<CacheValueNotIntegerException>(() => cache.Increment("text"));
        Assert.Throws<CacheValueNotIntegerException>(() => cache.Increment("list"), "WRONGTYPE");
        Assert.That(cache.Get<string>("text"), Is.EqualTo("value"));
    }

    [Test]
    public void Increment_past_the_largest_long_throws_OverflowException_as_on_Redis()
    {
        var cache = Cache();
        cache.Set("n", long.MaxValue - 1);

        // Redis answers "increment or decrement would overflow"; Garnet the error it gives for text. RedisCache tells
        // them apart by the stored text, an integer, so both are an OverflowException, as docs/caches.md promises.
        var error = Assert.Throws<OverflowException>(() => cache.Increment("n", 2));

        Assert.That(error!.InnerException!.Message, Does.Contain("not an integer or out of range"));
        Assert.That(cache.Get<long>("n"), Is.EqualTo(long.MaxValue - 1), "the value is left as it was");
    }

    [Test]
    public void Expire_sets_a_ttl_and_null_or_zero_removes_it()
    {
        var cache = Cache();
        cache.Set("key", "value", ttl: TimeSpan.FromSeconds(10));

        Assert.That(cache.Expire("key", TimeSpan.FromMinutes(5)), Is.True);
        Assert.That(TtlOf("main:key"), Is.GreaterThan(TimeSpan.FromMinutes(4)), "PEXPIRE");
        Assert.That((cache.Expire("key", null), TtlOf("main:key")), Is.EqualTo((true, (TimeSpan?)null)), "the Persist script");
        cache.Expire("key", TimeSpan.FromSeconds(10));
        Assert.That((cache.Expire("key", TimeSpan.Zero), TtlOf("main:key")), Is.EqualTo((true, (TimeSpan?)null)), "zero is no expiry");
        Assert.That((cache.Expire("missing", TimeSpan.FromSeconds(1)), cache.Expire("missing", null)), Is.EqualTo((false, false)));
        cache.Expire("key", TimeSpan.FromMilliseconds(300));
        _garnet.Advance(TimeSpan.FromMilliseconds(600));
        Assert.That(cache.Exists("key"), Is.False);
    }

    [Test]
    public void A_ttl_ends_on_the_server_and_the_cache_ttl_applies_when_a_command_gives_none()
    {
        var cache = Cache(ttl: TimeSpan.FromSeconds(10));
        cache.Set("default", 1);
        cache.Set("explicit", 1, ttl: TimeSpan.FromMinutes(1));
        cache.Set("forever", 1, ttl: TimeSpan.Zero);

        _garnet.Advance(TimeSpan.FromSeconds(5));
        Assert.That(cache.Exists("default"), Is.True, "half way through its ttl");
        _garnet.Advance(TimeSpan.FromSeconds(6));

        Assert.That(cache.Get<int?>("default"), Is.Null);
        Assert.That((cache.Exists("default"), cache.Exists("explicit"), cache.Exists("forever")), Is.EqualTo((false, true, true)));
    }

    [Test]
    public void Clear_removes_exactly_one_namespace_by_SCAN_and_UNLINK()
    {
        var cache = Cache();
        foreach (var space in new[] { "main", "mains", "a*", "ab", string.Empty })
        {
            cache.Set("k", space, @namespace: space);
        }

        Assert.That(cache.Clear("a*"), Is.True);
        Assert.That((cache.Exists("k", "a*"), cache.Exists("k", "ab")), Is.EqualTo((false, true)), "the glob character is escaped");
        cache.Clear();

        Assert.That(cache.Exists("k"), Is.False, "the cache's own namespace");
        Assert.That((cache.Exists("k", "mains"), cache.Exists("k", string.Empty)), Is.EqualTo((true, true)));
    }

    [Test]
    public async Task Clear_of_a_namespace_spares_namespaces_that_differ_from_it_only_in_letter_case([Values] bool async)
    {
        // Garnet matches SCAN patterns ignoring case, Redis does not: "app:*" finds "APP:k" too. RedisCache checks each
        // key SCAN returns against the exact prefix, so it unlinks only its own (a regression test: it used to delete them).
        var cache = Cache();
        foreach (var space in new[] { "app", "APP", "App", "apps" })
        {
            cache.Set("k", space, @namespace: space);
        }

        if (async)
        {
            await cache.ClearAsync("app");
        }
        else
        {
            cache.Clear("app");
        }

        Assert.That(cache.Exists("k", "app"), Is.False);
        Assert.That((cache.Exists("k", "APP"), cache.Exists("k", "App"), cache.Exists("k", "apps")), Is.EqualTo((true, true, true)));
    }

    [Test]
    public void Clear_of_a_cache_without_namespace_empties_only_its_own_database([Values] bool adminMode)
    {
        // SCAN and UNLINK page by page, or FLUSHDB when the connection string opts into admin mode.
        var cache = Cache(@namespace: null, settings: adminMode ? ",allowAdmin=true,defaultDatabase=2" : ",defaultDatabase=2");
        cache.Set("bare", 1);
        cache.Set("k", 1, @namespace: "other");
        _admin!.GetDatabase(3).StringSet("elsewhere", 1);

        Assert.That(cache.Clear(), Is.True);

        Assert.That((cache.Exists("bare"), cache.Exists("k", "other")), Is.EqualTo((false, false)));
        Assert.That(_admin.GetDatabase(3).KeyExists("elsewhere"), Is.True);
    }

    [Test]
    public void Raw_returns_strings_numbers_and_lists_and_admin_commands_stay_refused()
    {
        var cache = Cache();
        cache.Raw("SET", "main:raw", "41");

        Assert.That(cache.Raw("INCRBY", "main:raw", 1), Is.EqualTo(42L));
        Assert.That(cache.Raw("GET", "main:raw"), Is.EqualTo("42"));
        Assert.That(cache.Raw("MGET", "main:raw", "main:none"), Is.EqualTo(new object?[] { "42", null }));
        Assert.Throws<CacheBackendException>(() => cache.Raw("FLUSHALL"));
        Assert.That(Stored.KeyExists("main:raw"), Is.True);
    }

    [Test]
    public async Task The_async_commands_work_as_the_sync_ones()
    {
        var cache = Cache();
        Assert.That(await cache.SetAsync("key", "value"), Is.True);
        Assert.That(await cache.AddAsync("added", 1), Is.True);
        Assert.ThrowsAsync<KeyExistsException>(async () => await cache.AddAsync("key", "other"));
        Assert.That(await cache.GetAsync<string>("key"), Is.EqualTo("value"));
        Assert.That(await cache.MultiSetAsync([new("a", 1), new KeyValuePair<string, int>("b", 2)], ttl: TimeSpan.FromMinutes(1)), Is.True);
        Assert.That(await cache.MultiGetAsync<int?>(["b", "none", "a"]), Is.EqualTo(new int?[] { 2, null, 1 }));
        Assert.That((await cache.ExistsAsync("a"), await cache.ExistsAsync("none")), Is.EqualTo((true, false)));
        Assert.That(await cache.IncrementAsync("n", 5), Is.EqualTo(5));
        Assert.That(await cache.IncrementAsync("n", long.MinValue), Is.EqualTo(long.MinValue + 5));
        Assert.That((await cache.ExpireAsync("a", null), TtlOf("main:a")), Is.EqualTo((true, (TimeSpan?)null)));
        Assert.That((await cache.ExpireAsync("added", TimeSpan.FromMinutes(1)), TtlOf("main:added") > TimeSpan.FromSeconds(50)), Is.EqualTo((true, true)));
        Assert.That(await cache.RawAsync("GET", ["main:n"]), Is.EqualTo((long.MinValue + 5).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(await cache.DeleteAsync("key"), Is.EqualTo(1));
        cache.Set("k", 1, @namespace: "other");

        Assert.That(await cache.ClearAsync(), Is.True);
        Assert.That(Server.Keys(pattern: "main:*").Count(), Is.Zero);
        Assert.That(await cache.ExistsAsync("k", "other"), Is.True);
    }

    [Test]
    public async Task RedLock_excludes_another_process_until_its_owner_releases_it()
    {
        var (a, b) = (Cache("a"), Cache("b"));
        var first = await RedLock.AcquireAsync(a, "key", TimeSpan.FromSeconds(5));
        Assert.That(TtlOf("main:key-lock"), Is.InRange(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5)), "SET NX PX lease");
        var second = RedLock.AcquireAsync(b, "key", TimeSpan.FromSeconds(5)).AsTask();
        await Task.Delay(200);
        Assert.That(second.IsCompleted, Is.False, "the other process waits while the lock is held");

        await first.DisposeAsync();
        await using var acquired = await second.WaitAsync(s_limit);

        Assert.That((first.IsAcquired, acquired.IsAcquired), Is.EqualTo((true, true)));
    }

    [Test]
    public void A_RedLock_whose_lease_ran_out_leaves_the_lock_its_next_owner_took()
    {
        var (a, b) = (Cache("a"), Cache("b"));
        var stale = new RedLock(a, "key", TimeSpan.FromMilliseconds(200));
        _garnet.Advance(TimeSpan.FromMilliseconds(400));
        using var owner = new RedLock(b, "key", TimeSpan.FromSeconds(5));

        stale.Dispose();

        Assert.That((stale.IsAcquired, owner.IsAcquired), Is.EqualTo((true, true)));
        Assert.That(b.Exists("key-lock"), Is.True, "the compare-and-delete script spared another owner's token");
        owner.Dispose();
        Assert.That(b.Exists("key-lock"), Is.False);
    }

    [Test]
    public async Task OptimisticLock_writes_when_unchanged_and_loses_to_another_process_s_write()
    {
        var (a, b) = (Cache("a"), Cache("b"));
        a.Set("key", "value");
        using (var unchanged = new OptimisticLock(a, "key"))
        {
            Assert.That(unchanged.Cas("new", ttl: TimeSpan.FromMinutes(1)), Is.True);
        }

        Assert.That(TtlOf("main:key"), Is.InRange(TimeSpan.FromSeconds(50), TimeSpan.FromMinutes(1)));
        await using var late = await OptimisticLock.AcquireAsync(a, "key");
        await b.SetAsync("key", "concurrent");

        Assert.ThrowsAsync<OptimisticLockException>(async () => await late.CasAsync("mine"));
        Assert.That(a.Get<string>("key"), Is.EqualTo("concurrent"));
        Assert.That(new OptimisticLock(a, "fresh").Cas(1), Is.True, "a key expected missing");
    }

    [Test]
    public async Task A_lease_held_in_Garnet_makes_callers_in_two_processes_make_one_body_call()
    {
        var (a, b) = (Cache("a"), Cache("b"));
        CachedMethod<string> MethodOn(RedisCache cache) => new(new CachedMethodOptions { Method = "Demo.Slow", Lease = 5, Ttl = 60, CacheFactory = () => cache });
        var (first, second) = (MethodOn(a), MethodOn(b));
        var (entered, release) = (new TaskCompletionSource(), new TaskCompletionSource());
        var calls = 0;
        Task<string> Call(CachedMethod<string> method) => method.InvokeAsync("slow", 0, async (_, _) =>
        {
            Interlocked.Increment(ref calls);
            entered.TrySetResult();
            await release.Task;
            return "computed";
        }, null, CancellationToken.None).AsTask();

        var owner = Call(first);
        await entered.Task.WaitAsync(s_limit);
        Assert.That(Stored.KeyExists("main:slow-lock"), Is.True, "the lease is a key in Garnet");
        var waiters = Enumerable.Range(0, 10).Select(i => Call(i % 2 == 0 ? second : first)).ToArray();
        await Task.WhenAny(Task.WhenAll(waiters), Task.Delay(300));
        Assert.That(waiters.Any(static w => w.IsCompleted), Is.False, "the others wait on the lease");

        release.SetResult();

        Assert.That(await Task.WhenAll(waiters.Append(owner)).WaitAsync(s_limit), Is.All.EqualTo("computed"));
        Assert.That(calls, Is.EqualTo(1));
        Assert.That(Stored.KeyExists("main:slow-lock"), Is.False, "released by its owner");
    }

    [Test]
    public async Task GetOrSet_computes_once_stores_and_leaves_no_fence_behind([Values] bool async)
    {
        var (a, b) = (Cache("a"), Cache("b"));
        var calls = 0;
        async Task<string> Read(RedisCache cache) => async
            ? await cache.GetOrSetAsync("k", _ => new ValueTask<string>("v" + Interlocked.Increment(ref calls)), new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1) })
            : cache.GetOrSet("k", _ => "v" + Interlocked.Increment(ref calls), new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1) });

        Assert.That((await Read(a), await Read(a), await Read(b)), Is.EqualTo(("v1", "v1", "v1")));
        Assert.That(calls, Is.EqualTo(1));
        Assert.That((string?)Stored.StringGet("main:k"), Is.EqualTo("\"v1\""));
        Assert.That(Server.Keys(pattern: "*__cached:fence*").Count(), Is.Zero, "the fill script removed its fence");
    }

    [Test]
    public async Task A_write_by_another_process_during_a_fill_keeps_the_fill_from_storing()
    {
        var (a, b) = (Cache("a"), Cache("b"));
        var (entered, release) = (new TaskCompletionSource(), new TaskCompletionSource());
        var fill = a.GetOrSetAsync("k", async _ =>
        {
            entered.SetResult();
            await release.Task;
            return "computed before the write";
        }, new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1) }).AsTask();
        await entered.Task.WaitAsync(s_limit);
        Assert.That(Stored.KeyExists("main:k:__cached:fence"), Is.True, "the fill opened its fence");

        await b.SetAsync("k", "written meanwhile");
        release.SetResult();

        Assert.That(await fill.WaitAsync(s_limit), Is.EqualTo("written meanwhile"), "its caller gets the value that stands, not the one it could not store");
        Assert.That(await b.GetAsync<string>("k"), Is.EqualTo("written meanwhile"), "the moved fence kept it out of Garnet");
    }

    [Test]
    public async Task A_tag_invalidated_by_another_process_is_seen_at_once([Values] bool async)
    {
        var (a, b) = (Cache("a"), Cache("b"));
        var calls = 0;
        ValueTask<string> Load(CancellationToken _) => new("v" + Interlocked.Increment(ref calls));
        async Task<string> Read() => async ? await a.GetOrSetAsync("u1", Load, s_userOne) : a.GetOrSet("u1", ct => Load(ct).Result, s_userOne);
        await a.SetAsync("u2", "two", new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), Tags = ["user:2", "users"] });

        Assert.That((await Read(), await Read()), Is.EqualTo(("v1", "v1")));
        await b.InvalidateTagsAsync(["user:1"]);

        Assert.That((await Read(), await Read()), Is.EqualTo(("v2", "v2")), "computed again once, then a hit");
        Assert.That(await b.GetAsync<string>("u2"), Is.EqualTo("two"), "another tag's entry is untouched");
        b.InvalidateTags("users");
        Assert.That((b.Get<string>("u1"), await b.GetAsync<string>("u2")), Is.EqualTo(((string?)null, (string?)null)));
    }

    [Test]
    public void A_tag_record_lives_as_long_as_its_longest_entry_through_the_KeepTag_script()
    {
        var cache = Cache();
        CacheEntryOptions Tagged(TimeSpan? ttl) => new() { Ttl = ttl, Tags = ["t"] };
        const string record = "main:__cached:tag:t";

        cache.Set("short", 1, Tagged(TimeSpan.FromMinutes(1)));
        Assert.That(TtlOf(record), Is.InRange(TimeSpan.FromSeconds(50), TimeSpan.FromMinutes(1)), "created with SET NX PX");
        cache.Set("long", 1, Tagged(TimeSpan.FromMinutes(10)));
        Assert.That(TtlOf(record), Is.GreaterThan(TimeSpan.FromMinutes(9)), "extended by PEXPIRE");
        cache.Set("shorter", 1, Tagged(TimeSpan.FromSeconds(30)));
        Assert.That(TtlOf(record), Is.GreaterThan(TimeSpan.FromMinutes(9)), "never shortened");
        cache.Set("forever", 1, Tagged(null));
        Assert.That((Stored.KeyExists(record), TtlOf(record)), Is.EqualTo((true, (TimeSpan?)null)), "PERSIST");
    }

    [Test]
    public async Task Two_nodes_joined_by_the_backplane_drop_each_other_s_stale_copies()
    {
        var space = "ml" + Guid.NewGuid().ToString("N")[..8];
        var (a, b) = (Node("a", space), Node("b", space));
        // Written to L2 alone: A's write publishes in the background, and a message that came after B's read would drop B's copy.
        await a.L2.SetAsync("k", "old", TimeSpan.FromMinutes(1));
        Assert.That((await b.GetAsync<string>("k"), b.IsInL1("k")), Is.EqualTo(("old", true)));

        await a.SetAsync("k", "new", TimeSpan.FromMinutes(1));
        await Eventually(() => !b.IsInL1("k"), "B drops its copy when A writes");
        Assert.That((await b.GetAsync<string>("k"), b.IsInL1("k")), Is.EqualTo(("new", true)));
        a.Delete("k");
        await Eventually(() => !b.IsInL1("k"), "and when A deletes");

        Assert.That(await b.GetOrSetAsync("u1", _ => new ValueTask<string>("before"), s_userOne), Is.EqualTo("before"));
        await a.InvalidateTagsAsync(["user:1"]);
        await Eventually(() => b.L1.Get<string>("u1", @namespace: space) is null, "B's tagged copy goes with A's invalidation");
        Assert.That(await b.GetOrSetAsync("u1", _ => new ValueTask<string>("after"), s_userOne), Is.EqualTo("after"));
    }

    [Test]
    public async Task An_L1_copy_keeps_the_remaining_life_Garnet_reports([Values] bool async)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var node = Node("a", "ml", clock);
        node.L2.Set("x", 1, TimeSpan.FromMinutes(1));
        node.L2.Set("forever", 2);

        // Sync, a script of GET and PTTL per key; async, GET and PTTL pipelined.
        var values = async ? await node.MultiGetAsync<int>(["x", "forever"]) : node.MultiGet<int>(["x", "forever"]);
        Assert.That(values, Is.EqualTo(new[] { 1, 2 }));
        Assert.That(node.IsInL1("x") && node.IsInL1("forever"), Is.True);
        clock.Advance(TimeSpan.FromMinutes(2));

        Assert.That((node.IsInL1("x"), node.IsInL1("forever")), Is.EqualTo((false, true)));
    }

    [Test]
    public async Task Without_lua_reads_work_and_every_write_throws_a_CacheBackendException_naming_the_cause_before_it_is_applied([Values] bool async)
    {
        // Regression: the fence move (a script) and the command were sent together, so the SET and the DEL went
        // through and the caller was told they failed.
        using var plain = GarnetServer.StartOrIgnore(lua: false);
        using var cache = new RedisCache { ConnectionString = plain.ConnectionString, Namespace = "main" };
        using var direct = ConnectionMultiplexer.Connect(plain.ConnectionString);
        var stored = direct.GetDatabase();
        stored.StringSet("main:there", "1");

        Assert.That((cache.Get<int>("there"), cache.Exists("missing")), Is.EqualTo((1, false)), "GET, EXISTS need no script");
        Assert.That(cache.MultiGet<int?>(["there", "missing"]), Is.EqualTo(new int?[] { 1, null }), "nor MGET");
        var writes = new (string What, Func<Task> Write)[]
        {
            ("Set", () => async ? cache.SetAsync("k", "v").AsTask() : Task.FromResult(cache.Set("k", "v"))),
            ("Add", () => async ? cache.AddAsync("k", "v").AsTask() : Task.FromResult(cache.Add("k", "v"))),
            ("MultiSet", () => async ? cache.MultiSetAsync([new KeyValuePair<string, string>("k", "v")]).AsTask() : Task.FromResult(cache.MultiSet([new KeyValuePair<string, string>("k", "v")]))),
            ("Increment", () => async ? cache.IncrementAsync("there").AsTask() : Task.FromResult(cache.Increment("there"))),
            ("Expire", () => async ? cache.ExpireAsync("there", TimeSpan.FromSeconds(1)).AsTask() : Task.FromResult(cache.Expire("there", TimeSpan.FromSeconds(1)))),
            ("Delete", () => async ? cache.DeleteAsync("there").AsTask() : Task.FromResult(cache.Delete("there"))),
            ("Clear", () => async ? cache.ClearAsync().AsTask() : Task.FromResult(cache.Clear())),
        };
        foreach (var (what, write) in writes)
        {
            var error = Assert.ThrowsAsync<CacheBackendException>(() => write(), what);
            Assert.That(error!.Message, Does.Contain("Lua scripting support disabled").And.Contain("--lua"), what);
        }

        Assert.Multiple(() =>
        {
            Assert.That(stored.KeyExists("main:k"), Is.False, "no SET went through");
            Assert.That((string?)stored.StringGet("main:there"), Is.EqualTo("1"), "no INCR, DEL or FLUSH went through");
            Assert.That(stored.KeyTimeToLive("main:there"), Is.Null, "no PEXPIRE went through");
        });
        var method = new CachedMethod<int>(new CachedMethodOptions { Method = "Demo.Answer", CacheFactory = () => cache });
        var logs = new RecordingLogs();
        CachedLogging.LoggerFactory = logs;
        try
        {
            var answer = async
                ? await method.InvokeAsync("answer".AsSpan(), 21, static (x, _) => new ValueTask<int>(x * 2), null, CancellationToken.None)
                : method.Invoke("answer", 21, static x => x * 2);
            Assert.That(answer, Is.EqualTo(42), "a cached method fails open");
        }
        finally
        {
            CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
        }

        // Its fill's fence is a script too: the fault it logs names the cause, as a write's does.
        Assert.That(logs.Exceptions.Select(static e => e.Message), Has.Some.Contain("--lua"), string.Join("\n", logs.Messages));
        Assert.That(stored.KeyExists("main:answer"), Is.False);
    }
}
