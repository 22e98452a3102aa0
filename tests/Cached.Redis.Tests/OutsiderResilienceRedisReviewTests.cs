using System.Diagnostics;
using Cached.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Redis.Tests;

/// <summary>
/// An outsider's review of GetOrSet's resilience options while a real redis-server of the test's own goes away and
/// comes back: fail-open, fail-safe, the exception types of direct commands, and two levels with a backplane whose L2
/// is down. Each test runs its own server on a free loopback port, so stopping it affects no other test.
/// </summary>
[NonParallelizable]
public sealed class OutsiderResilienceRedisReviewTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(4);

    private static readonly CacheEntryOptions s_failSafe = new()
    {
        Ttl = TimeSpan.FromSeconds(10),
        FailSafe = TimeSpan.FromSeconds(60),
        FailSafeThrottle = TimeSpan.FromSeconds(5),
    };

    private readonly List<IAsyncDisposable> _disposables = [];
    private RecordingLogs _logs = null!;

    [SetUp]
    public void SetUp() => CachedLogging.LoggerFactory = _logs = new RecordingLogs();

    [TearDown]
    public async Task TearDown()
    {
        CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
        await _disposables.DisposeAllAsync();
    }

    private RedisCache Redis(RedisServer server, FakeTimeProvider time, string space, TimeSpan? timeout = null)
    {
        var cache = new RedisCache
        {
            ConnectionString = server.ConnectionString + ",abortConnect=false",
            Namespace = space,
            TimeProvider = time,
            Timeout = timeout ?? TimeSpan.FromSeconds(1),
        };
        _disposables.Add(cache);
        return cache;
    }

    private MultiLevelCache Node(RedisServer server, FakeTimeProvider time, string space)
    {
        var node = new MultiLevelCache(
            new SimpleMemoryCache { TimeProvider = time },
            new RedisCache { ConnectionString = server.ConnectionString + ",abortConnect=false", Namespace = space, TimeProvider = time, Timeout = TimeSpan.FromSeconds(1) },
            new RedisBackplane(server.ConnectionString + ",abortConnect=false,name=cached-backplane"));
        _disposables.Add(node);
        return node;
    }

    private static string Space() => "res" + Guid.NewGuid().ToString("N")[..8];

    private static async Task Eventually(Func<Task<bool>> condition, string what, TimeSpan? limit = null)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.That(waited.Elapsed, Is.LessThan(limit ?? s_limit), what);
            await Task.Delay(20);
        }
    }

    [Test]
    public async Task Single_level_with_Redis_down_GetOrSet_fails_open_direct_commands_throw_CacheBackendException_and_it_recovers([Values] bool async)
    {
        using var server = new RedisServer();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var cache = Redis(server, time, Space());
        Assert.That(await cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_failSafe), Is.EqualTo("v1"));

        server.Stop();

        // Fail-open: the read fault is logged and the factory's result returned.
        var answer = async
            ? await cache.GetOrSetAsync("k2", _ => new ValueTask<string>("from factory"), s_failSafe)
            : cache.GetOrSet("k2", _ => "from factory", s_failSafe);
        Assert.That(answer, Is.EqualTo("from factory"));

        // A direct write is not fail-open: the fault reaches the caller as a CacheBackendException, Unreachable.
        var write = async
            ? Assert.CatchAsync<CacheException>(async () => await cache.SetAsync("k3", "x", s_failSafe))
            : Assert.Catch<CacheException>(() => cache.Set("k3", "x", s_failSafe));
        Assert.That(write, Is.TypeOf<CacheBackendException>());
        Assert.That(((CacheBackendException)write!).Unreachable, Is.True);

        // Single level: "it serves no stale value for a cache fault": the factory's own exception propagates.
        time.Advance(TimeSpan.FromSeconds(11));
        Assert.That(async () => async
                ? await cache.GetOrSetAsync<string>("k", _ => throw new InvalidOperationException("source down"), s_failSafe)
                : cache.GetOrSet<string>("k", _ => throw new InvalidOperationException("source down"), s_failSafe),
            Throws.TypeOf<InvalidOperationException>().With.Message.EqualTo("source down"));

        server.Start();
        await Eventually(async () =>
        {
            var calls = 0;
            await cache.GetOrSetAsync("after", _ => { calls++; return new ValueTask<int>(5); }, s_failSafe);
            await cache.GetOrSetAsync("after", _ => { calls++; return new ValueTask<int>(6); }, s_failSafe);
            return calls == 0 || (calls == 1 && await cache.GetAsync<int>("after") == 5);
        }, "GetOrSet caches again once the server is back", TimeSpan.FromSeconds(4.5));
    }

    [Test]
    public async Task The_stale_value_read_before_Redis_went_away_is_served_when_the_factory_fails_meanwhile([Values] bool async)
    {
        // The call's read of the stale entry must not time out while the server is up: a read fault leaves no last
        // value, and the source's exception is then the answer (as the single-level test above asserts). Under load on
        // 2 cores the sync read took more than the usual 1 s; with the server stopped, commands fail at once anyway.
        using var server = new RedisServer();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var cache = Redis(server, time, Space(), TimeSpan.FromSeconds(10));
        await cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_failSafe);
        time.Advance(TimeSpan.FromSeconds(11));
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var call = async
            ? cache.GetOrSetAsync<string>("k", async _ =>
            {
                started.TrySetResult();
                await gate.Task;
                throw new InvalidOperationException("source down");
            }, s_failSafe).AsTask()
            : Task.Run(() => cache.GetOrSet<string>("k", _ =>
            {
                started.TrySetResult();
                gate.Task.GetAwaiter().GetResult();
                throw new InvalidOperationException("source down");
            }, s_failSafe));
        await started.Task.WaitAsync(s_limit);
        server.Stop();
        gate.SetResult();

        // The write-back of the throttle cannot reach Redis; that cache fault must not replace the last value.
        Assert.That(await call.WaitAsync(s_limit), Is.EqualTo("v1"));
    }

    [Test]
    public async Task A_factory_result_whose_write_fails_because_Redis_went_away_is_still_returned([Values] bool async)
    {
        using var server = new RedisServer();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var cache = Redis(server, time, Space());
        await cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_failSafe);
        time.Advance(TimeSpan.FromSeconds(11));
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var call = async
            ? cache.GetOrSetAsync<string>("k", async _ =>
            {
                started.TrySetResult();
                await gate.Task;
                return "v2";
            }, s_failSafe).AsTask()
            : Task.Run(() => cache.GetOrSet<string>("k", _ =>
            {
                started.TrySetResult();
                gate.Task.GetAwaiter().GetResult();
                return "v2";
            }, s_failSafe));
        await started.Task.WaitAsync(s_limit);
        server.Stop();
        gate.SetResult();

        Assert.That(await call.WaitAsync(s_limit), Is.EqualTo("v2"));
    }

    [Test]
    public async Task Two_levels_with_L2_down_a_stale_L1_copy_answers_a_failing_factory_and_a_working_one_wins([Values] bool async)
    {
        using var server = new RedisServer();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var node = Node(server, time, Space());
        Assert.That(await node.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_failSafe), Is.EqualTo("v1"));
        Assert.That(node.IsInL1("k"), Is.True);
        time.Advance(TimeSpan.FromSeconds(11));

        server.Stop();

        var served = async
            ? await node.GetOrSetAsync<string>("k", _ => throw new InvalidOperationException("source down"), s_failSafe)
            : node.GetOrSet<string>("k", _ => throw new InvalidOperationException("source down"), s_failSafe);
        Assert.That(served, Is.EqualTo("v1"), "the stale L1 copy is the last value");
        Assert.That(_logs.Ids, Does.Contain(30), string.Join("\n", _logs.Messages));

        // Without a copy in L1, the factory's failure goes to the caller.
        Assert.That(async () => async
                ? await node.GetOrSetAsync<string>("none", _ => throw new InvalidOperationException("source down"), s_failSafe)
                : node.GetOrSet<string>("none", _ => throw new InvalidOperationException("source down"), s_failSafe),
            Throws.TypeOf<InvalidOperationException>());

        // The served copy is fresh again in L1 for the throttle (as it would be in L2 with L2 up): a hit meanwhile.
        var throttled = async
            ? await node.GetOrSetAsync("k", _ => new ValueTask<string>("v2"), s_failSafe)
            : node.GetOrSet("k", _ => "v2", s_failSafe);
        Assert.That(throttled, Is.EqualTo("v1"));
        time.Advance(TimeSpan.FromSeconds(6));

        var fresh = async
            ? await node.GetOrSetAsync("k", _ => new ValueTask<string>("v2"), s_failSafe)
            : node.GetOrSet("k", _ => "v2", s_failSafe);
        Assert.That(fresh, Is.EqualTo("v2"), "a factory that works gives its value while L2 is down");
    }

    [Test]
    public async Task Two_levels_with_L2_down_a_fresh_L1_copy_is_a_hit_without_the_factory([Values] bool async)
    {
        using var server = new RedisServer();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var node = Node(server, time, Space());
        await node.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_failSafe);
        server.Stop();
        var calls = 0;

        var hit = async
            ? await node.GetOrSetAsync("k", _ => { calls++; return new ValueTask<string>("v2"); }, s_failSafe)
            : node.GetOrSet("k", _ => { calls++; return "v2"; }, s_failSafe);

        Assert.That(hit, Is.EqualTo("v1"));
        Assert.That(calls, Is.Zero);
    }

    [Test]
    public async Task Two_levels_a_soft_timeout_with_L2_down_answers_the_stale_L1_copy()
    {
        using var server = new RedisServer();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var node = Node(server, time, Space());
        var options = s_failSafe with { SoftTimeout = TimeSpan.FromSeconds(1) };
        await node.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), options);
        time.Advance(TimeSpan.FromSeconds(11));
        server.Stop();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var call = node.GetOrSetAsync<string>("k", async _ =>
        {
            started.TrySetResult();
            await gate.Task;
            return "v2";
        }, options).AsTask();
        await started.Task.WaitAsync(s_limit);
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.That(await call.WaitAsync(s_limit), Is.EqualTo("v1"));
        gate.SetResult();
    }

    [Test]
    public async Task The_fail_safe_throttle_in_the_Redis_entry_holds_off_another_process_as_well()
    {
        using var server = new RedisServer();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var space = Space();
        var a = Redis(server, time, space);
        var b = Redis(server, time, space);
        await a.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_failSafe);
        time.Advance(TimeSpan.FromSeconds(11));
        Assert.That(await a.GetOrSetAsync<string>("k", _ => throw new InvalidOperationException("source down"), s_failSafe), Is.EqualTo("v1"));

        var calls = 0;
        Assert.That(await b.GetOrSetAsync("k", _ => { calls++; return new ValueTask<string>("b's"); }, s_failSafe), Is.EqualTo("v1"));
        Assert.That(calls, Is.Zero, "within the throttle the other process does not call the source");
        time.Advance(TimeSpan.FromSeconds(6));
        Assert.That(await b.GetOrSetAsync("k", _ => { calls++; return new ValueTask<string>("b's"); }, s_failSafe), Is.EqualTo("b's"));
    }

    [Test]
    public async Task Two_nodes_the_throttle_written_back_by_one_node_holds_off_the_other_node()
    {
        using var server = new RedisServer();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var space = Space();
        var a = Node(server, time, space);
        var b = Node(server, time, space);
        await a.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_failSafe);
        Assert.That(await b.GetOrSetAsync("k", _ => new ValueTask<string>("b's"), s_failSafe), Is.EqualTo("v1"));
        time.Advance(TimeSpan.FromSeconds(11));
        Assert.That(await a.GetOrSetAsync<string>("k", _ => throw new InvalidOperationException("source down"), s_failSafe), Is.EqualTo("v1"));

        var calls = 0;
        Assert.That(await b.GetOrSetAsync("k", _ => { calls++; return new ValueTask<string>("b's"); }, s_failSafe), Is.EqualTo("v1"));
        Assert.That(calls, Is.Zero, "the throttle is in L2's entry: the other node holds off too");
    }

    [Test]
    public async Task Two_nodes_an_eager_refresh_on_one_node_is_visible_on_the_other()
    {
        using var server = new RedisServer();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var space = Space();
        var a = Node(server, time, space);
        var b = Node(server, time, space);
        var eager = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), EagerRefresh = 0.5 };
        await a.GetOrSetAsync("k", _ => new ValueTask<int>(1), eager);
        // A's write publishes a message that may drop the copy B takes first (by design): read until B holds one.
        await Eventually(async () => await b.GetOrSetAsync("k", _ => new ValueTask<int>(9), eager) == 1 && b.IsInL1("k"), "B holds a copy of 1");
        time.Advance(TimeSpan.FromSeconds(6));

        Assert.That(await a.GetOrSetAsync("k", _ => new ValueTask<int>(2), eager), Is.EqualTo(1));
        await Eventually(async () => await b.GetAsync<int>("k") == 2, "node B still serves the value from before A's refresh");
    }

    [Test]
    public async Task An_eager_refresh_that_finds_another_process_holding_the_lease_is_skipped()
    {
        using var server = new RedisServer();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var space = Space();
        var a = Redis(server, time, space);
        var b = Redis(server, time, space);
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), EagerRefresh = 0.5, Lease = TimeSpan.FromSeconds(30) };
        await a.GetOrSetAsync("k", _ => new ValueTask<int>(1), options);
        time.Advance(TimeSpan.FromSeconds(6));
        var aStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.That(await a.GetOrSetAsync("k", async _ =>
        {
            aStarted.TrySetResult();
            await aGate.Task;
            return 2;
        }, options), Is.EqualTo(1));
        await aStarted.Task.WaitAsync(s_limit);

        var bCalls = 0;
        Assert.That(await b.GetOrSetAsync("k", _ => { Interlocked.Increment(ref bCalls); return new ValueTask<int>(3); }, options), Is.EqualTo(1));
        await Task.Delay(200);
        Assert.That(Volatile.Read(ref bCalls), Is.Zero, "the other process holds the lease: B's refresh is skipped");
        aGate.SetResult();
        await Eventually(async () => await b.GetAsync<int>("k") == 2, "A's refresh lands");
    }

    [Test]
    public async Task A_caller_waiting_on_another_process_s_lease_leaves_at_once_when_its_token_cancels()
    {
        using var server = new RedisServer();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var space = Space();
        var a = Redis(server, time, space);
        var b = Redis(server, time, space);
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), FailSafe = TimeSpan.FromSeconds(60), Lease = TimeSpan.FromSeconds(30) };
        var aStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = a.GetOrSetAsync("k", async _ =>
        {
            aStarted.TrySetResult();
            await aGate.Task;
            return 1;
        }, options).AsTask();
        await aStarted.Task.WaitAsync(s_limit);

        using var cts = new CancellationTokenSource();
        var bCalls = 0;
        var waiting = b.GetOrSetAsync("k", _ => { Interlocked.Increment(ref bCalls); return new ValueTask<int>(2); }, options, cancellationToken: cts.Token).AsTask();
        await Task.Delay(100);
        Assert.That(waiting.IsCompleted, Is.False, "B waits for A's lease");
        cts.Cancel();
        var left = await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromSeconds(2))) == waiting;
        aGate.SetResult();

        Assert.That(left, Is.True, "B still waited after its token cancelled");
        Assert.CatchAsync<OperationCanceledException>(async () => await waiting);
        Assert.That(await first.WaitAsync(s_limit), Is.EqualTo(1));
        Assert.That(await b.GetOrSetAsync("k", _ => { Interlocked.Increment(ref bCalls); return new ValueTask<int>(2); }, options), Is.EqualTo(1));
        Assert.That(bCalls, Is.Zero);
    }

    [Test]
    public async Task A_plain_entry_written_by_another_client_is_fresh_for_a_fail_safe_reader_while_it_exists()
    {
        using var server = new RedisServer();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var space = Space();
        var cache = Redis(server, time, space);
        await using var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
        await admin.GetDatabase().StringSetAsync(space + ":k", "\"from python\"");
        time.Advance(TimeSpan.FromMinutes(5));
        var calls = 0;

        Assert.That(await cache.GetOrSetAsync("k", _ => { calls++; return new ValueTask<string>("factory"); }, s_failSafe), Is.EqualTo("from python"));
        Assert.That(calls, Is.Zero);
    }

    public static IEnumerable<TestCaseData> UnreadablePayloads()
    {
        yield return new TestCaseData(new byte[] { 0x00, 0xCA, 0xC4, 0xED, 0x01 }).SetName("Unreadable_payload_truncated_header");
        yield return new TestCaseData(new byte[] { 0x00, 0xCA, 0xC4, 0xED }).SetName("Unreadable_payload_magic_only");
        var future = new byte[40];
        new byte[] { 0x00, 0xCA, 0xC4, 0xED, 0x09, 0x00 }.CopyTo(future, 0);
        yield return new TestCaseData(future).SetName("Unreadable_payload_unknown_version");
        yield return new TestCaseData("{not json"u8.ToArray()).SetName("Unreadable_payload_bad_json");
    }

    [TestCaseSource(nameof(UnreadablePayloads))]
    public async Task An_unreadable_payload_fails_open_to_the_factory_whose_value_replaces_it(byte[] payload)
    {
        using var server = new RedisServer();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var space = Space();
        var cache = Redis(server, time, space);
        await using var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
        await admin.GetDatabase().StringSetAsync(space + ":k", payload);

        Assert.That(await cache.GetOrSetAsync("k", _ => new ValueTask<string>("factory"), s_failSafe), Is.EqualTo("factory"));
        Assert.That(cache.GetOrSet("k", _ => "again", s_failSafe), Is.EqualTo("factory"), "the factory's value was stored over the unreadable one");
    }

    [Test]
    public async Task Two_levels_with_L2_down_the_failing_source_is_called_about_once_per_throttle([Values] bool async)
    {
        // resilience.md: "The entry is written back fresh for FailSafeThrottle, so the next calls are hits and a failing
        // source is called about once per throttle"; multilevel.md: with L2 down, the stale L1 copy is answered "as with
        // L2 up".
        using var server = new RedisServer();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var node = Node(server, time, Space());
        await node.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_failSafe);
        time.Advance(TimeSpan.FromSeconds(11));
        server.Stop();
        var calls = 0;
        ValueTask<string> Failing(CancellationToken _)
        {
            calls++;
            throw new InvalidOperationException("source down");
        }

        string FailingSync(CancellationToken _)
        {
            calls++;
            throw new InvalidOperationException("source down");
        }

        for (var i = 0; i < 5; i++)
        {
            Assert.That(async ? await node.GetOrSetAsync("k", Failing, s_failSafe) : node.GetOrSet("k", FailingSync, s_failSafe), Is.EqualTo("v1"));
        }

        Assert.That(calls, Is.EqualTo(1), "within one 5 s throttle the failing source was called on every request");

        // Past the throttle the source is asked again, once, and the last value still answers.
        time.Advance(TimeSpan.FromSeconds(6));
        Assert.That(async ? await node.GetOrSetAsync("k", Failing, s_failSafe) : node.GetOrSet("k", FailingSync, s_failSafe), Is.EqualTo("v1"));
        Assert.That(calls, Is.EqualTo(2));
    }

    [Test]
    public async Task A_process_waiting_on_the_lease_of_one_whose_factory_fails_gets_the_throttled_last_value()
    {
        using var server = new RedisServer();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var space = Space();
        var a = Redis(server, time, space);
        var b = Redis(server, time, space);
        var options = s_failSafe with { Lease = TimeSpan.FromSeconds(30) };
        await a.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), options);
        time.Advance(TimeSpan.FromSeconds(11));
        var aStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = a.GetOrSetAsync<string>("k", async _ =>
        {
            aStarted.TrySetResult();
            await aGate.Task;
            throw new InvalidOperationException("source down");
        }, options).AsTask();
        await aStarted.Task.WaitAsync(s_limit);
        var bCalls = 0;
        var waiting = b.GetOrSetAsync("k", _ => { Interlocked.Increment(ref bCalls); return new ValueTask<string>("b's"); }, options).AsTask();
        await Task.Delay(100);
        aGate.SetResult();

        Assert.That(await first.WaitAsync(s_limit), Is.EqualTo("v1"));
        Assert.That(await waiting.WaitAsync(s_limit), Is.EqualTo("v1"), "B takes the throttled last value A wrote back");
        Assert.That(bCalls, Is.Zero, "the throttle holds B off the failing source");
    }
}
