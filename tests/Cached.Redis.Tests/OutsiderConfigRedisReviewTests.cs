using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// An outsider's check of replacing a Redis alias while calls run (docs/configuration.md, "Replacing a
/// configuration"), against the real redis-server: a command is held on the old instance with BLPOP, released by a
/// push from another connection (a gate, not a sleep), and the connections are counted with CLIENT LIST.
/// </summary>
[NonParallelizable]
public class OutsiderConfigRedisReviewTests
{
    internal const string Alias = "review_cfg";
    private static int s_tests;
    private string Client = "cached-review-cfg";
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(8);

    private FakeTimeProvider _time = null!;
    private ConnectionMultiplexer _admin = null!;
    private IServer _server = null!;

    [SetUp]
    public void SetUp()
    {
        // A client name per test: instances left by an earlier test (Caches.Reset disposes none) are not counted.
        Client = $"cached-review-cfg-{Interlocked.Increment(ref s_tests)}";
        Caches.Reset();
        _time = new FakeTimeProvider();
        Caches.TimeProvider = _time;
        _admin = ConnectionMultiplexer.Connect($"{SharedRedis.Server.ConnectionString},allowAdmin=true,name=cached-review-cfg-admin");
        _server = _admin.GetServer(_admin.GetEndPoints()[0]);
        ReviewSource.Calls = 0;
    }

    [TearDown]
    public void TearDown()
    {
        Caches.TryGetInstance(Alias)?.Dispose();
        Caches.Reset();
        _admin.Dispose();
    }

    private CacheConfig Redis(double timeout, string @namespace = "review-cfg") => new()
    {
        Cache = "Cached.Redis.RedisCache",
        // A changed Timeout makes a configuration of its own, with a multiplexer of its own.
        ["ConnectionString"] = $"{SharedRedis.Server.ConnectionString},name={Client}",
        ["Timeout"] = timeout.ToString(CultureInfo.InvariantCulture),
        ["Namespace"] = @namespace,
    };

    private CacheConfig TwoLevels(double timeout) => new()
    {
        Cache = "Cached.MultiLevelCache",
        L1 = new CacheConfig { Cache = "Cached.SimpleMemoryCache" },
        L2 = Redis(timeout),
    };

    private static void Configure(CacheConfig config)
        => Caches.SetConfig(new Dictionary<string, CacheConfig> { ["default"] = new() { Cache = "Cached.SimpleMemoryCache" }, [Alias] = config });

    private int ClientsNamed() => _server.ClientList().Count(c => c.Name == Client);

    /// <summary>The count of our clients once it is down to <paramref name="expected"/> (the server sees a close a moment later); the limit only ends a wait for connections that stay open.</summary>
    private int WaitForClients(int expected)
    {
        var waited = Stopwatch.StartNew();
        var count = ClientsNamed();
        while (count > expected && waited.Elapsed < s_limit)
        {
            Thread.Sleep(20);
            count = ClientsNamed();
        }

        return count;
    }

    /// <summary>Returns once a BLPOP on <paramref name="list"/> is blocked on the server.</summary>
    private void WaitUntilBlocked(string list)
    {
        var waited = Stopwatch.StartNew();
        while (!_server.ClientList().Any(c => c.Name == Client && (c.LastCommand ?? string.Empty).Contains("blpop", StringComparison.OrdinalIgnoreCase) && c.Flags.HasFlag(ClientFlags.Blocked)))
        {
            Assert.That(waited.Elapsed, Is.LessThan(s_limit), "the BLPOP never blocked on the server");
            Thread.Sleep(10);
        }
    }

    [Test]
    public async Task A_command_running_on_a_replaced_RedisCache_alias_finishes_and_then_its_connection_closes()
    {
        Configure(Redis(5));
        var old = Caches.Get(Alias);
        old.Set("warm", 1);
        var steady = ClientsNamed();
        const string list = "review-cfg:gate:plain";
        await _admin.GetDatabase().KeyDeleteAsync(list);
        var held = old.RawAsync("BLPOP", [list, "6"]).AsTask();
        WaitUntilBlocked(list);

        Configure(Redis(6));
        Caches.Get(Alias).Set("warm", 2);
        _time.Advance(Caches.ReplacedInstanceGrace);
        var whileHeld = ClientsNamed();
        await _admin.GetDatabase().ListLeftPushAsync(list, "go");

        var answer = await held.WaitAsync(s_limit);
        await Caches.WhenDisposed(old).WaitAsync(s_limit);
        var after = WaitForClients(steady);
        TestContext.Out.WriteLine($"clients named {Client}: {steady} steady, {whileHeld} while held, {after} after");
        Assert.Multiple(() =>
        {
            Assert.That(answer, Is.Not.Null, "BLPOP answered on the old connection");
            Assert.That(whileHeld, Is.EqualTo(2 * steady), "the old connection stays open while its command runs");
            Assert.That(after, Is.EqualTo(steady), "the replaced cache closed its connection once the command ended");
            Assert.That(Caches.Get(Alias).Get<int>("warm"), Is.EqualTo(2));
        });
        Caches.Get(Alias).Delete("warm");
    }

