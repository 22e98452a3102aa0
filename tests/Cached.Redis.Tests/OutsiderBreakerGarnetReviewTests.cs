using System.Diagnostics;
using Cached.Redis.Tests.Infrastructure;
using static Cached.Redis.Tests.Infrastructure.BreakerChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// An outside review of <see cref="BaseCache.CircuitBreakerDuration"/> on Microsoft Garnet (the <c>garnet-server</c>
/// tool, <c>CACHED_GARNET_SERVER</c>; ignored where it is not installed): one Garnet for the fixture, and per test a
/// loopback proxy in front of it that holds what the client sends (a hung server) or cuts it (a killed one). What
/// reached the server is read on an admin connection that bypasses the proxy. Timeouts and the breaker run on a test
/// clock, except for the killed server, whose client reconnects in real time.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderBreakerGarnetReviewTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_open = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(20);
    private GarnetServer _garnet = null!;
    private ConnectionMultiplexer _admin = null!;
    private GarnetWithAdmin? _fixture;
    private LoopbackProxy _proxy = null!;
    private FakeTimeProvider _time = null!;
    private RecordingLogs _logs = null!;
    private readonly List<IAsyncDisposable> _disposables = [];

    private IServer Server => _admin.GetServer(_admin.GetEndPoints()[0]);

    [OneTimeSetUp]
    public void StartGarnet()
    {
        _fixture = GarnetWithAdmin.Start("outsider-breaker-garnet-admin");
        (_garnet, _admin) = (_fixture.Garnet, _fixture.Admin);
    }

    [OneTimeTearDown]
    public void StopGarnet() => _fixture?.Dispose();

    [SetUp]
    public void Start()
    {
        Caches.Reset();
        Server.FlushAllDatabases();
        _proxy = new LoopbackProxy(_garnet.Port);
        _time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        CachedLogging.LoggerFactory = _logs = new RecordingLogs();
    }

    [TearDown]
    public async Task Stop()
    {
        CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
        Caches.Reset();
        _proxy.Release();
        _proxy.Restore();
        await _disposables.DisposeAllAsync();
        _proxy.Dispose();
        Server.FlushAllDatabases();
    }

    private RedisCache OnTestClock()
    {
        var cache = new RedisCache { ConnectionString = _proxy.ConnectionString, Namespace = "gb", Timeout = s_timeout, CircuitBreakerDuration = s_open, TimeProvider = _time };
        _disposables.Add(cache);
        return cache;
    }

    private int Logged(int eventId) => _logs.Ids.Count(id => id == eventId);

    private Task OpenWithATimeout(RedisCache cache) => BreakerChecks.OpenWithATimeout(cache, _proxy, _time, s_timeout, "opener", thenRefused: false);

    [Test]
    public async Task A_hung_Garnet_costs_one_timeout_then_commands_are_refused_without_reaching_it_until_a_probe_closes_it()
    {
        var cache = OnTestClock();
        await cache.SetAsync("k", "v");
        await OpenWithATimeout(cache);

        var refusal = RefusedAtOnce(cache.SetAsync("k", "w"));
        Assert.That(refusal.InnerException, Is.InstanceOf<TimeoutException>(), "the fault that opened it");
        RefusedAtOnce(cache.IncrementAsync("n"));
        Assert.That(Assert.Throws<CacheBackendException>(() => cache.Delete("k"))!.CircuitOpen, Is.True, "a sync caller too");
        Assert.That(Logged(14), Is.EqualTo(1));

        _proxy.Release();
        _time.Advance(s_open);
        Assert.That(await cache.GetAsync<string>("k"), Is.EqualTo("v"), "the probe; the refused write and delete never reached Garnet");
        Assert.That(await _admin.GetDatabase().KeyExistsAsync("gb:n"), Is.False, "the refused increment never reached Garnet");
        await cache.SetAsync("k", "w");
        Assert.That(await cache.GetAsync<string>("k"), Is.EqualTo("w"), "closed");
        Assert.That((Logged(14), Logged(15)), Is.EqualTo((1, 1)));
    }

    [Test]
    public async Task Tagged_methods_and_batches_on_Garnet_run_their_bodies_at_once_while_open_and_hit_once_a_probe_closes_it()
    {
        var cache = OnTestClock();
        Caches.AddInstance(BreakerHostingSvc.Alias, cache);
        var svc = new BreakerHostingSvc();
        int[] ids = [1, 2, 3];
        Assert.That(svc.Tagged(7), Is.EqualTo("t7-1"));
        var filled = await svc.ManyAsync(ids);
        await OpenWithATimeout(cache);

        Assert.That(svc.Tagged(8), Is.EqualTo("t8-3"), "the body, at once (a sync call would otherwise wait a timeout)");
        var batch = svc.ManyAsync([4, 5]);
        Assert.That(batch.IsCompleted, Is.True, "tag records refused too: no wait");
        Assert.That((await batch).Count, Is.EqualTo(2));

        _proxy.Release();
        _time.Advance(s_open);
        Assert.That(svc.Tagged(7), Is.EqualTo("t7-1"), "the probe's call hits: its tags read again once it closed");
        Assert.That(await svc.ManyAsync(ids), Is.EqualTo(filled), "a hit");
        Assert.That(svc.Calls, Is.EqualTo(4), "no body ran after the close");
        Assert.That(await _admin.GetDatabase().KeyExistsAsync("gb:tagged:8"), Is.False, "the write while open was skipped");
        Assert.That((Logged(14), Logged(15)), Is.EqualTo((1, 1)));
    }

    [Test]
    public async Task A_probe_its_caller_cancels_on_a_hung_Garnet_neither_closes_nor_reopens_it()
    {
        var cache = OnTestClock();
        await cache.SetAsync("k", "v");
        await OpenWithATimeout(cache);
        _time.Advance(s_open);

        using var cancel = new CancellationTokenSource();
        var probe = cache.GetAsync<string>("k", cancellationToken: cancel.Token);
        Assert.That(probe.IsCompleted, Is.False, "the probe is out");
        await cancel.CancelAsync();
        Assert.That(async () => await probe, Throws.InstanceOf<OperationCanceledException>());
        RefusedAtOnce(cache.GetAsync<string>("k"));
        Assert.That(Logged(15), Is.EqualTo(0));

        _proxy.Release();
        _time.Advance(s_open);
        Assert.That(await cache.GetAsync<string>("k"), Is.EqualTo("v"));
        Assert.That((Logged(14), Logged(15)), Is.EqualTo((1, 1)));
    }

    [Test]
    public async Task A_killed_Garnet_opens_it_and_a_probe_closes_it_once_it_is_back()
    {
        // Seconds on the real clock, so that a stall of a loaded CI machine cannot half-open the breaker before the refusal is checked.
        var cache = new RedisCache { ConnectionString = _proxy.ConnectionString, Namespace = "gb", Timeout = TimeSpan.FromSeconds(2), CircuitBreakerDuration = TimeSpan.FromSeconds(5) };
        _disposables.Add(cache);
        await cache.SetAsync("k", "v");
        _proxy.Cut();

        var down = Assert.CatchAsync(async () => await cache.GetAsync<string>("k"));
        Assert.That(down, Is.InstanceOf<TimeoutException>().Or.InstanceOf<CacheBackendException>().With.Property(nameof(CacheBackendException.Unreachable)).True, down!.ToString());
        RefusedAtOnce(cache.GetAsync<string>("k"));

        _proxy.Restore();
        var waited = Stopwatch.StartNew();
        string? read;
        while (true)
        {
            try
            {
                read = await cache.GetAsync<string>("k");
                break;
            }
            catch (Exception again) when (again is TimeoutException or CacheBackendException { Unreachable: true } && waited.Elapsed < s_limit)
            {
                await Task.Delay(20);
            }
        }

        Assert.That(read, Is.EqualTo("v"));
        Assert.That((Logged(14), Logged(15)), Is.EqualTo((1, 1)));
    }
}
