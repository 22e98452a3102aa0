using System.Diagnostics;
using Cached.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// An outsider's check of Microsoft Garnet, whose SCAN matches patterns ignoring letter case: what <c>Clear("app")</c>
/// does to namespaces <c>APP</c> and <c>App</c> (their keys and their in-flight fills), <c>Clear</c> with and without a
/// namespace, and tags on two levels (memory in front of Garnet, <see cref="RedisBackplane"/> on Garnet). Ignored
/// without the garnet-server tool (see <see cref="GarnetServer"/>).
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderGarnetTagsReviewTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);
    private static readonly CacheEntryOptions s_minute = new() { Ttl = TimeSpan.FromMinutes(1) };
    private static readonly CacheEntryOptions s_userOne = new() { Ttl = TimeSpan.FromMinutes(1), Tags = ["user:1", "users"] };
    private static readonly CacheEntryOptions s_userTwo = new() { Ttl = TimeSpan.FromMinutes(1), Tags = ["user:2", "users"] };

    private readonly List<IAsyncDisposable> _disposables = [];
    private GarnetServer _garnet = null!;
    private ConnectionMultiplexer _admin = null!;
    private GarnetWithAdmin? _fixture;

    private IServer Server => _admin.GetServer(_admin.GetEndPoints()[0]);

    [OneTimeSetUp]
    public void StartGarnet()
    {
        _fixture = GarnetWithAdmin.Start("outsider-garnet-tags-admin");
        (_garnet, _admin) = (_fixture.Garnet, _fixture.Admin);
    }

    [OneTimeTearDown]
    public void StopGarnet() => _fixture?.Dispose();

    [SetUp]
    public void SetUp() => Server.FlushAllDatabases();

    [TearDown]
    public async Task TearDown()
    {
        foreach (var disposable in Enumerable.Reverse(_disposables))
        {
            await disposable.DisposeAsync();
        }

        _disposables.Clear();
        Server.FlushAllDatabases();
    }

    private RedisCache Cache(string? @namespace, string name, string? connection = null)
    {
        var cache = new RedisCache { ConnectionString = $"{connection ?? _garnet.ConnectionString},name=outsider-garnet-tags-{name}", Namespace = @namespace };
        _disposables.Add(cache);
        return cache;
    }

    private MultiLevelCache Node(string @namespace, string name)
    {
        var node = new MultiLevelCache(
            new SimpleMemoryCache(),
            new RedisCache { ConnectionString = $"{_garnet.ConnectionString},abortConnect=false,name=outsider-garnet-l2-{name}", Namespace = @namespace, Timeout = TimeSpan.FromSeconds(2) },
            new RedisBackplane($"{_garnet.ConnectionString},abortConnect=false,name=outsider-garnet-bp-{name}"));
        _disposables.Add(node);
        return node;
    }

    /// <summary>The fences Garnet holds whose names start with <paramref name="prefix"/>, compared by ordinal (Garnet's own match ignores case).</summary>
    private string[] FencesOf(string prefix)
        => [.. Server.Keys(pattern: "*__cached:fence").Select(static k => (string)k!).Where(k => k.StartsWith(prefix, StringComparison.Ordinal))];

    /// <summary>A fill whose body waits for <see cref="Gate.Release"/>, so that a test acts while it is in flight.</summary>
    private sealed class Gate
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Calls;

        public Func<CancellationToken, ValueTask<string>> Body(string value) => async _ =>
        {
            Interlocked.Increment(ref Calls);
            Entered.TrySetResult();
            await Released.Task;
            return value;
        };

        public void Release() => Released.TrySetResult();
    }

    [Test]
    public async Task Clear_of_app_lets_an_in_flight_fill_of_namespace_APP_store([Values] bool async, [Values("APP", "App")] string other)
    {
        // Garnet's SCAN "app:*:__cached:fence" also finds "APP:k:__cached:fence". The keys a clear removes are checked
        // against the exact prefix; the fences it moves must be too, or another namespace's fill is refused.
        var app = Cache("app", "app");
        var neighbour = Cache(other, "neighbour");
        app.Set("k", "app's");
        var gate = new Gate();
        var fill = neighbour.GetOrSetAsync("k", gate.Body("computed"), s_minute).AsTask();
        await gate.Entered.Task.WaitAsync(s_limit);
        Assert.That(FencesOf(other + ":k"), Has.Length.EqualTo(1), "the neighbour's fill opened its fence");
        var fenceBefore = (string?)_admin.GetDatabase().StringGet(FencesOf(other + ":k")[0]);

        if (async)
        {
            await app.ClearAsync();
        }
        else
        {
            app.Clear();
        }

        Assert.That(app.Exists("k"), Is.False, "app's own key is cleared");
        var fenceAfter = (string?)_admin.GetDatabase().StringGet(FencesOf(other + ":k").FirstOrDefault() ?? "none");
        gate.Release();
        Assert.That(await fill.WaitAsync(s_limit), Is.EqualTo("computed"));

        Assert.Multiple(() =>
        {
            Assert.That(fenceAfter, Is.EqualTo(fenceBefore), $"Clear(\"app\") moved namespace {other}'s fence");
            Assert.That(neighbour.Exists("k"), Is.True, $"namespace {other}'s fill stored its value although Clear(\"app\") is not about it");
            Assert.That(neighbour.GetOrSet("k", _ => "recomputed", s_minute), Is.EqualTo("computed"), "a hit, no second body call");
        });
    }

    [Test]
    public async Task Control_on_redis_server_Clear_of_app_lets_an_in_flight_fill_of_namespace_APP_store([Values] bool async)
    {
        // The same steps on redis-server, whose SCAN matches by case: the neighbour's fill stores.
        var space = "ctl" + Guid.NewGuid().ToString("N")[..6];
        var app = Cache(space, "app", SharedRedis.Server.ConnectionString);
        var neighbour = Cache(space.ToUpperInvariant(), "neighbour", SharedRedis.Server.ConnectionString);
        var gate = new Gate();
        var fill = neighbour.GetOrSetAsync("k", gate.Body("computed"), s_minute).AsTask();
        await gate.Entered.Task.WaitAsync(s_limit);
        if (async)
        {
            await app.ClearAsync();
        }
        else
        {
            app.Clear();
        }

        gate.Release();
        Assert.That(await fill.WaitAsync(s_limit), Is.EqualTo("computed"));
        Assert.That(neighbour.GetOrSet("k", _ => "recomputed", s_minute), Is.EqualTo("computed"));
        neighbour.Clear();
    }

    [Test]
    public async Task Clear_of_app_refuses_an_in_flight_fill_of_app_itself_and_spares_the_other_cases_values([Values] bool async)
    {
        var app = Cache("app", "app");
        var upper = Cache("APP", "upper");
        var mixed = Cache("App", "mixed");
        upper.Set("k", "APP's", s_minute.Ttl);
        mixed.Set("k", "App's", s_minute.Ttl);
        upper.GetOrSet("tagged", _ => "APP tagged", s_userOne);
        var gate = new Gate();
        var fill = app.GetOrSetAsync("k", gate.Body("before the clear"), s_minute).AsTask();
        await gate.Entered.Task.WaitAsync(s_limit);

        if (async)
        {
            await app.ClearAsync("app");
        }
        else
        {
            app.Clear("app");
        }

        gate.Release();
        Assert.That(await fill.WaitAsync(s_limit), Is.EqualTo("before the clear"), "the caller still gets its value");
        Assert.Multiple(() =>
        {
            Assert.That(app.Exists("k"), Is.False, "a fill overtaken by a clear of its namespace stores nothing");
            Assert.That(upper.Get<string>("k"), Is.EqualTo("APP's"));
            Assert.That(mixed.Get<string>("k"), Is.EqualTo("App's"));
            Assert.That(upper.Get<string>("tagged"), Is.EqualTo("APP tagged"), "APP's tagged entry and its tag records are untouched");
        });
    }

    [Test]
    public async Task Clear_without_a_namespace_empties_the_database_and_refuses_every_in_flight_fill([Values] bool async)
    {
        var bare = Cache(null, "bare");
        var app = Cache("app", "app");
        bare.Set("plain", 1);
        app.Set("k", 1);
        var gate = new Gate();
        var fill = app.GetOrSetAsync("filling", gate.Body("before the clear"), s_minute).AsTask();
        await gate.Entered.Task.WaitAsync(s_limit);

        if (async)
        {
            await bare.ClearAsync();
        }
        else
        {
            bare.Clear();
        }

        gate.Release();
        Assert.That(await fill.WaitAsync(s_limit), Is.EqualTo("before the clear"));
        Assert.That((bare.Exists("plain"), app.Exists("k"), app.Exists("filling")), Is.EqualTo((false, false, false)));
        Assert.That(Server.Keys(pattern: "*").Count(), Is.Zero, "nothing left, fences included");
    }

    [Test]
    public async Task Two_levels_on_Garnet_a_tag_invalidated_by_one_node_reaches_the_others_L1_and_spares_other_tags()
    {
        var space = "gtags" + Guid.NewGuid().ToString("N")[..6];
        var (a, b, c) = (Node(space, "a"), Node(space, "b"), Node(space, "c"));
        foreach (var node in new[] { a, b, c })
        {
            Assert.That(await node.GetOrSetAsync("u1", _ => new ValueTask<string>("one"), s_userOne), Is.EqualTo("one"));
            Assert.That(await node.GetOrSetAsync("u2", _ => new ValueTask<string>("two"), s_userTwo), Is.EqualTo("two"));
        }

        // A copy B or C made before the message of A's own fill reached it is dropped by that message (a write on
        // another node drops a node's copy): read again until both copies stand.
        await Eventually(
            () =>
            {
                foreach (var node in new[] { b, c })
                {
                    node.GetOrSet("u1", _ => "one", s_userOne);
                    node.GetOrSet("u2", _ => "two", s_userTwo);
                }

                return b.IsInL1("u1") && c.IsInL1("u1") && b.IsInL1("u2") && c.IsInL1("u2");
            },
            "B and C copied the tagged entries");

        for (var round = 1; round <= 3; round++)
        {
            await a.InvalidateTagsAsync(["user:1"]);
            await Eventually(() => b.L1.Get<string>("u1", @namespace: space) is null && c.L1.Get<string>("u1", @namespace: space) is null, $"round {round}: B's and C's copies invalidated");
            Assert.That(await b.GetOrSetAsync("u1", _ => new ValueTask<string>("one#" + round), s_userOne), Is.EqualTo("one#" + round));
            Assert.That(await c.GetOrSetAsync("u1", _ => new ValueTask<string>("not called"), s_userOne), Is.EqualTo("one#" + round), "C reads B's refill from Garnet");
        }

        Assert.That((b.IsInL1("u2"), c.IsInL1("u2")), Is.EqualTo((true, true)), "the other tag's copies stay");
        Assert.That(await c.GetOrSetAsync("u2", _ => new ValueTask<string>("recomputed"), s_userTwo), Is.EqualTo("two"));
    }

    [Test]
    public async Task Two_levels_on_Garnet_a_value_computed_while_another_node_invalidates_its_tag_is_never_served_afterwards()
    {
        var space = "gtags" + Guid.NewGuid().ToString("N")[..6];
        var (a, b) = (Node(space, "a"), Node(space, "b"));
        await a.GetOrSetAsync("warm", _ => new ValueTask<string>("w"), s_userTwo);
        var gate = new Gate();
        var fill = b.GetOrSetAsync("u1", gate.Body("computed before"), s_userOne).AsTask();
        await gate.Entered.Task.WaitAsync(s_limit);

        a.InvalidateTags("user:1");
        gate.Release();
        Assert.That(await fill.WaitAsync(s_limit), Is.EqualTo("computed before"), "its caller gets it");

        Assert.That(await b.GetOrSetAsync("u1", _ => new ValueTask<string>("after"), s_userOne), Is.EqualTo("after"), "B does not serve it");
        Assert.That(await a.GetOrSetAsync("u1", _ => new ValueTask<string>("not called"), s_userOne), Is.EqualTo("after"), "A reads B's refill");
        Assert.That(gate.Calls, Is.EqualTo(1));
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.That(waited.Elapsed, Is.LessThan(s_limit), what);
            await Task.Delay(5);
        }
    }
}