    /// <summary>
    /// The same for a two-level alias (docs/multilevel.md#configuration: "A two-level alias in appsettings.json nests
    /// L1, L2 and Backplane"): the replaced MultiLevelCache is disposed when the grace period ends whatever runs on it,
    /// so its L2's connection is closed under the running command, which fails (and the disposal blocks the grace
    /// timer's thread while the client waits for that command).
    /// </summary>
    [Test]
    public async Task A_command_running_on_a_replaced_two_level_Redis_alias_finishes_before_its_connection_closes()
    {
        Configure(TwoLevels(5));
        var old = Caches.Get(Alias);
        old.Set("warm", 1);
        const string list = "review-cfg:gate:levels";
        await _admin.GetDatabase().KeyDeleteAsync(list);
        var held = old.RawAsync("BLPOP", [list, "6"]).AsTask();
        WaitUntilBlocked(list);

        Configure(TwoLevels(6));
        var clock = Stopwatch.StartNew();
        _time.Advance(Caches.ReplacedInstanceGrace);
        TestContext.Out.WriteLine($"the end of the grace period (its disposal runs there) took {clock.ElapsedMilliseconds} ms; command completed meanwhile: {held.IsCompleted}");
        await _admin.GetDatabase().ListLeftPushAsync(list, "go");

        object? answer = null;
        Exception? failure = null;
        try
        {
            answer = await held.WaitAsync(s_limit);
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        TestContext.Out.WriteLine($"held command: {(failure is null ? "answered" : failure.GetType().Name + ": " + failure.Message)}");
        Assert.Multiple(() =>
        {
            Assert.That(failure, Is.Null, "a command already running finishes on its connection first");
            Assert.That(answer, Is.Not.Null);
        });
        Caches.Get(Alias).Delete("warm");
    }

    /// <summary>
    /// Generated [Cached] methods, sync and async, under load while ten reloads with a changed Redis setting replace
    /// the alias and each grace period ends: no call fails, and once the last grace period has passed the reloads
    /// leave as many connections open as one configuration.
    /// </summary>
    [Test]
    public async Task Generated_methods_under_load_survive_ten_reloads_and_leave_no_connection_behind()
    {
        Configure(Redis(5));
        var service = new ReviewConfigService();
        Assert.That(await service.GetAsync(0), Is.EqualTo("value:0"));
        var steady = ClientsNamed();
        var failures = new ConcurrentQueue<Exception>();
        var calls = 0L;
        using var stop = new CancellationTokenSource();

        async Task Worker(int worker)
        {
            var i = 0;
            while (!stop.IsCancellationRequested)
            {
                var id = (worker * 10) + (i++ % 10);
                try
                {
                    var value = (worker & 1) == 0 ? await service.GetAsync(id) : service.Get(id);
                    if (value != $"value:{id}")
                    {
                        failures.Enqueue(new InvalidOperationException($"{id} read {value}"));
                    }

                    Interlocked.Increment(ref calls);
                }
                catch (Exception ex)
                {
                    failures.Enqueue(ex);
                }
            }
        }

        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(() => Worker(w))).ToArray();
        for (var reload = 1; reload <= 10; reload++)
        {
            Configure(Redis(5 + (reload / 10.0)));
            var before = Interlocked.Read(ref calls);
            var waited = Stopwatch.StartNew();
            while (Interlocked.Read(ref calls) < before + 20 && waited.Elapsed < s_limit)
            {
                await Task.Delay(1);
            }

            _time.Advance(Caches.ReplacedInstanceGrace);
        }

        stop.Cancel();
        await Task.WhenAll(workers).WaitAsync(s_limit);
        var after = WaitForClients(steady);
        TestContext.Out.WriteLine($"{Interlocked.Read(ref calls)} calls, {failures.Count} failed; clients named {Client}: {steady} steady, {after} after");
        Assert.Multiple(() =>
        {
            Assert.That(failures, Is.Empty);
            Assert.That(after, Is.EqualTo(steady), "ten reloads leave as many connections as one");
        });
        Caches.Get(Alias).Clear();
    }

