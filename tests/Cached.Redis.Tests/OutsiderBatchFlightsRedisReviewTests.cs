using System.Collections.Concurrent;
using System.Diagnostics;
using Cached.Redis.Tests.Infrastructure;
using Cached.Runtime;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// An outsider's review of single flight across overlapping [MultiCached] batches on a real redis-server (standalone and
/// cluster through <see cref="SharedRedis"/>) and on two levels: fail-safe and tags with overlap, a tag invalidated
/// while a batch waits. Races forced with gates; every wait bounded.
/// </summary>
[TestFixture(false)]
[TestFixture(true)]
[NonParallelizable]
public sealed class OutsiderBatchFlightsRedisReviewTests(bool cluster)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(4);

    private ConnectionMultiplexer _connection = null!;
    private RedisCache _cache = null!;
    private string _space = null!;
    private readonly ConcurrentQueue<string[]> _calls = new();
    private TaskCompletionSource _gate = null!;
    private string? _failKey;

    [SetUp]
    public void SetUp()
    {
        _connection = ConnectionMultiplexer.Connect((cluster ? SharedRedis.Cluster.ConnectionString : SharedRedis.Server.ConnectionString) + ",name=outsider-batch-flights");
        _space = "obf" + Guid.NewGuid().ToString("N")[..8];
        _cache = new RedisCache { Connection = _connection, Namespace = _space };
        _calls.Clear();
        _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _failKey = null;
    }

    [TearDown]
    public void TearDown()
    {
        _cache.Clear(_space);
        _cache.Dispose();
        _connection.Dispose();
    }

    private MultiCachedMethod<string, string> NewMethod(ICache cache, double failSafe)
        => new(new CachedMethodOptions { Method = "Outsider.RedisBatchFlights.Get", CacheFactory = () => cache, Ttl = 600, FailSafe = failSafe });

    private async ValueTask<IEnumerable<KeyValuePair<string, string>>?> BodyAsync(List<string> missing, CancellationToken ct)
    {
        _calls.Enqueue([.. missing]);
        if (missing.Contains("a"))
        {
            await _gate.Task.WaitAsync(ct);
        }

        if (_failKey is not null && missing.Contains(_failKey))
        {
            throw new InvalidOperationException("source down");
        }

        return missing.ToDictionary(static key => key, static key => "v-" + key);
    }

    private IEnumerable<KeyValuePair<string, string>>? Body(List<string> missing) => BodyAsync(missing, CancellationToken.None).AsTask().GetAwaiter().GetResult();

    private Task<Dictionary<string, string>> Call(bool async, MultiCachedMethod<string, string> method, bool tagged, params string[] keys)
    {
        if (async)
        {
            return tagged
                ? method.InvokeAsync(keys, this, static (_, key) => key, static (self, missing, ct) => self.BodyAsync(missing, ct), null, static (_, key) => ["tag-" + key], CancellationToken.None).AsTask()
                : method.InvokeAsync(keys, this, static (_, key) => key, static (self, missing, ct) => self.BodyAsync(missing, ct), null, CancellationToken.None).AsTask();
        }

        return Task.Run(() => tagged
            ? method.Invoke(keys, this, static (_, key) => key, static (self, missing) => self.Body(missing), null, static (_, key) => ["tag-" + key])
            : method.Invoke(keys, this, static (_, key) => key, static (self, missing) => self.Body(missing)));
    }

    private static Dictionary<string, string> Values(params string[] keys) => keys.ToDictionary(static key => key, static key => "v-" + key);

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.That(waited.Elapsed, Is.LessThan(Patience), "never happened: " + what);
            await Task.Delay(5);
        }
    }

    [Test]
    public async Task Overlapping_batches_with_fail_safe_and_tags_compute_each_key_once_and_leave_no_flight([Values] bool async, [Values] bool tagged)
    {
        var method = NewMethod(_cache, failSafe: 300);
        var first = Call(true, method, tagged, "a", "b");
        await WaitUntil(() => _calls.Count == 1, "first body");
        var second = Call(async, method, tagged, "b", "c");
        await WaitUntil(() => method.WaitingBatches == 1, "second waits for b");
        _gate.SetResult();

        Assert.That(await first.WaitAsync(Patience), Is.EqualTo(Values("a", "b")));
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(Values("b", "c")));
        Assert.That(_calls, Is.EqualTo(new[] { new[] { "a", "b" }, new[] { "c" } }));
        Assert.That(method.WaitingBatches, Is.Zero);

        // No stuck flight: once deleted, b is computed again.
        await _cache.DeleteAsync("b");
        Assert.That(await Call(async, method, tagged, "b").WaitAsync(Patience), Is.EqualTo(Values("b")));
        Assert.That(_calls.Last(), Is.EqualTo(new[] { "b" }));
    }

    [Test]
    public async Task When_the_leader_fails_with_fail_safe_the_waiting_batch_computes_the_key_itself([Values] bool async)
    {
        var method = NewMethod(_cache, failSafe: 300);
        _failKey = "a";
        var first = Call(true, method, true, "a", "b");
        await WaitUntil(() => _calls.Count == 1, "first body");
        var second = Call(async, method, true, "b");
        await WaitUntil(() => method.WaitingBatches == 1, "second waits for b");
        _gate.SetResult();

        Assert.CatchAsync<InvalidOperationException>(() => first.WaitAsync(Patience));
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(Values("b")));
        Assert.That(_calls, Is.EqualTo(new[] { new[] { "a", "b" }, new[] { "b" } }));
        Assert.That(await _cache.GetAsync<string>("b") is not null || await _cache.ExistsAsync("b"), Is.True);
    }

    [Test]
    public async Task A_tag_invalidated_while_a_batch_waits_for_a_key_carrying_it_is_computed_anew([Values] bool async)
    {
        // tags.md: "A caller that joins a computation begun before an invalidation this process made ... computes anew
        // once instead of taking its value."; decorators.md: a batch already waiting for an invalidated key computes it anew.
        var method = NewMethod(_cache, failSafe: 0);
        var first = Call(true, method, true, "a", "b");
        await WaitUntil(() => _calls.Count == 1, "first body");
        var second = Call(async, method, true, "b");
        await WaitUntil(() => method.WaitingBatches == 1, "second waits for b");
        await _cache.InvalidateTagsAsync(["tag-b"]);
        _gate.SetResult();

        Assert.That(await first.WaitAsync(Patience), Is.EqualTo(Values("a", "b")));
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(Values("b")));
        Assert.That(_calls, Is.EqualTo(new[] { new[] { "a", "b" }, new[] { "b" } }), "the waiting batch computes b anew");
    }

    [Test]
    public async Task A_single_key_flight_every_caller_left_takes_no_new_caller_and_its_late_value_does_not_overwrite([Values] bool withOptions)
    {
        // resilience.md: "a caller that comes later then runs the factory anew, without waiting for that one (which, if it
        // ignores its token and finishes, does not store over the newer value)".
        var options = withOptions ? new CacheEntryOptions { FailSafe = TimeSpan.FromMinutes(5), Tags = ["t"] } : null;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var leave = new CancellationTokenSource();
        var old = _cache.GetOrSetAsync("single", async _ =>
        {
            started.TrySetResult();
            await gate.Task; // ignores its token
            return "old";
        }, options, cancellationToken: leave.Token).AsTask();
        await started.Task.WaitAsync(Patience);
        leave.Cancel();
        Assert.CatchAsync<OperationCanceledException>(() => old.WaitAsync(Patience));

        var newer = Task.Run(() => _cache.GetOrSet("single", _ => "new", options));
        Assert.That(await newer.WaitAsync(Patience), Is.EqualTo("new"), "the later caller runs the factory anew without waiting");
        gate.SetResult();
        await Task.Delay(200);
        Assert.That(await _cache.GetAsync<string>("single"), Is.EqualTo("new"), "the abandoned factory does not store over the newer value");
    }

    [Test]
    public async Task Two_levels_overlapping_batches_share_work_and_a_deleted_key_is_recomputed_by_the_waiter([Values] bool async)
    {
        using var levels = new MultiLevelCache(new SimpleMemoryCache(), new RedisCache { Connection = _connection, Namespace = _space });
        var method = NewMethod(levels, failSafe: 300);
        var first = Call(true, method, false, "a", "b", "d");
        await WaitUntil(() => _calls.Count == 1, "first body");
        var second = Call(async, method, false, "b", "c");
        await WaitUntil(() => method.WaitingBatches == 1, "second waits for b");
        var third = Call(async, method, false, "d");
        await WaitUntil(() => method.WaitingBatches == 2, "third waits for d");
        await levels.DeleteAsync("d");
        _gate.SetResult();

        Assert.That(await first.WaitAsync(Patience), Is.EqualTo(Values("a", "b", "d")));
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(Values("b", "c")));
        Assert.That(await third.WaitAsync(Patience), Is.EqualTo(Values("d")));
        Assert.That(_calls, Is.EquivalentTo(new[] { new[] { "a", "b", "d" }, new[] { "c" }, new[] { "d" } }));
        Assert.That(method.WaitingBatches, Is.Zero);
    }
}

