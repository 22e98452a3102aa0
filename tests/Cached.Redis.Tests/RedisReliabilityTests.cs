using System.Collections.Concurrent;
using System.Diagnostics;
using Cached.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>Generated methods on a Redis alias, for the fault tests: their bodies answer deterministically and are counted.</summary>
public partial class InventoryService
{
    public const string Alias = "reliability";

    private int _bodyCalls;

    public int BodyCalls => Volatile.Read(ref _bodyCalls);

    public static string Expected(int id) => "item-" + id;

    [Cached(Alias = Alias, Key = "item:{id}", Ttl = 30)]
    public partial string Get(int id);

    private string GetCore(int id)
    {
        Interlocked.Increment(ref _bodyCalls);
        return Expected(id);
    }

    [Cached(Alias = Alias, Key = "item-async:{id}", Ttl = 30)]
    public partial Task<string> GetAsync(int id);

    private Task<string> GetAsyncCore(int id)
    {
        Interlocked.Increment(ref _bodyCalls);
        return Task.FromResult(Expected(id));
    }
}

/// <summary>
/// Redis under faults, with generated methods in front: a server killed and restarted under load, a paused server,
/// and TLS with a certificate authority the test makes. Each test owns its server on a free loopback port.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class RedisReliabilityTests
{
    private readonly List<IDisposable> _disposables = [];

    [SetUp]
    public void SetUp() => Caches.Reset();

    [TearDown]
    public void TearDown()
    {
        Caches.Reset();
        CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
        foreach (var disposable in Enumerable.Reverse(_disposables))
        {
            disposable.Dispose();
        }

        _disposables.Clear();
    }

    private T Track<T>(T disposable)
        where T : IDisposable
    {
        _disposables.Add(disposable);
        return disposable;
    }

    [Test]
    public async Task Killed_and_restarted_under_load_generated_methods_stay_correct_and_the_cache_recovers_by_itself()
    {
        var server = Track(new RedisServer());
        var cache = Track(new RedisCache { ConnectionString = server.ConnectionString, Timeout = TimeSpan.FromMilliseconds(500) });
        Caches.AddInstance(InventoryService.Alias, cache);
        var service = new InventoryService();
        var unobserved = 0;
        EventHandler<UnobservedTaskExceptionEventArgs> onUnobserved = (_, _) => Interlocked.Increment(ref unobserved);
        TaskScheduler.UnobservedTaskException += onUnobserved;

        var wrong = new ConcurrentQueue<string>();
        var escaped = new ConcurrentQueue<Exception>();
        var calls = 0L;
        using var stop = new CancellationTokenSource();
        async Task Worker(int worker)
        {
            var random = new Random(worker);
            while (!stop.IsCancellationRequested)
            {
                var id = random.Next(50);
                try
                {
                    var value = worker % 2 == 0 ? service.Get(id) : await service.GetAsync(id);
                    if (value != InventoryService.Expected(id))
                    {
                        wrong.Enqueue($"{id} -> {value}");
                    }
                }
                catch (Exception ex)
                {
                    escaped.Enqueue(ex);
                }

                Interlocked.Increment(ref calls);
                await Task.Yield();
            }
        }

        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(() => Worker(w))).ToArray();
        await Task.Delay(TimeSpan.FromSeconds(1));
        var beforeKill = Interlocked.Read(ref calls);
        server.Stop();
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var whileDown = Interlocked.Read(ref calls) - beforeKill;
        server.Start();
        var restarted = Stopwatch.StartNew();
        TimeSpan? recovery = null;
        while (restarted.Elapsed < TimeSpan.FromSeconds(15))
        {
            try
            {
                cache.Set("probe", "ok");
                recovery = restarted.Elapsed;
                break;
            }
            catch (Exception ex) when (ex is CacheException or TimeoutException)
            {
                await Task.Delay(25);
            }
        }

        await Task.Delay(TimeSpan.FromSeconds(1));
        var bodyCallsBefore = service.BodyCalls;
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        var bodyCallsAfterRecovery = service.BodyCalls - bodyCallsBefore;
        await stop.CancelAsync();
        await Task.WhenAll(workers);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        TaskScheduler.UnobservedTaskException -= onUnobserved;

        TestContext.Out.WriteLine($"{Interlocked.Read(ref calls)} calls ({beforeKill} before the kill, {whileDown} while down), {service.BodyCalls} body calls, recovery {recovery?.TotalMilliseconds:F0} ms after restart, {bodyCallsAfterRecovery} body calls in the last 500 ms");
        Assert.Multiple(() =>
        {
            Assert.That(wrong, Is.Empty, "every answer was the right value");
            Assert.That(escaped, Is.Empty, "no exception escaped a generated method");
            Assert.That(whileDown, Is.GreaterThan(0), "calls went on while the server was down (fail-open)");
            Assert.That(recovery, Is.Not.Null.And.LessThan(TimeSpan.FromSeconds(10)), "the same cache instance recovered by itself");
            Assert.That(bodyCallsAfterRecovery, Is.LessThanOrEqualTo(100), "after recovery the 100 keys are served from the cache again");
            Assert.That(unobserved, Is.Zero, "no unobserved task exception");
        });
    }

    [Test]
    public async Task A_paused_server_makes_generated_methods_fall_back_to_their_body_within_the_timeout()
    {
        var server = Track(new RedisServer());
        using var admin = await ConnectionMultiplexer.ConnectAsync($"{server.ConnectionString},allowAdmin=true");
        var timeout = TimeSpan.FromMilliseconds(300);
        var cache = Track(new RedisCache { ConnectionString = server.ConnectionString, Timeout = timeout });
        Connections.WaitUntilConnected(cache);
        Caches.AddInstance(InventoryService.Alias, cache);
        var service = new InventoryService();
        service.Get(1);
        await service.GetAsync(1);

        var logs = new Cached.Tests.Runtime.RecordingLoggerFactory();
        CachedLogging.LoggerFactory = logs;
        // Far longer than both calls may take: falling back within the timeout is told apart from waiting it out.
        await admin.GetDatabase().ExecuteAsync("CLIENT", "PAUSE", "10000", "ALL");
        var watch = Stopwatch.StartNew();
        var sync = service.Get(2);
        var syncTook = watch.Elapsed;
        watch.Restart();
        var async = await service.GetAsync(2);
        var asyncTook = watch.Elapsed;

        TestContext.Out.WriteLine($"sync fallback after {syncTook.TotalMilliseconds:F0} ms, async after {asyncTook.TotalMilliseconds:F0} ms (timeout {timeout.TotalMilliseconds} ms)");
        Assert.Multiple(() =>
        {
            Assert.That((sync, async), Is.EqualTo((InventoryService.Expected(2), InventoryService.Expected(2))));
            // A miss reads once (timeout) and writes once (timeout): two timeouts at most, plus a second of slack for a
            // loaded machine, still far below the 10 s pause that a call without the timeout would wait out.
            Assert.That(syncTook, Is.LessThan(timeout * 2 + TimeSpan.FromSeconds(1)));
            Assert.That(asyncTook, Is.LessThan(timeout * 2 + TimeSpan.FromSeconds(1)));
            Assert.That(logs.Entries.Select(static e => e.Exception).ToList(), Has.Count.EqualTo(4).And.All.InstanceOf<TimeoutException>(), "a read and a write timed out per call, each logged");
        });

        // Closing a client sends QUIT and waits for the answer, which a paused server withholds: stop it first.
        server.Stop();
    }

    // ---- TLS --------------------------------------------------------------------------------------------------------

    [Test]
    public async Task TLS_with_a_private_authority_and_an_ACL_user_works_through_the_connection_string()
    {
        var files = Track(new TlsFiles());
        var server = Track(RedisServer.WithTls(files.CertificateFile, files.KeyFile, "--user", "app", "on", ">app-secret", "~*", "&*", "+@all", "--user", "default", "off"));
        var cache = Track(new RedisCache
        {
            ConnectionString = $"{server.ConnectionString},ssl=true,user=app,password=app-secret",
            TrustIssuer = files.CaFile,
            Timeout = TimeSpan.FromSeconds(3),
        });

        await cache.SetAsync("secure", "yes");

        Assert.Multiple(async () =>
        {
            Assert.That(await cache.GetAsync<string>("secure"), Is.EqualTo("yes"));
            Assert.That(cache.Get<string>("secure"), Is.EqualTo("yes"));
        });
    }

    [Test]
    public void TLS_refuses_a_server_whose_authority_is_not_trusted()
    {
        var files = Track(new TlsFiles());
        var server = Track(RedisServer.WithTls(files.CertificateFile, files.KeyFile));
        var cache = Track(new RedisCache { ConnectionString = $"{server.ConnectionString},ssl=true", Timeout = TimeSpan.FromSeconds(1) });

        Assert.Catch<CacheBackendException>(() => cache.Set("secure", "no"));
    }

    [Test]
    public void A_plain_client_cannot_talk_to_a_TLS_only_server()
    {
        var files = Track(new TlsFiles());
        var server = Track(RedisServer.WithTls(files.CertificateFile, files.KeyFile));
        var cache = Track(new RedisCache { ConnectionString = server.ConnectionString, Timeout = TimeSpan.FromSeconds(1) });

        Assert.Catch<CacheBackendException>(() => cache.Set("plain", "no"));
    }
}
