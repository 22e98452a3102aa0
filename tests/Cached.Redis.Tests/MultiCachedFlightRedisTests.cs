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
    public async Task Many_concurrent_batches_of_random_keys_compute_each_key_once()
    {
        // No gate: the races between one batch's read, another's landing, store and leaving happen as they come. Without
        // invalidations every key is computed once whatever the interleaving: a batch that misses a key either finds
        // its batch on the board (computing or storing) or reads it again, since that batch stored after its read began.
        var method = NewMethod();
        var computed = new ConcurrentDictionary<string, int>();
        const int Keys = 120;
        var callers = Enumerable.Range(0, 16).Select(caller => Task.Run(async () =>
        {
            var random = new Random(caller);
            for (var call = 0; call < 40; call++)
            {
                var keys = Enumerable.Range(0, 8).Select(_ => "r" + random.Next(Keys)).ToArray();
                var result = await method.InvokeAsync(keys, computed, static (_, key) => key, static async (counts, missing, ct) =>
                {
                    await Task.Yield();
                    foreach (var key in missing)
                    {
                        counts.AddOrUpdate(key, 1, static (_, n) => n + 1);
                    }

                    return missing.ToDictionary(static key => key, static key => "v-" + key);
                }, null, CancellationToken.None);
                Assert.That(result, Is.EqualTo(keys.Distinct().ToDictionary(static key => key, static key => "v-" + key)));
            }
        })).ToArray();

        await Task.WhenAll(callers).WaitAsync(Patience);
        Assert.That(computed.Where(static pair => pair.Value > 1).Select(static pair => $"{pair.Key} x{pair.Value}"), Is.Empty, "keys computed more than once");
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