    /// <summary>
    /// An instance from <c>Caches.Create</c> is the caller's (docs): it keeps working when the alias's own instance,
    /// made with the same settings (so sharing its connection), is replaced and disposed.
    /// </summary>
    [Test]
    public void A_created_instance_sharing_the_connection_keeps_working_after_the_alias_instance_is_disposed()
    {
        Configure(Redis(5));
        var made = Caches.Get(Alias);
        using var mine = Caches.Create(Alias);
        made.Set("shared", 1);
        Assert.That(mine.Get<int>("shared"), Is.EqualTo(1));

        Configure(Redis(7));
        _time.Advance(Caches.ReplacedInstanceGrace);
        Caches.WhenDisposed(made).Wait(s_limit);

        Assert.Multiple(() =>
        {
            Assert.Throws<ObjectDisposedException>(() => made.Get<int>("shared"));
            Assert.That(mine.Set("shared", 2), Is.True, "the created instance is the caller's and still connected");
            Assert.That(mine.Get<int>("shared"), Is.EqualTo(2));
        });
        mine.Delete("shared");
    }

    // ---- From a URL, against aiocache's from_url ----

    [Test]
    public void A_redis_url_reads_escaped_credentials_the_first_path_segment_and_lets_the_path_win_over_a_db_parameter()
    {
        var port = SharedRedis.Server.Port;
        var cache = (RedisCache)Cache.FromUrl($"redis://app:p%40ss%3Aw@127.0.0.1:{port}/3/9?namespace=main&timeout=1.5&db=5&password=ignored");

        Assert.Multiple(() =>
        {
            Assert.That(cache.User, Is.EqualTo("app"));
            Assert.That(cache.Password, Is.EqualTo("p@ss:w"), "the URL's password wins over ?password=, unescaped");
            Assert.That(cache.Database, Is.EqualTo(3), "aiocache: parse_uri_path('/3/9') == {'db': '3'}, applied after the query");
            Assert.That(cache.Port, Is.EqualTo(port));
            Assert.That(cache.Namespace, Is.EqualTo("main"));
            Assert.That(cache.Timeout, Is.EqualTo(TimeSpan.FromSeconds(1.5)));
        });
    }

    [Test]
    public void A_redis_url_with_a_database_that_is_not_a_number_names_the_setting()
    {
        var ex = Assert.Throws<CacheConfigurationException>(() => Cache.FromUrl($"redis://127.0.0.1:{SharedRedis.Server.Port}/zero"));
        var negative = Assert.Throws<CacheConfigurationException>(() => Cache.FromUrl($"redis://127.0.0.1:{SharedRedis.Server.Port}?db=-1"));

        Assert.Multiple(() =>
        {
            Assert.That(ex!.Message, Does.Contain("Database"));
            Assert.That(negative!.Message, Does.Contain("db"));
        });
    }

    [Test]
    public void A_redis_url_cache_works_against_the_server_with_its_database()
    {
        using var cache = Cache.FromUrl($"redis://127.0.0.1:{SharedRedis.Server.Port}/4?namespace=review-url");
        cache.Set("k", "v");

        Assert.Multiple(() =>
        {
            Assert.That(cache.Get<string>("k"), Is.EqualTo("v"));
            Assert.That(_admin.GetDatabase(4).KeyExists("review-url:k"), Is.True, "written to database 4 under ns:key");
            Assert.That(_admin.GetDatabase(0).KeyExists("review-url:k"), Is.False);
        });
        cache.Delete("k");
    }
}

/// <summary>What the generated methods of <see cref="ReviewConfigService"/> compute.</summary>
internal static class ReviewSource
{
    public static int Calls;
}

/// <summary>Generated [Cached] methods on the alias the review replaces.</summary>
public partial class ReviewConfigService
{
    [Cached(Alias = OutsiderConfigRedisReviewTests.Alias, Key = "item:{id}", Ttl = 60)]
    public partial Task<string> GetAsync(int id);

    private Task<string> GetAsyncCore(int id)
    {
        Interlocked.Increment(ref ReviewSource.Calls);
        return Task.FromResult($"value:{id}");
    }

    [Cached(Alias = OutsiderConfigRedisReviewTests.Alias, Key = "item:{id}", Ttl = 60)]
    public partial string Get(int id);

    private string GetCore(int id)
    {
        Interlocked.Increment(ref ReviewSource.Calls);
        return $"value:{id}";
    }
}
