using Cached.Runtime;

namespace Cached.Tests.MultiLevel;

/// <summary>Generated methods on a two-level alias: the L1 hit path allocates nothing, a miss fills both levels once.</summary>
[NonParallelizable]
public sealed class MultiLevelCachedMethodTests
{
    private const string Alias = "two_levels";

    [SetUp]
    public void SetUp() => Caches.Reset();

    [TearDown]
    public void TearDown() => Caches.Reset();

    private static CachedMethod<string> Method(ICache cache)
    {
        Caches.AddInstance(Alias, cache);
        return new CachedMethod<string>(new CachedMethodOptions { Method = "Test.Get", Alias = Alias, Ttl = 60 });
    }

    private static ReadOnlySpan<char> Key(Span<char> buffer, int id)
    {
        var writer = new CacheKeyWriter(buffer, "Test.Get");
        writer.Argument(id);
        return writer.Close();
    }

    [TestCase(false, null)]
    [TestCase(true, null)]
    [TestCase(false, "main")]
    [TestCase(true, "main")]
    public void An_L1_hit_allocates_nothing(bool async, string? l2Namespace)
    {
        using var nodes = new Nodes(new SimpleMemoryCache { Namespace = l2Namespace });
        var method = Method(nodes.A);
        Assert.That(method.Invoke(Key(stackalloc char[64], 42), 0, static _ => "body", null), Is.EqualTo("body"));

        var hits = 0;
        var allocated = Allocations.Fewest(() =>
        {
            Span<char> buffer = stackalloc char[64];
            for (var i = 0; i < 100; i++)
            {
                var key = Key(buffer, 42);
                var value = async
                    ? method.InvokeAsync(key, 0, static (_, _) => ValueTask.FromResult("other"), null, CancellationToken.None).Result
                    : method.Invoke(key, 0, static _ => "other", null);
                hits += ReferenceEquals(value, "body") ? 1 : 0;
            }
        });

        Assert.That(allocated, Is.Zero);
        Assert.That(hits, Is.GreaterThanOrEqualTo(100), "every call was an L1 hit");
    }

    [Test]
    public async Task Concurrent_misses_run_the_body_once_and_fill_both_levels()
    {
        using var nodes = new Nodes(new SimpleMemoryCache());
        var method = Method(nodes.A);
        var calls = 0;
        var gate = new TaskCompletionSource();

        var callers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            var key = new CacheKeyWriter(new char[64], "Test.Get");
            key.Argument(7);
            return await method.InvokeAsync(key.Close(), 0, async (_, _) =>
            {
                Interlocked.Increment(ref calls);
                await gate.Task;
                return "computed";
            }, null, CancellationToken.None);
        })).ToArray();
        await Task.Delay(50);
        gate.SetResult();

        Assert.That(await Task.WhenAll(callers), Has.All.EqualTo("computed"));
        Assert.That(calls, Is.EqualTo(1));
        Assert.That(nodes.L2.Get<string>("Test.Get(7)"), Is.EqualTo("computed"));
        Assert.That(nodes.A.L1.Get<string>("Test.Get(7)"), Is.EqualTo("computed"));
    }

    [Test]
    public void A_value_computed_on_one_node_is_read_from_L2_by_another_without_running_its_body()
    {
        using var nodes = new Nodes(new SimpleMemoryCache());
        Caches.AddInstance("node_b", nodes.B);
        var onA = Method(nodes.A);
        var onB = new CachedMethod<string>(new CachedMethodOptions { Method = "Test.Get", Alias = "node_b", Ttl = 60 });

        Assert.That(onA.Invoke(Key(stackalloc char[64], 1), 0, static _ => "from A", null), Is.EqualTo("from A"));
        Assert.That(onB.Invoke(Key(stackalloc char[64], 1), 0, static _ => "from B", null), Is.EqualTo("from A"));
        Assert.That(nodes.B.L1.Get<string>("Test.Get(1)"), Is.EqualTo("from A"));
    }

    [Test]
    public async Task An_L1_miss_after_the_first_call_still_reads_L2_before_running_the_body([Values] bool async)
    {
        // Regression: once a method had resolved its two-level cache, a miss of L1's span read was taken for a miss
        // of the whole cache, so a key another node had computed (or one L1Ttl had dropped) ran the body again.
        using var nodes = new Nodes(new SimpleMemoryCache());
        Caches.AddInstance("node_b", nodes.B);
        var onA = Method(nodes.A);
        var onB = new CachedMethod<string>(new CachedMethodOptions { Method = "Test.Get", Alias = "node_b", Ttl = 60 });
        onB.Invoke("Test.Get(1)", 0, static _ => "from B", null);

        onA.Invoke("Test.Get(2)", 0, static _ => "from A", null);
        var answer = async
            ? await onB.InvokeAsync("Test.Get(2)", 0, static (_, _) => new ValueTask<string>("from B"), null, CancellationToken.None)
            : onB.Invoke("Test.Get(2)", 0, static _ => "from B", null);

        Assert.That(answer, Is.EqualTo("from A"));
    }
}
