using System.Collections.Concurrent;
using Cached.Serializers;
using Cached.Tests.Backends;
using Cached.Tests.Commands;

namespace Cached.Tests.Reliability;

/// <summary>
/// Many threads mixing every command on one cache: counters stay exact, Add wins once per key, no command throws,
/// and no read ever returns a value of the wrong type or a torn value. Bounded in operations, seeded, on every backend.
/// </summary>
[TestFixtureSource(typeof(Backends.Backends), nameof(Backends.Backends.All))]
public sealed class ConcurrencyStressTests(CacheBackend backend) : CommandFixture(backend)
{
    private const int Threads = 8;

    public sealed record Payload(int Writer, int Sequence, string Check)
    {
        public static Payload Of(int writer, int sequence) => new(writer, sequence, $"{writer}/{sequence}");

        public bool IsWhole => Check == $"{Writer}/{Sequence}";
    }

    /// <summary>Fewer operations on a server, where each is a round trip.</summary>
    private int OperationsPerThread => Backend.Name == "memory" ? 5_000 : 300;

    private BaseCache JsonCache() => NewCache(new CacheOptions { Namespace = "stress", Serializer = new JsonSerializer() });

    private static void RunThreads(Action<int, Random> work)
    {
        var errors = new ConcurrentQueue<Exception>();
        using var start = new ManualResetEventSlim();
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            start.Wait();
            try
            {
                work(t, new Random(1_000 + t));
            }
            catch (Exception ex)
            {
                errors.Enqueue(ex);
            }
        })).ToList();
        threads.ForEach(static thread => thread.Start());
        start.Set();
        threads.ForEach(static thread => Assert.That(thread.Join(TimeSpan.FromMinutes(2)), Is.True, "a thread hung"));
        Assert.That(errors, Is.Empty, string.Join(Environment.NewLine, errors.Take(3)));
    }

    [Test]
    public void Concurrent_increments_add_up_exactly()
    {
        var cache = JsonCache();
        var operations = OperationsPerThread;

        RunThreads((_, random) =>
        {
            for (var i = 0; i < operations; i++)
            {
                cache.Increment("counter:" + (i % 4), 1);
            }
        });

        var total = Enumerable.Range(0, 4).Sum(i => cache.Get<long>("counter:" + i));
        Assert.That(total, Is.EqualTo((long)Threads * operations));
    }

    [Test]
    public void Add_wins_exactly_once_per_key_under_contention()
    {
        var cache = JsonCache();
        var keys = OperationsPerThread / 10;
        var winners = new ConcurrentDictionary<int, ConcurrentBag<int>>();

        RunThreads((thread, _) =>
        {
            for (var k = 0; k < keys; k++)
            {
                try
                {
                    cache.Add("once:" + k, thread);
                    winners.GetOrAdd(k, static _ => []).Add(thread);
                }
                catch (KeyExistsException)
                {
                    // Someone else won this key.
                }
            }
        });

        Assert.Multiple(() =>
        {
            Assert.That(winners.Keys, Has.Count.EqualTo(keys));
            Assert.That(winners.Values.Select(static bag => bag.Count), Has.All.EqualTo(1));
            for (var k = 0; k < keys; k++)
            {
                Assert.That(cache.Get<int>("once:" + k), Is.EqualTo(winners[k].Single()), "the stored value is the winner's");
            }
        });
    }

    [Test]
    public void Mixed_commands_never_throw_and_reads_see_only_whole_values_of_the_right_type()
    {
        var cache = JsonCache();
        var operations = OperationsPerThread;
        var reads = 0L;
        var torn = new ConcurrentQueue<string>();

        RunThreads((thread, random) =>
        {
            for (var i = 0; i < operations; i++)
            {
                var slot = random.Next(16);
                switch (random.Next(7))
                {
                    case 0:
                        cache.Set("record:" + slot, Payload.Of(thread, i));
                        break;
                    case 1:
                        cache.MultiSet([
                            new KeyValuePair<string, Payload>("record:" + slot, Payload.Of(thread, i)),
                            new KeyValuePair<string, Payload>("record:" + ((slot + 1) % 16), Payload.Of(thread, i)),
                        ]);
                        break;
                    case 2:
                        cache.Delete("record:" + slot);
                        break;
                    case 3:
                        try
                        {
                            cache.Add("record:" + slot, Payload.Of(thread, i));
                        }
                        catch (KeyExistsException)
                        {
                            // The slot was taken: Add's documented answer.
                        }

                        break;
                    case 4:
                        cache.Increment("number:" + slot);
                        break;
                    case 5:
                        foreach (var value in cache.MultiGet<Payload>(["record:" + slot, "record:" + ((slot + 5) % 16)]))
                        {
                            Interlocked.Increment(ref reads);
                            if (value is not null && !value.IsWhole)
                            {
                                torn.Enqueue(value.ToString());
                            }
                        }

                        break;
                    default:
                        Interlocked.Increment(ref reads);
                        if (cache.TryGet<Payload>("record:" + slot, out var one) && (one is null || !one.IsWhole))
                        {
                            torn.Enqueue(one?.ToString() ?? "null");
                        }

                        _ = cache.Get<long>("number:" + slot);
                        break;
                }
            }
        });

        TestContext.Out.WriteLine($"{Backend.Name}: {Threads} threads x {operations} operations, {reads} record reads");
        Assert.That(torn, Is.Empty);
    }

    [Test]
    public async Task Concurrent_async_increments_and_multi_gets_are_exact_too()
    {
        var cache = JsonCache();
        var operations = OperationsPerThread;

        await Task.WhenAll(Enumerable.Range(0, Threads).Select(async _ =>
        {
            for (var i = 0; i < operations; i++)
            {
                await cache.IncrementAsync("async-counter");
                if (i % 10 == 0)
                {
                    var values = await cache.MultiGetAsync<long>(["async-counter", "async-counter"]);
                    Assert.That(values[0], Is.GreaterThan(0));
                }
            }
        }));

        Assert.That(await cache.GetAsync<long>("async-counter"), Is.EqualTo((long)Threads * operations));
    }
}
