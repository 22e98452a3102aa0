using Cached.Serializers;
using Cached.Tests.MultiLevel;

namespace Cached.Tests.Tags;

/// <summary>
/// Invalidations racing reads and writes on dedicated threads: a read that starts after an invalidation returned never
/// sees a value computed before it, on one level and on two.
/// </summary>
public sealed class TagLoadTests
{
    private static readonly CacheEntryOptions s_tagged = new() { Ttl = TimeSpan.FromMinutes(5), Tags = ["t", "other"] };

    [Test]
    public void No_read_after_an_invalidation_returns_a_value_computed_before_it_on_one_level()
    {
        using var cache = new SimpleMemoryCache();
        Race(cache, cache);
    }

    [Test]
    public void No_read_after_an_invalidation_returns_a_value_computed_before_it_on_two_levels()
    {
        using var nodes = new Nodes(new SimpleMemoryCache { Serializer = new JsonSerializer() });
        Race(nodes.A, nodes.A);
    }

    [Test]
    public void No_entry_read_after_another_node_s_invalidation_was_computed_before_it()
    {
        // B invalidates; A keeps nothing tagged in L1 without a backplane, so its reads see L2's current state. A's
        // callers that join a computation A began before B's invalidation may get its value (docs/tags.md): what is
        // checked is what the cache holds, read plainly after each GetOrSet.
        var l2 = new SimpleMemoryCache { Serializer = new JsonSerializer() };
        using var a = new MultiLevelCache(new SimpleMemoryCache(), l2);
        using var b = new MultiLevelCache(new SimpleMemoryCache(), l2);
        Race(a, b, static (cache, key, load) =>
        {
            cache.GetOrSet(key, _ => load(), s_tagged);
            return cache.Get<int?>(key);
        });
    }

    /// <summary>Four readers on <paramref name="reader"/>, one invalidator on <paramref name="invalidator"/>, for a fixed number of rounds.</summary>
    private static void Race(ICache reader, ICache invalidator, Func<ICache, string, Func<int>, int?>? read = null)
    {
        read ??= static (cache, key, load) => cache.GetOrSet(key, _ => load(), s_tagged);
        const int Rounds = 2_000;
        var generation = 0;
        var completed = 0;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 4).Select(r => new Thread(() =>
        {
            var i = 0;
            while (!stop.IsCancellationRequested)
            {
                var floor = Volatile.Read(ref completed);
                var key = "k" + (i++ % 3);
                var value = read(reader, key, () => Volatile.Read(ref generation));
                if (value < floor)
                {
                    failures.Enqueue($"{key}: read {value} after invalidation {floor} returned");
                }
            }
        })).ToArray();
        foreach (var thread in readers)
        {
            thread.Start();
        }

        for (var round = 1; round <= Rounds; round++)
        {
            Interlocked.Exchange(ref generation, round);
            invalidator.InvalidateTags("t");
            Volatile.Write(ref completed, round);
            Thread.SpinWait(50);
        }

        stop.Cancel();
        foreach (var thread in readers)
        {
            Assert.That(thread.Join(TimeSpan.FromSeconds(30)), Is.True);
        }

        Assert.That(failures, Is.Empty, string.Join("; ", failures.Take(5)));
    }
}
