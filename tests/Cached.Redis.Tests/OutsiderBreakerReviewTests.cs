using System.Diagnostics;
using Cached.Redis.Tests.Infrastructure;
using static Cached.Redis.Tests.Infrastructure.BreakerChecks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// An outside review of <see cref="BaseCache.CircuitBreakerDuration"/> against the promises of docs/resilience.md
/// ("Circuit breaker"), the way a user meets them: a real redis-server per test behind a loopback proxy that holds what
/// the client sends (a hung server) or cuts the connections (a killed one); <c>INFO commandstats</c> counts what reached
/// the server. Races are forced with the proxy and a test clock, never with sleeps.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderBreakerReviewTests
{
    // On the test clock: long enough that the client's own (real-time) timeout never fires first.
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_open = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(30);
    private RedisServer _server = null!;
    private LoopbackProxy _proxy = null!;
    private ConnectionMultiplexer _admin = null!;
    private FakeTimeProvider _time = null!;
    private RecordingLogs _logs = null!;
    private readonly List<IAsyncDisposable> _disposables = [];

    [SetUp]
    public async Task Start()
    {
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

    /// <summary>A cache through the proxy whose timeout and breaker run on the test clock.</summary>
    private RedisCache OnTestClock()
    {
        var cache = new RedisCache { ConnectionString = _proxy.ConnectionString, Timeout = s_timeout, CircuitBreakerDuration = s_open, TimeProvider = _time };
        _disposables.Add(cache);
        return cache;
    }

    /// <summary>A cache through the proxy on the real clock (for a killed server, whose client reconnects in real time).</summary>
    private RedisCache OnRealClock()
    {
        // Seconds, not milliseconds: a stall of a loaded CI machine between the fault and the checks that follow must not
        // let the breaker half-open first (the next read would then be a probe to the cut server, not a refusal).
        var cache = new RedisCache { ConnectionString = _proxy.ConnectionString, Timeout = TimeSpan.FromSeconds(2), CircuitBreakerDuration = TimeSpan.FromSeconds(5) };
        _disposables.Add(cache);
        return cache;
    }

    /// <summary>How many times the server has run the commands named.</summary>
    private long Calls(params string[] commands) => CommandCalls(_admin.GetServer(_server.ConnectionString), commands);

    private int Logged(int eventId) => _logs.Ids.Count(id => id == eventId);

    /// <summary>Holds the server and opens the breaker with one read that times out on the test clock.</summary>
    private Task OpenWithATimeout(RedisCache cache) => BreakerChecks.OpenWithATimeout(cache, _proxy, _time, s_timeout, "k");

    [Test]
    public async Task A_probe_its_caller_cancels_says_nothing_of_the_server_and_leaves_the_breaker_open()
    {
        var cache = OnTestClock();
        await cache.SetAsync("k", "v");
        await OpenWithATimeout(cache);
        _time.Advance(s_open);

        using var cancel = new CancellationTokenSource();
        var probe = cache.GetAsync<string>("k", cancellationToken: cancel.Token);
        Assert.That(probe.IsCompleted, Is.False, "the probe went to the hung server");
        await cancel.CancelAsync();
        Assert.That(async () => await probe, Throws.InstanceOf<OperationCanceledException>());

        // The server did not answer: the caller gave up. Docs: only an answer closes it; a probe that never ends lets
        // another through after one more duration.
        RefusedAtOnce(cache.GetAsync<string>("k"));
        Assert.That(Logged(15), Is.EqualTo(0), "event 15 says the server answers again; it did not");

        _proxy.Release();
        _time.Advance(s_open);
        Assert.That(await cache.GetAsync<string>("k"), Is.EqualTo("v"), "the next probe finds it back");
        Assert.That((Logged(14), Logged(15)), Is.EqualTo((1, 1)));
    }

    [Test]
    public async Task A_command_sent_before_it_opened_and_cancelled_by_its_caller_while_the_probe_is_out_does_not_close_it()
    {
        // Neither the probe nor an answer: the caller of a command that was waiting on the hung server gave up.
        var cache = OnTestClock();
        await cache.SetAsync("k", "v");
        _proxy.Hold();
        var opener = cache.GetAsync<string>("k");
        _time.Advance(s_timeout / 2);
        using var cancel = new CancellationTokenSource();
        var waiting = cache.GetAsync<string>("k", cancellationToken: cancel.Token);
        _time.Advance(s_timeout / 2);
        Assert.That(async () => await opener, Throws.InstanceOf<TimeoutException>(), "opens it");
        _time.Advance(s_open);
        var probe = cache.GetAsync<string>("k");
        Assert.That(probe.IsCompleted, Is.False, "the probe is out");

        await cancel.CancelAsync();
        Assert.That(async () => await waiting, Throws.InstanceOf<OperationCanceledException>());
        RefusedAtOnce(cache.GetAsync<string>("k"));
        Assert.That(Logged(15), Is.EqualTo(0));

        _proxy.Release();
        Assert.That(await probe, Is.EqualTo("v"));
        Assert.That(await cache.GetAsync<string>("k"), Is.EqualTo("v"), "the probe's answer closed it");
    }

    [Test]
    public async Task Sixty_four_callers_after_the_duration_send_exactly_one_probe_and_sync_callers_are_refused_meanwhile()
    {
        var unobserved = 0;
        void Count(object? sender, UnobservedTaskExceptionEventArgs e) => Interlocked.Increment(ref unobserved);
        TaskScheduler.UnobservedTaskException += Count;
        try
        {
            var cache = OnTestClock();
            await cache.SetAsync("k", "v");
            var getsBefore = Calls("get");
            var sets = Calls("set");
            await OpenWithATimeout(cache);
            _time.Advance(s_open);

            var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var callers = Enumerable.Range(0, 64).Select(_ => Task.Run(async () =>
            {
                await go.Task;
                var call = cache.GetAsync<string>("k");
                return (Sent: !call.IsCompleted, Read: call.AsTask());
            })).ToArray();
            go.SetResult();
            var started = await Task.WhenAll(callers);

            Assert.That(started.Count(static s => s.Sent), Is.EqualTo(1), "one probe; the others refused at once");
            foreach (var refused in started.Where(static s => !s.Sent))
            {
                var refusal = Assert.ThrowsAsync<CacheBackendException>(async () => await refused.Read)!;
                Assert.That(refusal.CircuitOpen, Is.True);
            }

            for (var i = 0; i < 8; i++)
            {
                Assert.That(Assert.Throws<CacheBackendException>(() => cache.Get<string>("k"))!.CircuitOpen, Is.True, "a sync caller is refused while the probe is out");
                Assert.That(Assert.Throws<CacheBackendException>(() => cache.Set("k", "w"))!.CircuitOpen, Is.True);
            }

            _proxy.Release();
            Assert.That(await started.Single(static s => s.Sent).Read, Is.EqualTo("v"));
            Assert.That(Calls("get"), Is.EqualTo(getsBefore + 2), "the read that timed out and the probe; nothing else reached the server");
            Assert.That(Calls("set"), Is.EqualTo(sets), "the refused sync writes never reached the server");
            Assert.That(await cache.GetAsync<string>("k"), Is.EqualTo("v"));
            Assert.That((Logged(14), Logged(15)), Is.EqualTo((1, 1)));
        }
        finally
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            TaskScheduler.UnobservedTaskException -= Count;
        }

        Assert.That(unobserved, Is.EqualTo(0), "no task's fault went unobserved");
    }

    [Test]
    public async Task A_probe_that_times_out_reopens_it_without_a_second_event_14_and_its_successor_closes_it()
    {
        var cache = OnTestClock();
        await cache.SetAsync("k", "v");
        await OpenWithATimeout(cache);
        for (var round = 0; round < 3; round++)
        {
            _time.Advance(s_open);
            var probe = cache.GetAsync<string>("k");
            Assert.That(probe.IsCompleted, Is.False, "round " + round + ": the probe is out");
            RefusedAtOnce(cache.GetAsync<string>("k"));
            _time.Advance(s_timeout);
            Assert.That(async () => await probe, Throws.InstanceOf<TimeoutException>());
            var refusal = RefusedAtOnce(cache.GetAsync<string>("k"));
            Assert.That(refusal.InnerException, Is.InstanceOf<TimeoutException>(), "the failed probe's fault");
        }

        _proxy.Release();
        _time.Advance(s_open);
        Assert.That(await cache.GetAsync<string>("k"), Is.EqualTo("v"));
        Assert.That((Logged(14), Logged(15)), Is.EqualTo((1, 1)), "one outage: opened once, closed once");
    }

    [Test]
    public async Task A_killed_server_opens_it_as_a_hung_one_does_and_a_probe_closes_it_once_it_is_back()
    {
        var cache = OnRealClock();
        await cache.SetAsync("k", "v");
        _proxy.Cut();

        var down = Assert.ThrowsAsync(Is.InstanceOf<Exception>(), async () => await cache.GetAsync<string>("k"));
        Assert.That(down, Is.InstanceOf<TimeoutException>().Or.InstanceOf<CacheBackendException>().With.Property(nameof(CacheBackendException.Unreachable)).True, down!.ToString());
        var refusal = RefusedAtOnce(cache.GetAsync<string>("k"));
        Assert.That(refusal.InnerException, Is.SameAs(down), "the fault that opened it");
        Assert.That(Assert.Throws<CacheBackendException>(() => cache.Exists("k"))!.CircuitOpen, Is.True);
        Assert.That(Logged(14), Is.EqualTo(1));

        _proxy.Restore();
        Assert.That(await ProbeUntilClosed(cache, "k"), Is.EqualTo("v"));
        Assert.That(await cache.GetAsync<string>("k"), Is.EqualTo("v"));
        Assert.That(Logged(15), Is.EqualTo(1));
    }

    [Test]
    public async Task Two_processes_find_out_on_their_own_the_one_whose_link_hangs_opens_the_other_goes_on()
    {
        var hung = OnTestClock();
        var healthy = new RedisCache { ConnectionString = _server.ConnectionString, Timeout = s_timeout, CircuitBreakerDuration = s_open, TimeProvider = _time };
        _disposables.Add(healthy);
        await hung.SetAsync("k", "v");
        await OpenWithATimeout(hung);

        await healthy.SetAsync("k", "w");
        Assert.That(await healthy.GetAsync<string>("k"), Is.EqualTo("w"), "the breaker is per instance");
        RefusedAtOnce(hung.GetAsync<string>("k"));

        _proxy.Release();
        _time.Advance(s_open);
        Assert.That(await hung.GetAsync<string>("k"), Is.EqualTo("w"), "its probe reads what the other wrote");
    }

    [Test]
    public async Task The_release_behind_a_lock_take_that_timed_out_reaches_the_server_and_no_lock_is_left()
    {
        var cache = OnTestClock();
        await cache.SetAsync("warm", "x");
        var scripts = Calls("eval", "evalsha");
        _proxy.Hold();

        var taking = RedLock.AcquireAsync(cache, "job", TimeSpan.FromMinutes(10)).AsTask();
        Assert.That(taking.IsCompleted, Is.False);
        _time.Advance(s_timeout);
        try
        {
            await taking; // timed out: the caller goes on without the lock, or sees the timeout
        }
        catch (TimeoutException)
        {
        }

        RefusedAtOnce(cache.GetAsync<string>("k"));

        _proxy.Release();
        _time.Advance(s_open);
        Assert.That(await cache.GetAsync<string>("k"), Is.Null, "the probe, behind the take and its release on the connection");
        Assert.That(Calls("eval", "evalsha"), Is.GreaterThan(scripts), "the compare-and-delete was sent past the open breaker");
        Assert.That(await _admin.GetDatabase().KeyExistsAsync("job-lock"), Is.False, "no lock left for the whole lease");
        await using var again = await RedLock.AcquireAsync(cache, "job", TimeSpan.FromMinutes(10));
        Assert.That(again.IsAcquired, Is.True);
    }

    [Test]
    public async Task A_lock_take_while_it_is_open_fails_at_once_without_reaching_the_server()
    {
        var cache = OnTestClock();
        await cache.SetAsync("k", "v");
        await OpenWithATimeout(cache);
        var sets = Calls("set");

        var taking = RedLock.AcquireAsync(cache, "job", TimeSpan.FromMinutes(10));
        Assert.That(taking.IsCompleted, Is.True, "no wait for the server");
        var refusal = Assert.CatchAsync(async () => await taking);
        Assert.That(refusal, Is.InstanceOf<CacheBackendException>().With.Property(nameof(CacheBackendException.CircuitOpen)).True);
        _proxy.Release();
        _time.Advance(s_open);
        Assert.That(await cache.GetAsync<string>("k"), Is.EqualTo("v"));
        Assert.That(Calls("set"), Is.EqualTo(sets), "the refused take never reached the server");
    }

    [Test]
    public async Task A_two_level_alias_from_configuration_puts_the_breaker_on_L2_and_L1_keeps_answering()
    {
        Caches.SetConfig(new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes($$"""
            {
              "Cached": {
                "default": { "Cache": "Cached.SimpleMemoryCache" },
                "two": {
                  "Cache": "Cached.MultiLevelCache",
                  "L1": { "Cache": "Cached.SimpleMemoryCache" },
                  "L2": { "Cache": "Cached.Redis.RedisCache", "ConnectionString": "{{_proxy.ConnectionString}}", "Timeout": 0.5, "CircuitBreakerDuration": 5 }
                }
              }
            }
            """))).Build().GetSection("Cached"));
        // Disposed at the end (Caches.Reset does not): its kept writes would otherwise be retried in the background
        // into later tests, whose activity listeners saw those writes as cache sets under no caller.
        await using var node = (MultiLevelCache)Caches.Get("two");
        var l2 = (RedisCache)node.L2;
        Assert.That((l2.Timeout, l2.CircuitBreakerDuration), Is.EqualTo(((TimeSpan?)TimeSpan.FromSeconds(0.5), (TimeSpan?)TimeSpan.FromSeconds(5))));
        await node.SetAsync("a", "1");
        _proxy.Hold();

        await node.SetAsync("a", "2"); // times out on L2, opens its breaker
        var write = node.SetAsync("b", "3");
        Assert.That(write.IsCompleted, Is.True, "refused on L2 at once, kept for later");
        await write;
        Assert.That((await node.GetAsync<string>("a"), await node.GetAsync<string>("b")), Is.EqualTo(("2", "3")));
        RefusedAtOnce(l2.GetAsync<string>("a"));
    }

    [TestCase("0", null)]
    [TestCase("2.5", 2.5)]
    public void The_duration_binds_from_configuration_zero_meaning_none(string json, double? seconds)
    {
        Caches.SetConfig(new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes($$"""
            { "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache" }, "r": { "Cache": "Cached.Redis.RedisCache", "ConnectionString": "{{_proxy.ConnectionString}}", "CircuitBreakerDuration": {{json}} } } }
            """))).Build().GetSection("Cached"));
        Assert.That(((BaseCache)Caches.Get("r")).CircuitBreakerDuration, Is.EqualTo(seconds is { } s ? TimeSpan.FromSeconds(s) : (TimeSpan?)null));
    }

    [Test]
    public void A_negative_duration_in_configuration_is_refused_naming_the_property()
    {
        var thrown = Assert.Catch(() => ConfigureThenGet(new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes($$"""
            { "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache" }, "r": { "Cache": "Cached.Redis.RedisCache", "ConnectionString": "{{_proxy.ConnectionString}}", "CircuitBreakerDuration": -1 } } }
            """))).Build().GetSection("Cached")));
        var messages = string.Join(" | ", Chain(thrown!).Select(static e => e.Message));
        Assert.That(messages, Does.Contain("CircuitBreakerDuration"));
    }

    /// <summary>Sets the configuration, then gets alias <c>r</c>: a cache may be made at either step.</summary>
    private static void ConfigureThenGet(IConfiguration configuration)
    {
        Caches.SetConfig(configuration);
        _ = Caches.Get("r");
    }

    private static IEnumerable<Exception> Chain(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }

    [Test]
    public async Task A_read_through_and_a_generated_method_run_their_bodies_at_once_while_it_is_open()
    {
        var cache = OnTestClock();
        Caches.AddInstance(BreakerSvc.Alias, cache);
        var svc = new BreakerSvc();
        Assert.That(await svc.OneAsync(1), Is.EqualTo("v1-1"));
        await OpenWithATimeout(cache);
        var gets = Calls("get", "mget");

        var tagged = svc.TaggedAsync(3);
        Assert.That(tagged.IsCompleted, Is.True, "tag records refused too");
        Assert.That(await tagged, Does.StartWith("t3-"));
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), FailSafe = TimeSpan.FromHours(1), EagerRefresh = 0.5 };
        var read = cache.GetOrSetAsync("k", static _ => ValueTask.FromResult("fresh"), options);
        Assert.That(read.IsCompleted, Is.True);
        Assert.That(await read, Is.EqualTo("fresh"));
        _proxy.Release();
        _time.Advance(s_open);
        Assert.That(await svc.OneAsync(1), Is.EqualTo("v1-1"), "a hit again once a probe closed it");
        Assert.That(Calls("get", "mget"), Is.EqualTo(gets + 2), "the read that timed out and the probe");
    }

    [Test]
    public async Task A_late_timeout_of_a_command_sent_before_it_opened_does_not_swallow_the_probe_s_answer()
    {
        // A duration shorter than the timeout: a command sent before the breaker opened can still be waiting when the
        // probe goes. Docs: "one that times out late does not keep it open longer", and the probe's answer closes it.
        var cache = OnTestClock();
        await cache.SetAsync("k", "v");
        _proxy.Hold();
        var first = cache.GetAsync<string>("k");
        _time.Advance(s_timeout / 2);
        var second = cache.GetAsync<string>("k");
        _time.Advance(s_timeout / 2);
        Assert.That(async () => await first, Throws.InstanceOf<TimeoutException>(), "opens it");
        _time.Advance(s_open);
        var probe = cache.GetAsync<string>("k");
        Assert.That(probe.IsCompleted, Is.False, "the probe is out");
        _time.Advance(s_timeout / 2 - s_open);
        Assert.That(async () => await second, Throws.InstanceOf<TimeoutException>(), "the late timeout");

        _proxy.Release();
        Assert.That(await probe, Is.EqualTo("v"), "the server answered the probe");
        var after = cache.GetAsync<string>("k");
        Assert.That(after.IsCompleted && after.IsFaulted, Is.False, "closed by the probe's answer, not refused");
        Assert.That(await after, Is.EqualTo("v"));
    }

    [Test]
    public async Task After_a_probe_its_caller_cancelled_a_tagged_call_does_not_wait_on_the_hung_server()
    {
        // No probe is at the server any more: its caller gave up. Tag records go through only while a probe is out.
        var cache = OnTestClock();
        Caches.AddInstance(BreakerSvc.Alias, cache);
        var svc = new BreakerSvc();
        await cache.SetAsync("k", "v");
        await OpenWithATimeout(cache);
        _time.Advance(s_open);
        using var cancel = new CancellationTokenSource();
        var probe = cache.GetAsync<string>("k", cancellationToken: cancel.Token);
        await cancel.CancelAsync();
        Assert.That(async () => await probe, Throws.InstanceOf<OperationCanceledException>());

        var tagged = svc.TaggedAsync(5);
        var atOnce = tagged.IsCompleted;
        _proxy.Release();
        _time.Advance(s_timeout);
        Assert.That(await tagged, Does.StartWith("t5-"));
        Assert.That(atOnce, Is.True, "a tagged call while the breaker is open waits on no server");
    }

    [Test]
    public async Task A_tagged_call_whose_entry_read_is_the_probe_hits_though_its_tags_read_beside_it_met_the_breaker_open()
    {
        // The call starts reading its tags before its entry: that read meets the breaker open and is refused, then the
        // entry's read is the probe, finds the server back and closes it. The tags are read again: the call is a hit,
        // not a fault that starts an outage (whose skipped write would make the next call a miss too).
        var cache = OnTestClock();
        Caches.AddInstance(BreakerSvc.Alias, cache);
        var svc = new BreakerSvc();
        Assert.That(await svc.TaggedAsync(9), Is.EqualTo("t9-1"));
        await OpenWithATimeout(cache);
        _proxy.Release();
        _time.Advance(s_open);

        Assert.That(await svc.TaggedAsync(9), Is.EqualTo("t9-1"), "a hit");
        Assert.That(svc.Calls, Is.EqualTo(1));
    }
}
