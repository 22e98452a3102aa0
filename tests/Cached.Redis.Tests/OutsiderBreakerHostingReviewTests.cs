using System.Diagnostics;
using System.Text;
using Cached.Redis.Tests.Infrastructure;
using static Cached.Redis.Tests.Infrastructure.BreakerChecks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>Generated methods over the hosting review's alias, counted.</summary>
public partial class BreakerHostingSvc
{
    public const string Alias = "outsider-breaker-hosting";

    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    [Cached(Alias = Alias, Ttl = 60, Key = "one:{id}")]
    public partial Task<string> OneAsync(int id, CancellationToken ct = default);

    private Task<string> OneAsyncCore(int id, CancellationToken ct) => Task.FromResult(Next("o", id));

    [Cached(Alias = Alias, Ttl = 60, Key = "tagged:{id}", Tags = new[] { "t:{id}" })]
    public partial string Tagged(int id);

    private string TaggedCore(int id) => Next("t", id);

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60, Namespace = "hb-many", Tags = new[] { "t:{ids}" })]
    public partial Task<Dictionary<int, string>> ManyAsync(IReadOnlyList<int> ids, CancellationToken ct = default);

    private Task<Dictionary<int, string>> ManyAsyncCore(IReadOnlyList<int> ids, CancellationToken ct)
    {
        Interlocked.Increment(ref _calls);
        return Task.FromResult(ids.ToDictionary(static i => i, static i => "m" + i));
    }

    private string Next(string prefix, int id) => $"{prefix}{id}-{Interlocked.Increment(ref _calls)}";
}