/// <summary>
/// The fail-safe throttle kept in L1 alone while L2 is down (multilevel.md "When L2 or the backplane is down"), then
/// an invalidation on another node once L2 and the backplane are back: this node must not go on serving its throttled
/// copy once the backplane delivered the invalidation. Each test runs its own server, so stopping it affects nobody.
/// </summary>
[NonParallelizable]
public sealed class OutsiderThrottleInL1RedisReviewTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(4);

    private static readonly CacheEntryOptions s_failSafe = new()
    {
        Ttl = TimeSpan.FromSeconds(10),
        FailSafe = TimeSpan.FromSeconds(60),
        FailSafeThrottle = TimeSpan.FromSeconds(30),
    };

    private readonly List<IAsyncDisposable> _disposables = [];

    [TearDown]
    public async Task TearDown() => await _disposables.DisposeAllAsync();

    // L2 on one server and the backplane on another: L2 goes down while the backplane stays up, so no reconnect
    // empties L1 (multilevel.md: "that reconnect empties L1") and the throttled copy lives on in L1.
    private MultiLevelCache Node(RedisServer l2, RedisServer backplane, FakeTimeProvider time, string space, out RedisCache level2)
    {
        level2 = new RedisCache { ConnectionString = l2.ConnectionString + ",abortConnect=false,connectRetry=1", Namespace = space, TimeProvider = time, Timeout = TimeSpan.FromSeconds(1) };
        var node = new MultiLevelCache(
            new SimpleMemoryCache { TimeProvider = time },
            level2,
            new RedisBackplane(backplane.ConnectionString + ",abortConnect=false,name=outsider-throttle-backplane"));
        _disposables.Add(node);
        return node;
    }

    private static async Task Eventually(Func<Task<bool>> condition, string what, TimeSpan limit)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.That(waited.Elapsed, Is.LessThan(limit), what);
            await Task.Delay(25);
        }
    }

    /// <summary>Waits until <paramref name="level2"/> answers again after its server restarted.</summary>
    private static Task L2Answers(RedisCache level2) => Eventually(async () =>
    {
        try
        {
            await level2.SetAsync("probe", "p");
            return true;
        }
        catch (Exception)
        {
            return false;
        }
    }, "L2 answers again", TimeSpan.FromSeconds(8));

    [Test]
    public async Task A_delete_on_another_node_after_recovery_ends_the_throttled_L1_copy_of_a_GetOrSet([Values] bool async, [Values("delete", "set", "clear")] string change)
    {
        using var server = new RedisServer();
        using var bus = new RedisServer();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var space = "thr" + Guid.NewGuid().ToString("N")[..8];
        var node = Node(server, bus, time, space, out _);
        var other = Node(server, bus, time, space, out var otherL2);
        await node.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_failSafe);
        time.Advance(TimeSpan.FromSeconds(11));
        server.Stop();
        Assert.That(async
            ? await node.GetOrSetAsync<string>("k", _ => throw new InvalidOperationException("source down"), s_failSafe)
            : node.GetOrSet<string>("k", _ => throw new InvalidOperationException("source down"), s_failSafe), Is.EqualTo("v1"));

        server.Start();
        await L2Answers(otherL2);
        Assert.That(await node.GetOrSetAsync("k", _ => new ValueTask<string>("unexpected"), s_failSafe), Is.EqualTo("v1"), "before the change the throttled L1 copy is a hit");
        switch (change)
        {
            case "delete":
                await other.DeleteAsync("k");
                break;
            case "set":
                await other.SetAsync("k", "v2");
                break;
            default:
                await other.ClearAsync(space);
                break;
        }

        await Eventually(async () => (async
            ? await node.GetOrSetAsync("k", _ => new ValueTask<string>("v2"), s_failSafe)
            : node.GetOrSet("k", _ => "v2", s_failSafe)) == "v2", "the node stops serving its throttled copy once the delete was delivered", TimeSpan.FromSeconds(2));
    }

    [Test]
    public async Task A_delete_on_another_node_after_recovery_ends_the_throttled_L1_copy_of_a_MultiCached_batch()
    {
        using var server = new RedisServer();
        using var bus = new RedisServer();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var space = "thm" + Guid.NewGuid().ToString("N")[..8];
        var node = Node(server, bus, time, space, out _);
        var other = Node(server, bus, time, space, out var otherL2);
        var method = new MultiCachedMethod<string, string>(new CachedMethodOptions { Method = "Outsider.Throttle.Many", CacheFactory = () => node, Ttl = 10, FailSafe = 60, FailSafeThrottle = 30 });
        var answer = "v1";
        var fail = false;
        Task<Dictionary<string, string>> Call() => method.InvokeAsync(["x", "y"], 0, static (_, key) => key, (_, missing, _) => fail
            ? throw new InvalidOperationException("source down")
            : new ValueTask<IEnumerable<KeyValuePair<string, string>>?>(missing.ToDictionary(static key => key, key => answer)), null, CancellationToken.None).AsTask();

        Assert.That(await Call(), Is.EqualTo(new Dictionary<string, string> { ["x"] = "v1", ["y"] = "v1" }));
        time.Advance(TimeSpan.FromSeconds(11));
        server.Stop();
        fail = true;
        Assert.That(await Call().WaitAsync(s_limit), Is.EqualTo(new Dictionary<string, string> { ["x"] = "v1", ["y"] = "v1" }));

        server.Start();
        await L2Answers(otherL2);
        Assert.That((await Call())["x"], Is.EqualTo("v1"), "before the delete the throttled L1 copy is a hit");
        await other.DeleteAsync("x");
        fail = false;
        answer = "v2";
        await Eventually(async () => (await Call())["x"] == "v2", "the node stops serving its throttled copy of x once the delete was delivered", TimeSpan.FromSeconds(2));
    }
}

