using Cached.Runtime;
using StackExchange.Redis;
using StackExchange.Redis.Profiling;

namespace Cached.Redis.Tests;

/// <summary>
/// An outsider's review of <see cref="MultiCachedMethod{TKey, TValue}"/> batches on a real redis-server (standalone and
/// cluster, both loopback): round trips of a large batch, keys in different hash slots, fences left behind by a body
/// that throws or is cancelled, keys a key builder folds together, and an extra key invalidated while the body runs.
/// </summary>
[TestFixture(false)]
[TestFixture(true)]
[NonParallelizable]
public sealed class OutsiderMultiCachedBatchRedisReviewTests(bool cluster)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private ConnectionMultiplexer _connection = null!;
    private RedisCache _cache = null!;
    private string _space = null!;

    private string ConnectionString => cluster ? SharedRedis.Cluster.ConnectionString : SharedRedis.Server.ConnectionString;

    [SetUp]
    public void SetUp()
    {
        _connection = ConnectionMultiplexer.Connect(ConnectionString + ",name=omb-review");
        _space = "omb" + Guid.NewGuid().ToString("N")[..8];
        _cache = new RedisCache { Connection = _connection, Namespace = _space };
    }

    [TearDown]
    public void TearDown()
    {
        _cache.Clear(_space);
        _cache.Dispose();
        _connection.Dispose();
    }

    private MultiCachedMethod<string, string> Method()
        => new(new CachedMethodOptions { Method = "Outsider.RedisBatch.Get", CacheFactory = () => _cache, Ttl = 600 });

    private static Func<object, List<string>, CancellationToken, ValueTask<IEnumerable<KeyValuePair<string, string>>?>> Answer(string prefix, Action<List<string>>? seen = null)
        => (_, missing, _) =>
        {
            seen?.Invoke(missing);
            return new ValueTask<IEnumerable<KeyValuePair<string, string>>?>(missing.ToDictionary(static k => k, k => prefix + k));
        };

    private async Task<int> FenceCountAsync()
    {
        var count = 0;
        foreach (var server in _connection.GetServers().Where(static s => !s.IsReplica))
        {
            await foreach (var key in server.KeysAsync(pattern: _space + ":*"))
            {
                if (key.ToString().Contains("fence", StringComparison.Ordinal))
                {
                    count++;
                }
            }
        }

        return count;
    }

    private static string[] Sent(ProfilingSession session)
        => session.FinishProfiling().Select(static c => c.Command == "EVALSHA" ? "EVAL" : c.Command).ToArray();

    [Test]
    public async Task Ten_thousand_keys_take_one_read_per_slot_group_and_a_warm_batch_is_answered_by_reads_alone()
    {
        var method = Method();
        var keys = Enumerable.Range(0, 10_000).Select(static i => "k" + i).ToArray();
        var calls = 0;
        var body = Answer("v", _ => calls++);
        await method.InvokeAsync<object>(["warm-up"], 0, static (_, k) => k, body, null, CancellationToken.None).AsTask().WaitAsync(Bound);
        calls = 0;

        var session = new ProfilingSession();
        _connection.RegisterProfiler(() => session);
        var cold = await method.InvokeAsync<object>(keys, 0, static (_, k) => k, body, null, CancellationToken.None).AsTask().WaitAsync(Bound);
        var coldSent = Sent(session);
        session = new ProfilingSession();
        var warm = await method.InvokeAsync<object>(keys, 0, static (_, k) => k, body, null, CancellationToken.None).AsTask().WaitAsync(Bound);
        var warmSent = Sent(session);

        Assert.Multiple(() =>
        {
            Assert.That((cold.Count, warm.Count, warm["k9999"], calls), Is.EqualTo((10_000, 10_000, "vk9999", 1)));
            Assert.That(warmSent, Is.All.EqualTo("MGET"), "a warm batch only reads");
            Assert.That(coldSent.Count(static c => c is "GET" or "SET"), Is.Zero, "no command per key: " + string.Join(",", coldSent.Distinct()));
            if (!cluster)
            {
                Assert.That(warmSent, Has.Length.EqualTo(1), "one MGET on a standalone server");
                Assert.That(coldSent, Is.EqualTo(new[] { "MGET", "EVAL", "EVAL" }), "one MGET, one open of the fills, one store");
            }
        });
    }

    [Test]
    public async Task Keys_in_different_hash_slots_are_computed_once_and_then_hit([Values] bool async)
    {
        var method = Method();
        string[] keys = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "alpha"];
        var asked = new List<string>();
        var body = Answer("v", m => asked.Add(string.Join(",", m)));

        Task<Dictionary<string, string>> Call() => async
            ? method.InvokeAsync<object>(keys, 0, static (_, k) => k, body, null, CancellationToken.None).AsTask()
            : Task.Run(() => method.Invoke<object>(keys, 0, static (_, k) => k, (s, m) => body(s, m, CancellationToken.None).Result));

        var cold = await Call().WaitAsync(Bound);
        var warm = await Call().WaitAsync(Bound);

        Assert.That(cold.Keys.Order(StringComparer.Ordinal), Is.EqualTo(new[] { "alpha", "bravo", "charlie", "delta", "echo", "foxtrot" }));
        Assert.That(warm["foxtrot"], Is.EqualTo("vfoxtrot"));
        Assert.That(asked, Is.EqualTo(new[] { "alpha,bravo,charlie,delta,echo,foxtrot" }));
        Assert.That(await FenceCountAsync(), Is.Zero);
    }

    [Test]
    public async Task A_body_that_throws_stores_nothing_and_leaves_no_fence([Values] bool async)
    {
        var method = Method();
        var boom = new InvalidOperationException("down");

        Task<Dictionary<string, string>> call = async
            ? method.InvokeAsync<object>(["x", "y"], boom, static (_, k) => k, static (s, _, _) => throw (Exception)s, null, CancellationToken.None).AsTask()
            : Task.Run(() => method.Invoke<object>(["x", "y"], boom, static (_, k) => k, static (s, _) => throw (Exception)s));

        Assert.That(async () => await call.WaitAsync(Bound), Throws.InvalidOperationException);
        Assert.That(await _cache.ExistsAsync("x") || await _cache.ExistsAsync("y"), Is.False);
        Assert.That(await FenceCountAsync(), Is.Zero);
        Assert.That(((BaseCache)_cache).OpenFills, Is.Zero);
    }

    [Test]
    public async Task Cancelling_while_the_body_runs_stores_nothing_and_leaves_no_fence()
    {
        var method = Method();
        using var cts = new CancellationTokenSource();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var call = method.InvokeAsync<object>(["x", "y"], 0, static (_, k) => k, async (_, missing, ct) =>
        {
            entered.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return missing.ToDictionary(static k => k, static k => k);
        }, null, cts.Token).AsTask();

        await entered.Task.WaitAsync(Bound);
        await cts.CancelAsync();

        Assert.That(async () => await call.WaitAsync(Bound), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(await _cache.ExistsAsync("x") || await _cache.ExistsAsync("y"), Is.False);
        Assert.That(await FenceCountAsync(), Is.Zero);
        Assert.That(((BaseCache)_cache).OpenFills, Is.Zero);
    }

    [Test]
    public async Task Two_keys_a_key_builder_folds_into_one_entry_leave_no_fill_open_in_the_process([Values] bool async)
    {
        var method = Method();

        var result = async
            ? await method.InvokeAsync<object>(["A", "a"], 0, static (_, k) => k.ToLowerInvariant(), Answer("v"), null, CancellationToken.None).AsTask().WaitAsync(Bound)
            : method.Invoke<object>(["A", "a"], 0, static (_, k) => k.ToLowerInvariant(), static (_, m) => m.ToDictionary(static k => k, static k => "v" + k));

        Assert.That(result.Keys.Order(StringComparer.Ordinal), Is.EqualTo(new[] { "A", "a" }));
        Assert.That(await _cache.ExistsAsync("a"), Is.True);
        Assert.That(await FenceCountAsync(), Is.Zero);
        Assert.That(((BaseCache)_cache).OpenFills, Is.Zero, "the fill of the first of the two keys is never closed");
    }

    [Test]
    public async Task An_invalidation_while_the_body_runs_keeps_that_key_out_of_Redis()
    {
        var method = Method();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var call = method.InvokeAsync<object>(["a", "b"], 0, static (_, k) => k, async (_, missing, _) =>
        {
            entered.TrySetResult();
            await release.Task.WaitAsync(Bound);
            return missing.ToDictionary(static k => k, static k => "old-" + k);
        }, null, CancellationToken.None).AsTask();

        await entered.Task.WaitAsync(Bound);
        await method.InvalidateAsync<object>(["a"], 0, static (_, k) => k, CancellationToken.None).AsTask().WaitAsync(Bound);
        release.TrySetResult();
        await call.WaitAsync(Bound);

        Assert.That(await _cache.ExistsAsync("a"), Is.False);
        Assert.That(await _cache.GetAsync<string>("b"), Is.EqualTo("old-b"));
    }

    [Test]
    public async Task An_extra_key_the_body_returns_is_not_stored_stale_after_an_invalidation_while_the_body_ran()
    {
        var method = Method();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var call = method.InvokeAsync<object>(["a"], 0, static (_, k) => k, async (_, _, _) =>
        {
            entered.TrySetResult();
            await release.Task.WaitAsync(Bound);
            return new Dictionary<string, string> { ["a"] = "old-a", ["b"] = "old-b" };
        }, null, CancellationToken.None).AsTask();

        await entered.Task.WaitAsync(Bound);
        await method.InvalidateAsync<object>(["b"], 0, static (_, k) => k, CancellationToken.None).AsTask().WaitAsync(Bound);
        release.TrySetResult();
        await call.WaitAsync(Bound);

        Assert.That(await _cache.ExistsAsync("b"), Is.False, "the invalidation of b came after the body read b's state");
    }
}
