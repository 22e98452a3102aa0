using System.Collections.Concurrent;
using Cached.Runtime;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// Single flight across overlapping <see cref="MultiCachedMethod{TKey, TValue}"/> batches on a real redis-server
/// (standalone and cluster): a key another batch computes is waited for, and one whose computation an invalidation
/// overtook (seen through the batch's fenced fills) is computed anew. Races forced with a gate.
/// </summary>
[TestFixture(false)]
[TestFixture(true)]
[NonParallelizable]
public sealed class MultiCachedFlightRedisTests(bool cluster)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private ConnectionMultiplexer _connection = null!;
    private RedisCache _cache = null!;
    private string _space = null!;
    private readonly ConcurrentQueue<string[]> _calls = new();
    private TaskCompletionSource _gate = null!;

    [SetUp]
    public void SetUp()
    {
        _connection = ConnectionMultiplexer.Connect((cluster ? SharedRedis.Cluster.ConnectionString : SharedRedis.Server.ConnectionString) + ",name=batch-flights");
        _space = "bf" + Guid.NewGuid().ToString("N")[..8];
        _cache = new RedisCache { Connection = _connection, Namespace = _space };
        _calls.Clear();
        _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [TearDown]
    public void TearDown()
    {
        _cache.Clear(_space);
        _cache.Dispose();
        _connection.Dispose();
    }

    private MultiCachedMethod<string, string> NewMethod()
        => new(new CachedMethodOptions { Method = "Tests.RedisBatchFlights.Get", CacheFactory = () => _cache, Ttl = 600 });

    private Task<Dictionary<string, string>> CallAsync(MultiCachedMethod<string, string> method, params string[] keys)
        => method.InvokeAsync(keys, this, static (_, key) => key, static async (self, missing, ct) =>
        {
            self._calls.Enqueue([.. missing]);
            await self._gate.Task.WaitAsync(ct);
            return missing.ToDictionary(static key => key, static key => "v-" + key);
        }, null, CancellationToken.None).AsTask();

    private async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the condition never held");
            await Task.Delay(5);
        }
    }

    [Test]
    public async Task Overlapping_batches_compute_each_key_once_and_every_key_is_stored()
    {
        var method = NewMethod();
        var first = CallAsync(method, "a", "b", "c");
        await WaitUntil(() => _calls.Count == 1);
        var second = CallAsync(method, "b", "c", "d");
        await WaitUntil(() => _calls.Count == 2);
        var third = CallAsync(method, "a", "d");
        await WaitUntil(() => method.WaitingBatches == 1);
        _gate.SetResult();

        Assert.That(await first.WaitAsync(Patience), Has.Count.EqualTo(3));
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(new Dictionary<string, string> { ["b"] = "v-b", ["c"] = "v-c", ["d"] = "v-d" }));
        Assert.That(await third.WaitAsync(Patience), Is.EqualTo(new Dictionary<string, string> { ["a"] = "v-a", ["d"] = "v-d" }));
        Assert.That(_calls, Is.EqualTo(new[] { new[] { "a", "b", "c" }, new[] { "d" } }));
        Assert.That(_cache.MultiGet<string>(["a", "b", "c", "d"]), Is.EqualTo(new[] { "v-a", "v-b", "v-c", "v-d" }));
    }

    [Test]
    public async Task A_key_deleted_while_another_batch_waits_for_it_is_computed_anew_by_the_waiting_batch()
    {
        var method = NewMethod();
        var first = CallAsync(method, "a", "b");
        await WaitUntil(() => _calls.Count == 1);
        var second = CallAsync(method, "b");
        await WaitUntil(() => method.WaitingBatches == 1);
        await _cache.DeleteAsync("b");
        _gate.SetResult();

        await first.WaitAsync(Patience);
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(new Dictionary<string, string> { ["b"] = "v-b" }));
        Assert.That(_calls, Is.EqualTo(new[] { new[] { "a", "b" }, new[] { "b" } }));
        Assert.That(await _cache.GetAsync<string>("b"), Is.EqualTo("v-b"));
    }
}