/// <summary>Generated [MultiCached] methods for the outsider batch-flights review; the bodies are set by the test.</summary>
public partial class OutsiderBatchFlightsSvc
{
    public const string Alias = "outsider-batch-flights";

    public Func<IReadOnlyList<int>, Task<Dictionary<int, string>>> Body { get; set; } =
        static ids => Task.FromResult(ids.ToDictionary(static i => i, static i => "v" + i));

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60, Namespace = "obfg", Tags = new[] { "obfg:{ids}" })]
    public partial Task<Dictionary<int, string>> GetAsync(IReadOnlyList<int> ids, CancellationToken ct = default);

    private Task<Dictionary<int, string>> GetAsyncCore(IReadOnlyList<int> ids, CancellationToken ct) => Body(ids);

    [InvalidateCache(nameof(GetAsync))]
    public partial Task ForgetAsync(int ids, CancellationToken ct = default);

    private Task ForgetAsyncCore(int ids, CancellationToken ct) => Task.CompletedTask;

    [InvalidateTags("obfg:{id}", Alias = Alias)]
    public partial Task ChangeAsync(int id, CancellationToken ct = default);

    private Task ChangeAsyncCore(int id, CancellationToken ct) => Task.CompletedTask;
}

/// <summary>
/// Single flight across overlapping batches through a GENERATED [MultiCached] method on a real redis-server: a waiting
/// batch is answered by the leader, a body's own overlapping call does not hang, and [InvalidateCache] / [InvalidateTags] during a flight make the waiting batch compute the key anew.
/// </summary>
[NonParallelizable]
public sealed class OutsiderBatchFlightsGeneratedReviewTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(4);
    private static int s_ids = Random.Shared.Next(3_000_000, 4_000_000);

    private RedisCache _cache = null!;
    private OutsiderBatchFlightsSvc _svc = null!;
    private readonly ConcurrentQueue<int[]> _calls = new();
    private TaskCompletionSource _gate = null!;

    [SetUp]
    public void SetUp()
    {
        Caches.Reset();
        _cache = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString };
        Caches.AddInstance(OutsiderBatchFlightsSvc.Alias, _cache);
        _calls.Clear();
        _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _svc = new OutsiderBatchFlightsSvc();
    }

    [TearDown]
    public void TearDown()
    {
        Caches.Reset();
        _cache.Dispose();
    }

    private static int NewId() => Interlocked.Increment(ref s_ids);

    /// <summary>A body whose calls including <paramref name="held"/> wait at the gate.</summary>
    private void GateOn(int held) => _svc.Body = async ids =>
    {
        _calls.Enqueue([.. ids]);
        if (ids.Contains(held))
        {
            await _gate.Task;
        }

        return ids.ToDictionary(static i => i, static i => "v" + i);
    };

    private static Dictionary<int, string> Values(params int[] keys) => keys.ToDictionary(static key => key, static key => "v" + key);

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.That(waited.Elapsed, Is.LessThan(Patience), "never happened: " + what);
            await Task.Delay(5);
        }
    }

    [Test]
    public async Task Overlapping_generated_async_batches_ask_the_body_only_for_keys_nobody_computes()
    {
        int a = NewId(), b = NewId(), c = NewId();
        GateOn(a);
        var first = _svc.GetAsync([a, b]);
        await WaitUntil(() => _calls.Count == 1, "first body");
        var second = _svc.GetAsync([b, c, b]);
        await WaitUntil(() => _calls.Count == 2, "second body, for c");
        Assert.That(second.IsCompleted, Is.False, "the second batch waits for b");
        _gate.SetResult();

        Assert.That(await first.WaitAsync(Patience), Is.EqualTo(Values(a, b)));
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(Values(b, c)));
        Assert.That(_calls, Is.EqualTo(new[] { new[] { a, b }, new[] { c } }));
    }

    [Test]
    public async Task A_generated_InvalidateCache_of_a_key_while_a_batch_waits_for_it_makes_that_batch_compute_it_anew()
    {
        // decorators.md: "A key invalidated in this process while it is computed is not waited for: ... and so does a
        // batch already waiting for it."
        int a = NewId(), b = NewId();
        GateOn(a);
        var first = _svc.GetAsync([a, b]);
        await WaitUntil(() => _calls.Count == 1, "first body");
        var second = _svc.GetAsync([b]);
        await Task.Delay(100);
        Assert.That(second.IsCompleted, Is.False, "the second batch waits for b");
        await _svc.ForgetAsync(b);
        _gate.SetResult();

        Assert.That(await first.WaitAsync(Patience), Is.EqualTo(Values(a, b)));
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(Values(b)));
        Assert.That(_calls, Is.EqualTo(new[] { new[] { a, b }, new[] { b } }), "the waiting batch computes b anew");
    }

    [Test]
    public async Task A_generated_InvalidateTags_of_a_key_while_a_batch_waits_for_it_makes_that_batch_compute_it_anew()
    {
        // tags.md: "A caller that joins a computation begun before an invalidation this process made ... computes anew
        // once instead of taking its value."
        int a = NewId(), b = NewId();
        GateOn(a);
        var first = _svc.GetAsync([a, b]);
        await WaitUntil(() => _calls.Count == 1, "first body");
        var second = _svc.GetAsync([b]);
        await Task.Delay(100);
        Assert.That(second.IsCompleted, Is.False, "the second batch waits for b");
        await _svc.ChangeAsync(b);
        _gate.SetResult();

        Assert.That(await first.WaitAsync(Patience), Is.EqualTo(Values(a, b)));
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(Values(b)));
        Assert.That(_calls, Is.EqualTo(new[] { new[] { a, b }, new[] { b } }), "the waiting batch computes b anew");
    }

    [Test]
    public async Task A_generated_body_calling_its_own_method_with_overlapping_keys_does_not_hang()
    {
        int a = NewId(), b = NewId(), c = NewId();
        var inner = new TaskCompletionSource<Dictionary<int, string>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = 0;
        _svc.Body = async ids =>
        {
            _calls.Enqueue([.. ids]);
            if (Interlocked.Increment(ref entered) == 1)
            {
                await Task.Yield();
                inner.SetResult(await _svc.GetAsync([b, c]));
            }

            return ids.ToDictionary(static i => i, static i => "v" + i);
        };

        Assert.That(await _svc.GetAsync([a, b]).WaitAsync(Patience), Is.EqualTo(Values(a, b)));
        Assert.That(await inner.Task.WaitAsync(Patience), Is.EqualTo(Values(b, c)));
    }
}
