using Cached.Distributed;
using Cached.Hybrid;
using Cached.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// An outsider's check of the IDistributedCache and HybridCache adapters on a real redis-server, on a RedisCache and
/// on a MultiLevelCache over it, side by side with Microsoft's own Redis provider; and of two service providers
/// sharing a RedisCache alias. The test of a second provider found a container disposing a cache it did not own, fixed since.
/// </summary>
[NonParallelizable]
public sealed class OutsiderEcosystemRedisReviewTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(5);
    private ConnectionMultiplexer _admin = null!;
    private readonly List<IDisposable> _owned = [];

    [SetUp]
    public async Task Connect()
    {
        Caches.Reset();
        _admin = await ConnectionMultiplexer.ConnectAsync(SharedRedis.Server.ConnectionString + ",allowAdmin=true");
        await _admin.GetServer(_admin.GetEndPoints()[0]).FlushDatabaseAsync();
    }

    [TearDown]
    public async Task Disconnect()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }

        _owned.Clear();
        Caches.Reset();
        await _admin.DisposeAsync();
    }

    private IDatabase Db => _admin.GetDatabase();

    private T Own<T>(T disposable)
        where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    private static TaskCompletionSource Signal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The three IDistributedCaches compared, with the server key each keeps an entry under.</summary>
    private IEnumerable<(string Name, IDistributedCache Cache, Func<string, string> ServerKey)> ThreeProviders(string? connection = null)
    {
        connection ??= SharedRedis.Server.ConnectionString;
        var microsoft = Own(new Microsoft.Extensions.Caching.StackExchangeRedis.RedisCache(new RedisCacheOptions { Configuration = connection, InstanceName = "ms:" }));
        var redis = Own(new RedisCache { ConnectionString = connection, Namespace = "rc" });
        var twoLevels = Own(new MultiLevelCache(new SimpleMemoryCache(), new RedisCache { ConnectionString = connection, Namespace = "ml" }));
        yield return ("Microsoft", microsoft, static key => "ms:" + key);
        yield return ("RedisCache", redis.AsDistributedCache(), static key => "rc:" + key);
        yield return ("MultiLevelCache", twoLevels.AsDistributedCache(), static key => "ml:" + key);
    }

    private async Task<TimeSpan> TtlOf(string serverKey) => await Db.KeyTimeToLiveAsync(serverKey) ?? TimeSpan.MaxValue;

    // ---------------------------------------------------------------------------------------------------------------
    // Two service providers sharing a RedisCache alias
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>
    /// An application's container has handed out its RedisCache alias; a second provider is built from the same
    /// services (the common BuildServiceProvider-on-the-side, or a second test host), resolves ICache and is disposed.
    /// The application's RedisCache is disposed with it: its next command throws ObjectDisposedException ("the alias
    /// was replaced"), though nothing replaced it. The second provider's keyed factory returned the application's
    /// instance from the process-wide Caches, and Microsoft's container disposes whatever a factory returned.
    /// </summary>
    [Test]
    public async Task Disposing_a_second_provider_built_from_the_same_services_leaves_the_application_s_RedisCache_working()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Cached:default:Cache"] = "Cached.Redis.RedisCache",
            ["Cached:default:ConnectionString"] = SharedRedis.Server.ConnectionString,
            ["Cached:default:Namespace"] = "app",
        }).Build();
        var services = new ServiceCollection();
        services.AddCached(configuration.GetSection("Cached"));
        await using var application = services.BuildServiceProvider();
        var cache = application.GetRequiredService<ICache>();
        await cache.SetAsync("k", "before");

        using (var onTheSide = services.BuildServiceProvider())
        {
            Assert.That(onTheSide.GetRequiredService<ICache>(), Is.SameAs(cache), "one instance per alias in the process");
        }

        Assert.That(async () => await cache.SetAsync("k", "after"), Throws.Nothing, "the application's cache still works");
        Assert.That(await Db.StringGetAsync("app:k"), Is.EqualTo((RedisValue)"\"after\""));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // IDistributedCache side by side with Microsoft's Redis provider
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>
    /// PASSES: on the server, a sliding entry lives its window and each Get, Refresh or RefreshAsync puts it back to a full
    /// window (here after the test shortened it to 30 s); with an absolute expiry too it lives the shorter; Refresh of an
    /// absolute-only entry does not extend it; an entry without options has no expiry; Remove drops the key. The same on
    /// Microsoft's provider, a RedisCache and a MultiLevelCache over Redis.
    /// </summary>
    [Test]
    public async Task Expiry_on_the_server_matches_Microsofts_Redis_provider()
    {
        var window = TimeSpan.FromMinutes(20);
        foreach (var (name, distributed, serverKey) in ThreeProviders())
        {
            await distributed.SetAsync("sliding", [1, 2], new DistributedCacheEntryOptions { SlidingExpiration = window });
            Assert.That(await TtlOf(serverKey("sliding")), Is.EqualTo(window).Within(TimeSpan.FromSeconds(5)), name + ": a window");

            foreach (var (how, slide) in new (string, Func<Task>)[]
            {
                ("GetAsync", () => distributed.GetAsync("sliding")),
                ("Get", () => Task.FromResult(distributed.Get("sliding"))),
                ("RefreshAsync", () => distributed.RefreshAsync("sliding")),
                ("Refresh", () => { distributed.Refresh("sliding"); return Task.CompletedTask; }),
            })
            {
                await Db.KeyExpireAsync(serverKey("sliding"), TimeSpan.FromSeconds(30));
                await slide();
                Assert.That(await TtlOf(serverKey("sliding")), Is.EqualTo(window).Within(TimeSpan.FromSeconds(5)), $"{name}: {how} slides");
            }

            await distributed.SetAsync("both", [1], new DistributedCacheEntryOptions { SlidingExpiration = window, AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5) });
            Assert.That(await TtlOf(serverKey("both")), Is.EqualTo(TimeSpan.FromMinutes(5)).Within(TimeSpan.FromSeconds(5)), name + ": the shorter");

            await distributed.SetAsync("absolute", [1], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5) });
            await Db.KeyExpireAsync(serverKey("absolute"), TimeSpan.FromSeconds(30));
            await distributed.RefreshAsync("absolute");
            Assert.That(await TtlOf(serverKey("absolute")), Is.LessThanOrEqualTo(TimeSpan.FromSeconds(30)), name + ": Refresh leaves an absolute expiry");

            await distributed.SetAsync("forever", [], new DistributedCacheEntryOptions());
            Assert.That(await TtlOf(serverKey("forever")), Is.EqualTo(TimeSpan.MaxValue), name + ": no expiry");
            Assert.That(await distributed.GetAsync("forever"), Is.Not.Null.And.Empty, name + ": an empty value");

            await distributed.RemoveAsync("forever");
            Assert.That(await Db.KeyExistsAsync(serverKey("forever")), Is.False, name + ": removed");
            Assert.That(await distributed.GetAsync("forever"), Is.Null, name);
        }
    }

    /// <summary>PASSES: a megabyte of random bytes round-trips unchanged on all three.</summary>
    [Test]
    public async Task A_large_binary_value_round_trips_as_on_Microsofts_Redis_provider()
    {
        var value = new byte[1 << 20];
        new Random(7).NextBytes(value);
        foreach (var (name, distributed, _) in ThreeProviders())
        {
            await distributed.SetAsync("big", value, new DistributedCacheEntryOptions());
            Assert.That(await distributed.GetAsync("big"), Is.EqualTo(value), name);
            distributed.Set("big-sync", value, new DistributedCacheEntryOptions());
            Assert.That(distributed.Get("big-sync"), Is.EqualTo(value), name);
        }
    }

    /// <summary>
    /// PASSES: a token cancelled while the call waits for the server (its reply held at a proxy) ends each async
    /// method of the adapter at once with an OperationCanceledException, on a RedisCache and on a two-level cache.
    /// </summary>
    [Test]
    public async Task A_token_cancelled_while_the_server_has_not_answered_ends_every_call_at_once()
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var redis = Own(new RedisCache { ConnectionString = proxy.ConnectionString, Namespace = "rc" });
        Connections.WaitUntilConnected(redis);
        var l2 = new RedisCache { ConnectionString = proxy.ConnectionString, Namespace = "ml" };
        Connections.WaitUntilConnected(l2);
        var twoLevels = Own(new MultiLevelCache(new SimpleMemoryCache(), l2));

        foreach (var (name, distributed) in new (string, IDistributedCache)[] { ("RedisCache", redis.AsDistributedCache()), ("MultiLevelCache", twoLevels.AsDistributedCache()) })
        {
            await distributed.SetAsync("s", [1], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(20) });
            foreach (var (what, call) in new (string, Func<CancellationToken, Task>)[]
            {
                ("GetAsync", ct => distributed.GetAsync("s", ct)),
                ("SetAsync", ct => distributed.SetAsync("t", [2], new DistributedCacheEntryOptions(), ct)),
                ("RefreshAsync", ct => distributed.RefreshAsync("s", ct)),
                ("RemoveAsync", ct => distributed.RemoveAsync("u", ct)),
            })
            {
                proxy.HoldReplies();
                try
                {
                    using var cancel = new CancellationTokenSource();
                    var running = call(cancel.Token);
                    Assert.That(running.IsCompleted, Is.False, $"{name} {what} waits for the held reply");
                    cancel.Cancel();
                    Assert.That(async () => await running.WaitAsync(s_limit), Throws.InstanceOf<OperationCanceledException>(), $"{name} {what}");
                }
                finally
                {
                    proxy.ReleaseReplies();
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // HybridCache on Redis
    // ---------------------------------------------------------------------------------------------------------------

    private ICache HybridBackend(bool twoLevels) => twoLevels
        ? Own(new MultiLevelCache(new SimpleMemoryCache(), new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString, Namespace = "h" }))
        : Own(new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString, Namespace = "h" });

    /// <summary>
    /// PASSES: caller 1 runs the factory (which looks at its token after its own await, as a database call does); caller 2,
    /// with no token of its own, has asked for the same key, and its read of Redis is still on the wire (its reply held
    /// at a proxy). Caller 1 cancels: it was the only caller joined, so the flight's token is cancelled. Caller 2's read
    /// then misses; it must not inherit that cancellation (resilience.md: "a caller that comes later then runs the
    /// factory anew"), and it does not. (Over Redis the single flight is joined after each caller's read: without the
    /// factory honouring its token, such a caller joins the flight whose token is already cancelled.)
    /// </summary>
    [Test]
    public async Task A_caller_whose_read_was_in_flight_when_the_last_caller_cancelled_does_not_inherit_the_cancellation([Values] bool twoLevels)
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var l2 = Own(new RedisCache { ConnectionString = proxy.ConnectionString, Namespace = "h" });
        Connections.WaitUntilConnected(l2);
        ICache cache = twoLevels ? Own(new MultiLevelCache(new SimpleMemoryCache(), l2)) : l2;
        var hybrid = cache.AsHybridCache();
        var gate = Signal();
        var entered = Signal();
        var calls = 0;

        async ValueTask<string> Factory(CancellationToken ct)
        {
            var call = Interlocked.Increment(ref calls);
            entered.TrySetResult();
            await gate.Task.WaitAsync(s_limit);
            ct.ThrowIfCancellationRequested();
            return "value " + call;
        }

        using var cancel = new CancellationTokenSource();
        var first = hybrid.GetOrCreateAsync("k", Factory, cancellationToken: cancel.Token).AsTask();
        await entered.Task.WaitAsync(s_limit);

        proxy.HoldReplies();
        Task<string> second;
        try
        {
            second = hybrid.GetOrCreateAsync("k", Factory).AsTask();
            cancel.Cancel();
            Assert.That(async () => await first.WaitAsync(s_limit), Throws.InstanceOf<OperationCanceledException>());
        }
        finally
        {
            proxy.ReleaseReplies();
        }

        gate.SetResult();
        string? value = null;
        Assert.That(async () => value = await second.WaitAsync(s_limit), Throws.Nothing, "caller 2 never cancelled");
        Assert.That(value, Does.StartWith("value "));
    }

    /// <summary>
    /// PASSES: the only caller cancels while the factory runs; a caller that starts once it has left does not inherit
    /// the cancelled flight's exception but runs the factory anew. Then a failing factory fails its callers and stores
    /// nothing, and the next call retries. (How many factory calls two near-simultaneous callers make over Redis is not
    /// asserted: the single flight is joined only after each caller's own read, so a caller whose read returns after a
    /// fast factory finished runs it again.)
    /// </summary>
    [Test]
    public async Task A_late_caller_runs_anew_and_a_failing_factory_fails_every_joined_caller_without_storing([Values] bool twoLevels)
    {
        var hybrid = HybridBackend(twoLevels).AsHybridCache();
        var gate = Signal();
        var entered = Signal();
        using var cancel = new CancellationTokenSource();
        var first = hybrid.GetOrCreateAsync("late", async ct =>
        {
            entered.TrySetResult();
            await gate.Task.WaitAsync(s_limit);
            ct.ThrowIfCancellationRequested();
            return "first";
        }, cancellationToken: cancel.Token).AsTask();
        await entered.Task.WaitAsync(s_limit);
        cancel.Cancel();
        Assert.That(async () => await first.WaitAsync(s_limit), Throws.InstanceOf<OperationCanceledException>());
        var late = hybrid.GetOrCreateAsync("late", _ => ValueTask.FromResult("late")).AsTask();
        gate.SetResult();
        Assert.That(await late.WaitAsync(s_limit), Is.EqualTo("late"));

        var failGate = Signal();
        var failEntered = Signal();
        var calls = 0;
        async ValueTask<string> Failing(CancellationToken ct)
        {
            Interlocked.Increment(ref calls);
            failEntered.TrySetResult();
            await failGate.Task.WaitAsync(s_limit, ct);
            throw new InvalidOperationException("source down");
        }

        var a = hybrid.GetOrCreateAsync("fails", Failing).AsTask();
        await failEntered.Task.WaitAsync(s_limit);
        var b = hybrid.GetOrCreateAsync("fails", Failing).AsTask();
        failGate.SetResult();
        Assert.That(async () => await a.WaitAsync(s_limit), Throws.InvalidOperationException);
        Assert.That(async () => await b.WaitAsync(s_limit), Throws.InvalidOperationException);
        Assert.That(calls, Is.InRange(1, 2));
        Assert.That(await Db.KeyExistsAsync("h:fails"), Is.False, "nothing stored");
        Assert.That(await hybrid.GetOrCreateAsync("fails", _ => ValueTask.FromResult("ok")), Is.EqualTo("ok"));
    }
}
