using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Backends;

/// <summary>
/// Regressions of an outside review of the in-process backend: an atomic raw pop, <c>Exists</c> as use of an entry
/// for <c>MaxEntries</c>, and sweep intervals a timer cannot keep refused when set.
/// </summary>
public sealed class SimpleMemoryCacheReviewTests
{
    [Test]
    public void Exists_counts_as_use_of_an_entry_for_the_bound([Values] bool raw)
    {
        // Regression: Exists did not mark the entry used, so the entry it had just looked at was evicted first.
        var time = new FakeTimeProvider();
        using var cache = new SimpleMemoryCache { MaxEntries = 10, TimeProvider = time };
        for (var i = 0; i < 10; i++)
        {
            cache.Set($"k{i}", i);
            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        Assert.That(raw ? cache.Raw("contains", "k0") : cache.Exists("k0"), Is.EqualTo(true));
        time.Advance(TimeSpan.FromMilliseconds(1));
        cache.Set("k10", 10);

        Assert.That(cache.TryGet<int>("k0", out _), Is.True, "the entry Exists looked at last is kept");
        Assert.That(cache.TryGet<int>("k1", out _), Is.False, "the least recently used goes instead");
    }

    [Test]
    public void Concurrent_raw_pops_of_one_key_hand_its_value_to_one_of_them()
    {
        // Regression: a pop read the entry, then removed whatever the key held: two pops both got the value.
        const int Keys = 100_000;
        using var cache = new SimpleMemoryCache();
        for (var i = 0; i < Keys; i++)
        {
            cache.Set("k" + i, i);
        }

        var popped = 0;
        using var start = new Barrier(4);
        var poppers = Enumerable.Range(0, 4).Select(_ => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait();
                for (var i = 0; i < Keys; i++)
                {
                    if (cache.Raw("pop", "k" + i) is not null)
                    {
                        Interlocked.Increment(ref popped);
                    }
                }
            },
            TaskCreationOptions.LongRunning)).ToArray();

        Assert.That(Task.WaitAll(poppers, TimeSpan.FromSeconds(60)), Is.True);
        Assert.That(popped, Is.EqualTo(Keys), "each value went to exactly one pop");
        Assert.That(cache.Count, Is.Zero);
    }

    [Test]
    public void A_raw_pop_never_removes_a_value_written_after_it_read()
    {
        // Regression: the pop's remove was unconditional, so a Set between its read and its remove was lost while the
        // pop returned the older value.
        const int Keys = 100_000;
        using var cache = new SimpleMemoryCache();
        for (var i = 0; i < Keys; i++)
        {
            cache.Set("k" + i, "old");
        }

        var answers = new object?[Keys];
        RaceOverKeys(Keys, i => answers[i] = cache.Raw("pop", "k" + i), i => cache.Set("k" + i, "new"));
        var lost = Enumerable.Range(0, Keys).Count(i => !Equals(answers[i], "new") && !Equals(cache.Get<string>("k" + i), "new"));
        Assert.That(lost, Is.Zero, "the newer value is either what the pop returned or still stored");
    }

    [Test]
    public void A_sweep_interval_a_timer_cannot_keep_is_refused_when_set()
    {
        // Regression: 50 days was taken, then the first write with a TTL threw (the timer's limit is about 49.7 days)
        // and was lost; under 1 ms the timer fired once and never swept again.
        foreach (var interval in new[] { TimeSpan.FromDays(50), TimeSpan.MaxValue, TimeSpan.FromTicks(5_000), TimeSpan.FromTicks(1) })
        {
            var refused = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SimpleMemoryCache { SweepInterval = interval }, interval.ToString());
            Assert.That(refused!.ParamName, Is.EqualTo("SweepInterval"));
            Assert.That(refused.Message, Does.Contain("1 ms"));
        }

        using var longest = new SimpleMemoryCache { SweepInterval = TimeSpan.FromMilliseconds(uint.MaxValue - 1) };
        Assert.That(longest.Set("k", 1, TimeSpan.FromMinutes(1)), Is.True, "the longest interval a timer keeps starts its sweep");
        using var shortest = new SimpleMemoryCache { SweepInterval = TimeSpan.FromMilliseconds(1) };
        Assert.That(shortest.Set("k", 1, TimeSpan.FromMinutes(1)), Is.True);
    }

    [Test]
    public void Clearing_a_namespace_removes_its_keys_whoever_wrote_them()
    {
        // Regression: Set("user:1") and Set("1", namespace: "user") are one entry (docs/caches.md), but Clear("user")
        // removed only entries written under the namespace, where Redis removes every key of its prefix.
        using var cache = new SimpleMemoryCache();
        cache.Set("user:1", "plain");
        cache.Set("users:1", "other namespace");
        cache.Set("user", "no namespace");
        using var scoped = new SimpleMemoryCache { Namespace = "ns" };
        scoped.Raw("set", scoped.BuildKey("b"), 2);

        cache.Clear("user");
        scoped.Clear();

        Assert.That(cache.Get<string>("1", @namespace: "user"), Is.Null);
        Assert.That(cache.Exists("user:1"), Is.False);
        Assert.That(cache.Get<string>("users:1"), Is.EqualTo("other namespace"));
        Assert.That(cache.Get<string>("user"), Is.EqualTo("no namespace"));
        Assert.That(scoped.Exists("b"), Is.False, "a raw write of a namespaced key is that namespace's");
    }

    [Test]
    public void With_a_KeyBuilder_a_namespace_clear_removes_what_was_written_under_it()
    {
        // Keys a KeyBuilder composes have no known prefix: the namespace an entry was written under decides.
        using var cache = new SimpleMemoryCache { KeyBuilder = static (key, ns) => ns is null ? key : key + "@" + ns };
        cache.Set("1", "in user", @namespace: "user");
        cache.Set("user:2", "plain");

        cache.Clear("user");

        Assert.That(cache.Exists("1", "user"), Is.False);
        Assert.That(cache.Get<string>("user:2"), Is.EqualTo("plain"));
    }

    [Test]
    public void A_raw_setdefault_returns_the_value_that_stands_even_while_another_thread_pops()
    {
        // From the review of the atomic pop: setdefault added if absent, then read in a second step, so a pop between
        // the two made it return null, which a dict's setdefault never does.
        const int Keys = 100_000;
        using var cache = new SimpleMemoryCache();
        for (var i = 0; i < Keys; i++)
        {
            cache.Set("k" + i, "old");
        }

        var answers = new object?[Keys];
        RaceOverKeys(Keys, i => answers[i] = cache.Raw("setdefault", "k" + i, "default"), i => cache.Raw("pop", "k" + i));
        Assert.That(answers.Count(static a => a is null), Is.Zero, "each setdefault answered the value it kept or found");
        Assert.That(answers.All(static a => a is "old" or "default"), Is.True);
    }

    /// <summary>Two threads started together, each doing its step for every index in order, so that they meet on each key.</summary>
    private static void RaceOverKeys(int keys, Action<int> first, Action<int> second)
    {
        using var start = new Barrier(2);
        var racers = new[] { first, second }.Select(step => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait();
                for (var i = 0; i < keys; i++)
                {
                    step(i);
                }
            },
            TaskCreationOptions.LongRunning)).ToArray();

        Assert.That(Task.WaitAll(racers, TimeSpan.FromSeconds(60)), Is.True);
    }
}
