using System.Diagnostics;
using Cached.Redis.Tests.Infrastructure;
using static Cached.Redis.Tests.Infrastructure.BreakerChecks;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

public partial class BreakerSvc
{
    public const string Alias = "breaker";
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    [Cached(Alias = Alias, Ttl = 60, Key = "one:{id}")]
    public partial Task<string> OneAsync(int id);

    private Task<string> OneAsyncCore(int id) => Task.FromResult("v" + id + "-" + Interlocked.Increment(ref _calls));

    [Cached(Alias = Alias, Ttl = 60, Key = "tagged:{id}", Tags = new[] { "t:{id}" })]
    public partial Task<string> TaggedAsync(int id);

    private Task<string> TaggedAsyncCore(int id) => Task.FromResult("t" + id + "-" + Interlocked.Increment(ref _calls));

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60, Namespace = "many")]
    public partial Task<Dictionary<int, string>> ManyAsync(IReadOnlyList<int> ids);

    private Task<Dictionary<int, string>> ManyAsyncCore(IReadOnlyList<int> ids)
    {
        Interlocked.Increment(ref _calls);
        return Task.FromResult(ids.ToDictionary(static i => i, static i => "m" + i));
    }
}

/// <summary>
/// <see cref="BaseCache.CircuitBreakerDuration"/> on a real redis-server that stops answering: a loopback proxy holds
/// what the client sends (a hung server, a network that drops packets) while the server keeps its data. Each test has
/// its own server, so <c>INFO commandstats</c> counts exactly the commands that reached it.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class CircuitBreakerRedisTests
{
    // On the real clock: long enough that a stall of the test process or the server (seconds, on a loaded 2-core CI
    // machine) neither lets the breaker half-open before a check that it refuses at once, nor times out the probe
    // that closes it (a second probe would count one more GET).
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_open = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(30);
    private RedisServer _server = null!;
    private LoopbackProxy _proxy = null!;
    private ConnectionMultiplexer _admin = null!;
    private readonly List<IAsyncDisposable> _disposables = [];

    [SetUp]
    public async Task Start()
    {
        _server = new RedisServer();
        _proxy = new LoopbackProxy(_server.Port);
        _admin = await ConnectionMultiplexer.ConnectAsync(_server.ConnectionString + ",allowAdmin=true");
    }

    [TearDown]
    public async Task Stop()
    {
        _proxy.Release();
        await _disposables.DisposeAllAsync();
        _admin.Dispose();
        _proxy.Dispose();
        _server.Dispose();
    }

    private RedisCache Redis()
    {
        var cache = new RedisCache { ConnectionString = _proxy.ConnectionString, Timeout = s_timeout, CircuitBreakerDuration = s_open };
        _disposables.Add(cache);
        return cache;
    }

    /// <summary>How many times the server has run <paramref name="command"/>.</summary>
    private long Calls(string command) => CommandCalls(_admin.GetServer(_server.ConnectionString), command);

    private static async Task<CacheBackendException> Refused(Func<Task> command)
    {
        var refusal = await AsyncThrows<CacheBackendException>(command);
        Assert.That((refusal.CircuitOpen, refusal.Unreachable), Is.EqualTo((true, true)), refusal.Message);
        return refusal;
    }

    private static async Task<TException> AsyncThrows<TException>(Func<Task> command)
        where TException : Exception
    {
        try
        {
            await command();
        }
        catch (TException expected)
        {
            return expected;
        }

        Assert.Fail($"expected {typeof(TException).Name}");
        return null!;
    }

    [Test]
    public async Task A_server_that_stops_answering_costs_one_timeout_then_commands_fail_at_once_until_a_probe_finds_it_back()
    {
        var cache = Redis();
        await cache.SetAsync("k", "v");
        Assert.That(await cache.GetAsync<string>("k"), Is.EqualTo("v"));
        var gets = Calls("get"); // the warm-up's, connecting included
        _proxy.Hold();

        Assert.That(await AsyncThrows<TimeoutException>(() => cache.GetAsync<string>("k").AsTask()), Is.Not.Null);
        for (var i = 0; i < 5; i++)
        {
            var refusal = await Refused(() => cache.GetAsync<string>("k").AsTask());
            Assert.That(refusal.InnerException, Is.InstanceOf<TimeoutException>());
        }

        Assert.That(Assert.Throws<CacheBackendException>(() => cache.Get<string>("k"))!.CircuitOpen, Is.True);
        await Refused(() => cache.SetAsync("k", "w").AsTask());
        _proxy.Release();

        Assert.That(await ProbeUntilClosed(cache, "k"), Is.EqualTo("v"));
        Assert.That(await cache.GetAsync<string>("k"), Is.EqualTo("v"));
        // The read that timed out (sent once the proxy let it go), the probe and the one after it. (No sync read here: one
        // that blocks a thread of a 2-core machine's pool can starve the proxy's relay of its reply.)
        Assert.That(Calls("get"), Is.EqualTo(gets + 3), "the refused reads never reached the server");
    }

    [Test]
    public async Task A_sync_client_timeout_opens_it_too()
    {
        var cache = Redis();
        cache.Set("k", "v");
        _proxy.Hold();

        Assert.Throws(Is.InstanceOf<TimeoutException>(), () => cache.Get<string>("k"));
        Assert.That(Assert.Throws<CacheBackendException>(() => cache.Get<string>("k"))!.CircuitOpen, Is.True);
        await Refused(() => cache.ExistsAsync("k").AsTask());
        _proxy.Release();

        Assert.That(await ProbeUntilClosed(cache, "k"), Is.EqualTo("v"));
    }

    [Test]
    public async Task While_it_is_open_a_read_through_runs_its_factory_without_waiting_for_the_server()
    {
        var cache = Redis();
        await cache.SetAsync("warm", "x");
        _proxy.Hold();
        var calls = 0;

        // The read times out and opens it; the write of the factory's value is then refused at once.
        Assert.That(await cache.GetOrSetAsync("k", _ => ValueTask.FromResult("fresh" + Interlocked.Increment(ref calls))), Is.EqualTo("fresh1"));
        var getsWhenOpened = Calls("get");
        for (var i = 2; i <= 4; i++)
        {
            var call = cache.GetOrSetAsync("k", _ => ValueTask.FromResult("fresh" + Interlocked.Increment(ref calls)));
            Assert.That(call.IsCompleted, Is.True, "nothing waits for the server");
            Assert.That(await call, Is.EqualTo("fresh" + i));
        }

        _proxy.Release();
        Assert.That(await ProbeUntilClosed(cache, "k"), Is.Null, "no write reached the server while it was open");
        Assert.That(Calls("get"), Is.EqualTo(getsWhenOpened + 2), "the held read and the probe; none for the refused calls");
    }

    [Test]
    public async Task On_two_levels_writes_refused_while_it_is_open_are_kept_and_land_once_it_closes()
    {
        var l2 = Redis();
        var node = new MultiLevelCache(new SimpleMemoryCache(), l2);
        _disposables.Add(node);
        await node.SetAsync("a", "1");
        _proxy.Hold();

        await node.SetAsync("a", "2"); // times out on L2: kept, and opens L2's breaker
        var refusedWrite = node.SetAsync("b", "3");
        Assert.That(refusedWrite.IsCompleted, Is.True, "refused at once, kept for later");
        await refusedWrite;
        Assert.That((await node.GetAsync<string>("a"), await node.GetAsync<string>("b")), Is.EqualTo(("2", "3")), "L1 answers meanwhile");
        _proxy.Release();

        await using var direct = new RedisCache { ConnectionString = _server.ConnectionString };
        var waited = Stopwatch.StartNew();
        while ((await direct.GetAsync<string>("a"), await direct.GetAsync<string>("b")) != ("2", "3"))
        {
            Assert.That(waited.Elapsed, Is.LessThan(s_limit), "the kept writes land once L2's breaker lets them through");
            await Task.Delay(20);
        }
    }

    [Test]
    public async Task Generated_methods_run_their_bodies_at_once_while_it_is_open_and_hit_again_once_it_closes()
    {
        var cache = Redis();
        Caches.AddInstance(BreakerSvc.Alias, cache);
        try
        {
            var svc = new BreakerSvc();
            Assert.That(await svc.OneAsync(1), Is.EqualTo("v1-1"));
            Assert.That(await svc.OneAsync(1), Is.EqualTo("v1-1"), "a hit");
            _proxy.Hold();

            Assert.That(await svc.OneAsync(2), Is.EqualTo("v2-2"), "the read timed out: the body ran");
            var batchReads = Calls("mget");
            for (var id = 1; id <= 3; id++)
            {
                var call = svc.OneAsync(id);
                Assert.That(call.IsCompleted, Is.True, "nothing waits for the server");
                Assert.That(await call, Does.StartWith("v" + id + "-"));
            }

            var batch = svc.ManyAsync([1, 2]);
            Assert.That(batch.IsCompleted, Is.True);
            Assert.That(await batch, Is.EqualTo(new Dictionary<int, string> { [1] = "m1", [2] = "m2" }));
            // A tagged method also reads and keeps its tags' records beside its read and its write.
            var tagged = svc.TaggedAsync(7);
            Assert.That(tagged.IsCompleted, Is.True, "nor do a tagged method's tag records");
            Assert.That(await tagged, Is.EqualTo("t7-7"));
            Assert.That(svc.Calls, Is.EqualTo(7));
            _proxy.Release();

            var waited = Stopwatch.StartNew();
            while (await svc.OneAsync(1) != "v1-1")
            {
                Assert.That(waited.Elapsed, Is.LessThan(s_limit), "a hit again once a probe closed the breaker");
                await Task.Delay(20);
            }

            Assert.That(Calls("mget"), Is.EqualTo(batchReads), "the batch read was refused");
        }
        finally
        {
            Caches.Reset();
        }
    }

    [Test]
    public async Task On_two_levels_a_generated_method_logs_L2_s_timeout_and_the_breaker_once_not_each_refusal()
    {
        var logs = new RecordingLogs();
        CachedLogging.LoggerFactory = logs;
        var node = new MultiLevelCache(new SimpleMemoryCache(), Redis());
        _disposables.Add(node);
        Caches.AddInstance(BreakerSvc.Alias, node);
        try
        {
            var svc = new BreakerSvc();
            await node.SetAsync("warm", "x");
            _proxy.Hold();

            Assert.That(await svc.OneAsync(1), Is.EqualTo("v1-1"), "L2's read timed out: the body ran");
            for (var id = 2; id <= 5; id++)
            {
                var call = svc.OneAsync(id);
                Assert.That(call.IsCompleted, Is.True, "L2 refuses at once");
                Assert.That(await call, Is.EqualTo($"v{id}-{id}"));
            }

            Assert.That(logs.Ids.Count(static id => id == 1), Is.EqualTo(1), "one read failure logged: the timeout");
            Assert.That(logs.Ids.Count(static id => id == 14), Is.EqualTo(1), "the breaker opened, once");
        }
        finally
        {
            Caches.Reset();
            CachedLogging.LoggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
        }
    }
}
