using Cached.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// GetOrSet with resilience options against a real redis-server: the stored format, the physical life of a stamped
/// entry, fail-safe and its throttle shared by two "processes" (two caches on two multiplexers), an eager refresh
/// that another process's lease makes needless. Logical time runs on a fake clock; Redis keeps real time.
/// </summary>
[NonParallelizable]
public sealed class RedisResilienceTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);
    private static readonly CacheEntryOptions s_failSafe = new()
    {
        Ttl = TimeSpan.FromSeconds(10),
        FailSafe = TimeSpan.FromSeconds(60),
        FailSafeThrottle = TimeSpan.FromSeconds(5),
    };

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly List<RedisCache> _caches = [];
    private ConnectionMultiplexer _admin = null!;

    [SetUp]
    public async Task Connect() => _admin = await ConnectionMultiplexer.ConnectAsync(SharedRedis.Server.ConnectionString);

    [TearDown]
    public async Task Clean()
    {
        await _admin.GetDatabase().ExecuteAsync("DEL", "resilience:k", "resilience:plain", "resilience:k-lock");
        await _admin.DisposeAsync();
        foreach (var cache in _caches)
        {
            await cache.DisposeAsync();
        }

        _caches.Clear();
    }

    /// <summary>One "process": its own multiplexer (a client name of its own), the shared fake clock.</summary>
    private RedisCache Process(string name, params Plugins.ICachePlugin[] plugins)
    {
        var cache = new RedisCache
        {
            ConnectionString = SharedRedis.Server.ConnectionString + ",name=resilience-" + name,
            Namespace = "resilience",
            TimeProvider = _time,
            Plugins = plugins,
        };
        _caches.Add(cache);
        return cache;
    }

    private static string Fails(CancellationToken _) => throw new InvalidOperationException("source down");

    [Test]
    public async Task A_caller_after_every_caller_of_a_factory_left_runs_its_own_and_the_abandoned_one_does_not_store_over_it([Values] bool withOptions)
    {
        var cache = Process("abandoned");
        var options = withOptions ? s_failSafe : null;
        using var leaves = new CancellationTokenSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var abandoned = cache.GetOrSetAsync("k", async _ =>
        {
            started.TrySetResult();
            await gate.Task; // ignores its token
            return "old";
        }, options, cancellationToken: leaves.Token).AsTask();
        await started.Task.WaitAsync(s_limit);
        leaves.Cancel();
        Assert.CatchAsync<OperationCanceledException>(async () => await abandoned.WaitAsync(s_limit));

        Assert.That(await cache.GetOrSetAsync("k", _ => new ValueTask<string>("new"), options).AsTask().WaitAsync(s_limit), Is.EqualTo("new"));
        gate.SetResult();
        await Task.Delay(200);
        Assert.That(await cache.GetOrSetAsync<string>("k", _ => throw new InvalidOperationException("not a miss"), options), Is.EqualTo("new"));
    }

    [Test]
    public async Task Without_options_the_payload_stays_the_plain_JSON_value_other_clients_read()
    {
        var cache = Process("a");
        await cache.GetOrSetAsync("plain", _ => new ValueTask<string>("v1"), new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10) });

        Assert.That((string?)await _admin.GetDatabase().StringGetAsync("resilience:plain"), Is.EqualTo("\"v1\""));
    }

    [Test]
    public async Task A_fail_safe_entry_is_stamped_and_kept_by_Redis_for_the_time_to_live_plus_FailSafe()
    {
        var cache = Process("a");
        await cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_failSafe);

        var db = _admin.GetDatabase();
        var payload = (byte[])(await db.StringGetAsync("resilience:k"))!;
        Assert.That(payload.Take(4), Is.EqualTo(new byte[] { 0x00, 0xCA, 0xC4, 0xED }), "the stamp's magic");
        Assert.That(System.Text.Encoding.UTF8.GetString(payload, 30, payload.Length - 30), Is.EqualTo("\"v1\""), "after the 30-byte header, the serializer's own payload");
        var ttl = await db.KeyTimeToLiveAsync("resilience:k");
        Assert.That(ttl!.Value.TotalSeconds, Is.InRange(69, 70));
    }

    [Test]
    public async Task A_plain_read_of_a_stamped_entry_sees_its_value_while_fresh_and_a_miss_after()
    {
        var cache = Process("a");
        cache.Set("k", "v1", s_failSafe);

        Assert.That(await cache.GetAsync<string>("k"), Is.EqualTo("v1"));
        _time.Advance(TimeSpan.FromSeconds(11));
        Assert.That((await cache.TryGetAsync<string>("k")).Found, Is.False);
        Assert.That(await cache.ExistsAsync("k"), Is.True, "Redis still keeps it for fail-safe");
    }

    [Test]
    public async Task Fail_safe_and_its_throttle_are_shared_by_two_processes([Values] bool async)
    {
        var first = Process("first");
        var second = Process("second");
        await first.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_failSafe);
        _time.Advance(TimeSpan.FromSeconds(11));
        var secondCalls = 0;
        string Counted(CancellationToken ct)
        {
            secondCalls++;
            return Fails(ct);
        }

        var answer = async ? await second.GetOrSetAsync("k", ct => new ValueTask<string>(Counted(ct)), s_failSafe) : second.GetOrSet("k", Counted, s_failSafe);
        Assert.That(answer, Is.EqualTo("v1"), "the other process's last value");

        var firstCalls = 0;
        Assert.That(first.GetOrSet("k", _ => { firstCalls++; return "v2"; }, s_failSafe), Is.EqualTo("v1"));
        Assert.That((firstCalls, secondCalls), Is.EqualTo((0, 1)), "the throttle written by one process holds for the other");
    }

    [Test]
    public async Task A_fresh_result_that_another_process_s_throttle_kept_out_is_not_traded_for_the_throttled_last_value([Values] bool async)
    {
        // A review found it: a flight whose fill was refused answers with the value that stands, and another process
        // whose factory failed had stored the last value, throttled, through its own fill, which refused this one's.
        // A throttled value is no fresher than the result at hand: the callers get the fresh result.
        var reads = new ReadCounter();
        var first = Process("first", reads);
        var second = Process("second");
        await first.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_failSafe);
        _time.Advance(TimeSpan.FromSeconds(11));
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fresh = async
            ? first.GetOrSetAsync("k", async ct =>
            {
                started.TrySetResult();
                await release.Task.WaitAsync(s_limit, ct);
                return "v2";
            }, s_failSafe).AsTask()
            : Task.Factory.StartNew(() => first.GetOrSet("k", _ =>
            {
                started.TrySetResult();
                release.Task.Wait(s_limit);
                return "v2";
            }, s_failSafe), TaskCreationOptions.LongRunning);
        await started.Task.WaitAsync(s_limit);
        // A waiter in the same process: it finds the entry stale and boards the flight right after its read answers.
        var readsBefore = Volatile.Read(ref reads.Reads);
        var waiter = first.GetOrSetAsync("k", _ => new ValueTask<string>("v3"), s_failSafe).AsTask();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (Volatile.Read(ref reads.Reads) == readsBefore && waited.Elapsed < s_limit)
        {
            await Task.Delay(5);
        }

        await Task.Delay(50);

        Assert.That(await second.GetOrSetAsync("k", ct => new ValueTask<string>(Fails(ct)), s_failSafe), Is.EqualTo("v1"), "the failing process serves the last value and throttles it");
        release.SetResult();

        Assert.That(await fresh.WaitAsync(s_limit), Is.EqualTo("v2"));
        Assert.That(await waiter.WaitAsync(s_limit), Is.EqualTo("v2"), "the waiter takes the flight's result rather than the throttled value");
    }

    [Test]
    public async Task Past_FailSafe_the_exception_propagates()
    {
        var cache = Process("a");
        await cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(1), FailSafe = TimeSpan.FromSeconds(1) });
        await Task.Delay(TimeSpan.FromSeconds(2.2));

        Assert.That(() => cache.GetOrSet("k", Fails, s_failSafe), Throws.InvalidOperationException, "Redis dropped it after Ttl + FailSafe");
    }

    [Test]
    public async Task SoftTimeout_answers_with_the_last_value_and_the_late_result_reaches_Redis()
    {
        var cache = Process("a");
        var soft = s_failSafe with { SoftTimeout = TimeSpan.FromSeconds(1) };
        await cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), soft);
        _time.Advance(TimeSpan.FromSeconds(11));
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);

        var call = cache.GetOrSetAsync("k", _ => new ValueTask<string>(release.Task), soft).AsTask();
        await WaitUntil(async () =>
        {
            _time.Advance(TimeSpan.FromMilliseconds(500));
            await Task.WhenAny(call, Task.Delay(20));
            return call.IsCompleted;
        });

        Assert.That(await call, Is.EqualTo("v1"));
        release.SetResult("v2");
        await WaitUntil(async () => await Process("reader").GetAsync<string>("k") == "v2");
    }

    [Test]
    public async Task An_eager_refresh_is_skipped_where_another_process_holds_the_lease()
    {
        var eager = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), EagerRefresh = 0.5, Lease = TimeSpan.FromSeconds(5) };
        var first = Process("first");
        var second = Process("second");
        await first.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), eager);
        _time.Advance(TimeSpan.FromSeconds(6));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Assert.That(await first.GetOrSetAsync("k", async _ =>
        {
            started.SetResult();
            await release.Task;
            return "v2";
        }, eager), Is.EqualTo("v1"));
        await started.Task.WaitAsync(s_limit);
        var secondCalls = 0;
        Assert.That(await second.GetOrSetAsync("k", _ => { secondCalls++; return new ValueTask<string>("other"); }, eager), Is.EqualTo("v1"));
        await Task.Delay(200);
        Assert.That(secondCalls, Is.Zero, "the first process holds the lease and refreshes");

        release.SetResult();
        await WaitUntil(async () => await second.GetAsync<string>("k") == "v2");
        // The refresh stores its value, then releases the lease: the release may come a moment after the read.
        await WaitUntil(async () => !await first.ExistsAsync("k-lock"));
    }

    private static async Task WaitUntil(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + s_limit;
        while (!await condition())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "timed out waiting");
            await Task.Delay(10);
        }
    }
}