/// <summary>
/// An outside review of <see cref="BaseCache.CircuitBreakerDuration"/> as a host configures it (<c>AddCached</c> with a
/// configuration section, the builder's <c>AddCache</c>), on a two-level alias, and of sync callers, locks and callers
/// that cancel while it is open or its probe is out. A real redis-server per test behind a loopback proxy that holds
/// what the client sends (a hung server); <c>INFO commandstats</c> counts what reached it.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderBreakerHostingReviewTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_open = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(20);
    private RedisServer _server = null!;
    private LoopbackProxy _proxy = null!;
    private ConnectionMultiplexer _admin = null!;
    private FakeTimeProvider _time = null!;
    private RecordingLogs _logs = null!;
    private readonly List<IAsyncDisposable> _disposables = [];

    [SetUp]
    public async Task Start()
    {
        Caches.Reset();
        _server = new RedisServer();
        _proxy = new LoopbackProxy(_server.Port);
        _admin = await ConnectionMultiplexer.ConnectAsync(_server.ConnectionString + ",allowAdmin=true");
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
        _admin.Dispose();
        _proxy.Dispose();
        _server.Dispose();
    }

    private static IConfigurationSection Section(string json)
        => new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build().GetSection("Cached");

    private RedisCache OnTestClock()
    {
        var cache = new RedisCache { ConnectionString = _proxy.ConnectionString, Timeout = s_timeout, CircuitBreakerDuration = s_open, TimeProvider = _time };
        _disposables.Add(cache);
        return cache;
    }

    private long Calls(params string[] commands) => CommandCalls(_admin.GetServer(_server.ConnectionString), commands);

    private int Logged(int eventId) => _logs.Ids.Count(id => id == eventId);

    private Task OpenWithATimeout(RedisCache cache) => BreakerChecks.OpenWithATimeout(cache, _proxy, _time, s_timeout, "opener");

    [Test]
    public async Task AddCached_from_configuration_gives_the_container_and_generated_methods_one_breaker_in_seconds_snake_case_too()
    {
        var services = new ServiceCollection();
        services.AddCached(Section($$"""
            { "Cached": {
                "default": { "Cache": "Cached.SimpleMemoryCache" },
                "{{BreakerHostingSvc.Alias}}": { "Cache": "Cached.Redis.RedisCache", "ConnectionString": "{{_proxy.ConnectionString}}", "Timeout": 0.5, "circuit_breaker_duration": 1.5 } } }
            """));
        await using var provider = services.BuildServiceProvider();
        var cache = provider.GetRequiredKeyedService<ICache>(BreakerHostingSvc.Alias);
        Assert.That(((BaseCache)cache).CircuitBreakerDuration, Is.EqualTo(TimeSpan.FromSeconds(1.5)));
        Assert.That(Caches.Get(BreakerHostingSvc.Alias), Is.SameAs(cache), "the container and Caches share the instance");
        var svc = new BreakerHostingSvc();
        Assert.That(await svc.OneAsync(1), Is.EqualTo("o1-1"));
        var gets = Calls("get");

        _proxy.Hold();
        Assert.ThrowsAsync<TimeoutException>(async () => await cache.GetAsync<string>("k"), "one timeout opens it");
        var body = svc.OneAsync(1);
        Assert.That(body.IsCompleted, Is.True, "the generated method meets the container's breaker open");
        Assert.That(await body, Is.EqualTo("o1-2"));
        Assert.That(Logged(14), Is.EqualTo(1));

        _proxy.Release();
        Assert.That(await ProbeUntilClosed(cache, "k"), Is.Null);
        Assert.That(await svc.OneAsync(1), Is.EqualTo("o1-1"), "a hit again: the write while open was skipped");
        Assert.That(Calls("get"), Is.EqualTo(gets + 3), "the read that timed out, the probe and the hit; none while open");
        Assert.That(Logged(15), Is.EqualTo(1));
    }

    [Test]
    public async Task The_builder_s_two_level_alias_from_configuration_keeps_L2_writes_while_open_and_lands_them_before_the_container_ends()
    {
        var services = new ServiceCollection();
        services.AddCached(cached => cached.FromConfiguration(Section($$"""
            { "Cached": {
                "default": { "Cache": "Cached.SimpleMemoryCache" },
                "two": { "Cache": "Cached.MultiLevelCache", "L1": { "Cache": "Cached.SimpleMemoryCache" },
                         "L2": { "Cache": "Cached.Redis.RedisCache", "ConnectionString": "{{_proxy.ConnectionString}}", "Timeout": 0.5, "CircuitBreakerDuration": "00:00:01.5" } } } }
            """)));
        var provider = services.BuildServiceProvider();
        try
        {
            var node = (MultiLevelCache)provider.GetRequiredKeyedService<ICache>("two");
            Assert.That(((BaseCache)node.L2).CircuitBreakerDuration, Is.EqualTo(TimeSpan.FromSeconds(1.5)), "TimeSpan text binds too");
            await node.SetAsync("a", "1");
            var sets = Calls("set");
            _proxy.Hold();
            await node.SetAsync("a", "2"); // times out on L2 (0.5 s): kept, and opens L2's breaker
            var write = node.SetAsync("b", "3");
            Assert.That(write.IsCompleted, Is.True, "refused on L2 at once, kept");
            await write;
            Assert.That(node.PendingWriteCount, Is.EqualTo(2));
            Assert.That(_logs.Messages.Where(static m => m.Contains("circuit breaker is open", StringComparison.Ordinal)), Has.Some.Contains("'two"), "event 14 names the alias whose L2 opened");
            Assert.That(Calls("set"), Is.EqualTo(sets), "the held write has not reached the server yet, the refused one never did");

            _proxy.Release();
            var waited = Stopwatch.StartNew();
            while (node.PendingWriteCount > 0)
            {
                Assert.That(waited.Elapsed, Is.LessThan(s_limit), "the kept writes land once a probe closes L2's breaker");
                await Task.Delay(20);
            }

            var db = _admin.GetDatabase();
            Assert.That(((string?)await db.StringGetAsync("a"), (string?)await db.StringGetAsync("b")), Is.Not.EqualTo(((string?)null, (string?)null)));
            Assert.That(await ((BaseCache)node.L2).GetAsync<string>("b"), Is.EqualTo("3"));
            Assert.That(await ((BaseCache)node.L2).GetAsync<string>("a"), Is.EqualTo("2"));
        }
        finally
        {
            await provider.DisposeAsync();
        }
    }

    [Test]
    public void A_breaker_set_on_the_two_level_alias_itself_is_refused_at_start_up_naming_the_setting()
    {
        // docs/resilience.md: "on two levels, on L2". A MultiLevelCache has no breaker of its own; docs/configuration.md
        // "each setting names a property": a setting in the wrong place must not be silently dropped.
        var services = new ServiceCollection();
        var thrown = Assert.Catch(() => services.AddCached(Section($$"""
            { "Cached": {
                "default": { "Cache": "Cached.SimpleMemoryCache" },
                "two": { "Cache": "Cached.MultiLevelCache", "CircuitBreakerDuration": 5, "L1": { "Cache": "Cached.SimpleMemoryCache" },
                         "L2": { "Cache": "Cached.Redis.RedisCache", "ConnectionString": "{{_proxy.ConnectionString}}" } } } }
            """)));
        Assert.That(thrown, Is.InstanceOf<CacheConfigurationException>());
        Assert.That(thrown!.Message, Does.Contain("two:CircuitBreakerDuration"));
    }

    [Test]
    public async Task A_body_or_factory_that_times_out_or_is_cancelled_on_its_own_does_not_open_it()
    {
        // "What opens it: a command that fails because the backend did not answer". A method's body is no command: a
        // downstream call of its that times out (HttpClient's TaskCanceledException, a TimeoutException) says nothing
        // of the cache.
        var cache = OnTestClock();
        await cache.SetAsync("k", "v");
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1) };
        Assert.That(async () => await cache.GetOrSetAsync<string>("a", static _ => throw new TimeoutException("downstream"), options), Throws.InstanceOf<TimeoutException>());
        Assert.That(async () => await cache.GetOrSetAsync<string>("b", static _ => throw new TaskCanceledException("downstream"), options), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(() => cache.GetOrSet<string>("c", static _ => throw new TimeoutException("downstream"), options), Throws.InstanceOf<TimeoutException>());

        var read = cache.GetAsync<string>("k");
        Assert.That(await read, Is.EqualTo("v"), "not refused");
        Assert.That(Logged(14), Is.EqualTo(0));
    }

    [Test]
    public async Task A_second_caller_of_a_generated_method_does_not_wait_on_the_first_one_s_probe_and_the_first_one_s_cancellation_closes_nothing()
    {
        var cache = OnTestClock();
        Caches.AddInstance(BreakerHostingSvc.Alias, cache);
        var svc = new BreakerHostingSvc();
        Assert.That(await svc.OneAsync(1), Is.EqualTo("o1-1"));
        await OpenWithATimeout(cache);
        _time.Advance(s_open);

        using var cancel = new CancellationTokenSource();
        var probe = svc.OneAsync(1, cancel.Token);
        Assert.That(probe.IsCompleted, Is.False, "its read is the probe, held");
        var second = svc.OneAsync(1);
        Assert.That(second.IsCompleted, Is.True, "the same key's second caller is refused at once and runs the body, not waiting on the probe");
        Assert.That(await second, Is.EqualTo("o1-2"));
        await cancel.CancelAsync();
        Assert.That(async () => await probe, Throws.InstanceOf<OperationCanceledException>());
        RefusedAtOnce(cache.GetAsync<string>("other"));
        Assert.That(Logged(15), Is.EqualTo(0), "the caller's cancellation closed nothing");

        _proxy.Release();
        _time.Advance(s_open);
        Assert.That(await svc.OneAsync(1), Is.EqualTo("o1-1"), "the next probe finds the entry: the body's value while open was not written");
        Assert.That((svc.Calls, Logged(14), Logged(15)), Is.EqualTo((2, 1, 1)));
    }

    [Test]
    public async Task A_call_with_an_already_cancelled_token_after_the_duration_does_not_use_up_the_probe()
    {
        // The probe is "the next command [that] goes through and tries the backend". One whose caller had already
        // cancelled tries nothing: the next command must still be the probe, not be refused for another duration.
        var cache = OnTestClock();
        await cache.SetAsync("k", "v");
        await OpenWithATimeout(cache);
        _proxy.Release();
        _time.Advance(s_open);

        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        Assert.That(async () => await cache.GetAsync<string>("k", cancellationToken: cancelled.Token), Throws.InstanceOf<OperationCanceledException>());
        var next = cache.GetAsync<string>("k");
        Assert.That(next.IsCompleted && next.IsFaulted, Is.False, "the server answers: the next read is the probe, not refused");
        Assert.That(await next, Is.EqualTo("v"));
        Assert.That(Logged(15), Is.EqualTo(1));
    }

    [Test]
    public async Task A_sync_tagged_call_whose_entry_read_is_the_probe_hits()
    {
        // The async form is covered by OutsiderBreakerReviewTests; docs: "A tagged call reads its tags beside its entry:
        // when those met the breaker open and the entry's read, the probe, closed it, they are read again, and the call
        // is a hit."
        var cache = OnTestClock();
        Caches.AddInstance(BreakerHostingSvc.Alias, cache);
        var svc = new BreakerHostingSvc();
        Assert.That(svc.Tagged(9), Is.EqualTo("t9-1"));
        await OpenWithATimeout(cache);
        _proxy.Release();
        _time.Advance(s_open);

        Assert.That(svc.Tagged(9), Is.EqualTo("t9-1"), "a hit");
        Assert.That((svc.Calls, Logged(15)), Is.EqualTo((1, 1)));
    }

    [Test]
    public async Task A_tagged_MultiCached_batch_whose_read_is_the_probe_hits()
    {
        var cache = OnTestClock();
        Caches.AddInstance(BreakerHostingSvc.Alias, cache);
        var svc = new BreakerHostingSvc();
        int[] ids = [1, 2, 3];
        var filled = await svc.ManyAsync(ids);
        await OpenWithATimeout(cache);
        _proxy.Release();
        _time.Advance(s_open);

        Assert.That(await svc.ManyAsync(ids), Is.EqualTo(filled));
        Assert.That((svc.Calls, Logged(15)), Is.EqualTo((1, 1)), "a hit, and the breaker closed");
    }

    [Test]
    public async Task A_lock_take_that_is_the_probe_and_that_its_caller_cancels_leaves_it_open_and_no_lock_behind()
    {
        var cache = OnTestClock();
        await cache.SetAsync("k", "v");
        await OpenWithATimeout(cache);
        _time.Advance(s_open);
        var scripts = Calls("eval", "evalsha");

        using var cancel = new CancellationTokenSource();
        var taking = RedLock.AcquireAsync(cache, "job", TimeSpan.FromMinutes(10), cancellationToken: cancel.Token);
        Assert.That(taking.IsCompleted, Is.False, "the take is the probe, held");
        RefusedAtOnce(cache.GetAsync<string>("k"));
        await cancel.CancelAsync();
        Assert.That(async () => await taking, Throws.InstanceOf<OperationCanceledException>());
        RefusedAtOnce(cache.GetAsync<string>("k"));
        Assert.That(Logged(15), Is.EqualTo(0), "the caller's cancellation closes nothing");

        _proxy.Release();
        var waited = Stopwatch.StartNew();
        while (Calls("eval", "evalsha") == scripts)
        {
            Assert.That(waited.Elapsed, Is.LessThan(s_limit), "the release behind the cancelled take reaches the server");
            await Task.Delay(20);
        }

        Assert.That(await _admin.GetDatabase().KeyExistsAsync("job-lock"), Is.False, "the late take was undone: no lock for the whole lease");
        RefusedAtOnce(cache.GetAsync<string>("k"));
        _time.Advance(s_open);
        await using var again = await RedLock.AcquireAsync(cache, "job", TimeSpan.FromMinutes(10));
        Assert.That(again.IsAcquired, Is.True, "the next probe, a take, closes it");
        Assert.That((Logged(14), Logged(15)), Is.EqualTo((1, 1)));
    }

    [Test]
    public async Task A_sync_probe_on_a_still_hung_server_reopens_it_without_another_event_14_and_a_sync_probe_closes_it_later()
    {
        // Sync commands are bounded by the client's own (real-time) timeout.
        var cache = new RedisCache { ConnectionString = _proxy.ConnectionString, Timeout = TimeSpan.FromMilliseconds(300), CircuitBreakerDuration = s_open, TimeProvider = _time };
        _disposables.Add(cache);
        cache.Set("k", "v");
        _proxy.Hold();
        Assert.That(() => cache.Get<string>("k"), Throws.InstanceOf<TimeoutException>().Or.InstanceOf<CacheBackendException>().With.Property(nameof(CacheBackendException.Unreachable)).True);
        Assert.That(Assert.Throws<CacheBackendException>(() => cache.Get<string>("k"))!.CircuitOpen, Is.True);

        // The held traffic goes on (late answers of commands that timed out decide nothing); the probe's read, and all
        // after it, are held again once sent, which tells the test the probe claimed the breaker.
        _proxy.Release();
        _proxy.HoldWhenSent("sync-probe");
        _time.Advance(s_open);
        var probe = Task.Run(() => cache.Get<string>("sync-probe"));
        Assert.That(await Task.WhenAny(_proxy.MarkerHeld.Task, Task.Delay(s_limit)), Is.SameAs(_proxy.MarkerHeld.Task), "the sync probe was sent");
        for (var i = 0; i < 4; i++)
        {
            RefusedAtOnce(cache.GetAsync<string>("k"));
            Assert.That(Assert.Throws<CacheBackendException>(() => cache.Exists("k"))!.CircuitOpen, Is.True, "sync callers too");
        }

        Assert.That(async () => await probe, Throws.InstanceOf<TimeoutException>().Or.InstanceOf<CacheBackendException>());
        Assert.That(Assert.Throws<CacheBackendException>(() => cache.Get<string>("k"))!.CircuitOpen, Is.True, "reopened");
        Assert.That((Logged(14), Logged(15)), Is.EqualTo((1, 0)));

        _proxy.Release();
        var back = Stopwatch.StartNew();
        while (true)
        {
            // The client may still be catching up with what the proxy held (or reconnecting): a sync probe that times
            // out again reopens it for one more duration, as above.
            _time.Advance(s_open);
            try
            {
                Assert.That(cache.Get<string>("k"), Is.EqualTo("v"), "the sync probe closes it");
                break;
            }
            catch (Exception down) when (down is TimeoutException or CacheBackendException { Unreachable: true } && back.Elapsed < s_limit)
            {
            }
        }

        Assert.That(cache.Get<string>("k"), Is.EqualTo("v"));
        Assert.That((Logged(14), Logged(15)), Is.EqualTo((1, 1)), "one outage, one pair");
    }
}
